import Foundation
import SpiqaCore

/// Activation function of the feed-forward block (`hidden_act` in config.json).
public enum HiddenActivation: String, Sendable {
  /// Exact GELU, x·Φ(x) with erf (`"gelu"`).
  case gelu
  /// Tanh approximation of GELU (`"gelu_new"`, `"gelu_pytorch_tanh"`).
  case geluTanh = "gelu_new"
  /// max(0, x) (`"relu"`).
  case relu
}

/// Encoder family: decides the embeddings (RoBERTa offsets positions by `padTokenId + 1`) and parameter names.
public enum ModelType: String, Sendable {
  case bert
  case roberta
}

/// Every config.json field that changes the math of a BERT/RoBERTa encoder.
public struct ModelConfig: Sendable, Equatable {
  public var modelType: ModelType
  public var hiddenSize: Int
  public var numLayers: Int
  public var numHeads: Int
  public var intermediateSize: Int
  public var layerNormEps: Float
  public var maxPositions: Int
  public var typeVocabSize: Int
  public var padTokenId: Int
  public var vocabSize: Int
  public var hiddenAct: HiddenActivation
  /// `architectures[]` from config.json, e.g. ["BertForQuestionAnswering"]; may be empty.
  public var architectures: [String]
  /// Class names by index (`id2label`), for sequence classification; empty when absent.
  public var labels: [String]

  /// Head dimension `hiddenSize / numHeads`.
  public var headSize: Int { hiddenSize / numHeads }

  public init(
    modelType: ModelType, hiddenSize: Int, numLayers: Int, numHeads: Int, intermediateSize: Int,
    layerNormEps: Float, maxPositions: Int, typeVocabSize: Int, padTokenId: Int, vocabSize: Int,
    hiddenAct: HiddenActivation = .gelu, architectures: [String] = [], labels: [String] = []
  ) {
    self.modelType = modelType
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.numHeads = numHeads
    self.intermediateSize = intermediateSize
    self.layerNormEps = layerNormEps
    self.maxPositions = maxPositions
    self.typeVocabSize = typeVocabSize
    self.padTokenId = padTokenId
    self.vocabSize = vocabSize
    self.hiddenAct = hiddenAct
    self.architectures = architectures
    self.labels = labels
  }

  /// The roberta-base shape (12 layers × 768, 12 heads, 3072, vocab 50265), used by the benchmark.
  public static let robertaBase = ModelConfig(
    modelType: .roberta, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072,
    layerNormEps: 1e-5, maxPositions: 514, typeVocabSize: 1, padTokenId: 1, vocabSize: 50265)

  /// The largest `config.json` read (a config is a few KiB).
  public static let maxFileBytes = 16 << 20
  /// Upper bounds of the sizes (far above any BERT/RoBERTa checkpoint; docs/robustness.md).
  public static let sizeLimits: [String: Int] = [
    "hidden_size": 1 << 16, "num_hidden_layers": 1024, "num_attention_heads": 1024, "intermediate_size": 1 << 18,
    "max_position_embeddings": 1 << 20, "type_vocab_size": 1 << 16, "vocab_size": 1 << 24,
  ]

  /// Reads `config.json` (a regular file of at most `maxFileBytes`).
  public init(contentsOf path: String) throws {
    let bytes: [UInt8]
    do { bytes = try RegularFile.read(path, limit: Self.maxFileBytes) } catch let e as FileError {
      guard e.kind == .io else { throw SpiqaModelError(e.kind, e.description) }
      throw SpiqaModelError.io("\(path): cannot read the model config; expected a Hugging Face config.json")
    }
    try self.init(json: Data(bytes), source: path)
  }

  /// Parses the bytes of a config.json; `source` names it in errors.
  ///
  /// Sizes may be written as integers or integral floats (`384.0`); absent or null optional fields take their
  /// defaults, and a string field of another type counts as absent.
  public init(json data: Data, source: String = "config.json") throws {
    let root: JSONValue
    do { root = try JSONValue(parsing: [UInt8](data)) } catch {
      throw SpiqaModelError.badData("\(source): not valid JSON (\(error.what) at byte \(error.offset))")
    }
    guard let obj = root.objectValue else {
      throw SpiqaModelError.badData("\(source): expected a JSON object at the top level")
    }
    func int(_ key: String, _ fallback: Int? = nil) throws -> Int {
      if let i = obj[key]?.intValue { return i }
      if obj[key] == nil || obj[key] == .null, let fallback { return fallback }
      throw SpiqaModelError.badData("\(source): \"\(key)\" missing or not an integer")
    }
    let typeName = obj["model_type"]?.stringValue ?? ""
    guard let type = ModelType(rawValue: typeName) else {
      throw SpiqaModelError.badData(
        "\(source): model_type \"\(typeName)\" is not supported; expected \"bert\" or \"roberta\"")
    }
    let positionType = obj["position_embedding_type"]?.stringValue ?? "absolute"
    guard positionType == "absolute" else {
      throw SpiqaModelError.badData(
        "\(source): position_embedding_type \"\(positionType)\" is not supported; only \"absolute\"")
    }
    if obj["is_decoder"]?.boolValue == true {
      throw SpiqaModelError.badData("\(source): decoder models (is_decoder: true) are not supported")
    }
    let actName = obj["hidden_act"]?.stringValue ?? "gelu"
    let act: HiddenActivation
    switch actName {
    case "gelu": act = .gelu
    case "gelu_new", "gelu_pytorch_tanh": act = .geluTanh
    case "relu": act = .relu
    default:
      throw SpiqaModelError.badData(
        "\(source): hidden_act \"\(actName)\" is not supported; expected gelu, gelu_new or relu")
    }
    let eps = obj["layer_norm_eps"]?.doubleValue.map(Float.init) ?? 1e-12
    var labels: [String] = []
    if let map = obj["id2label"]?.objectValue {
      let pairs = map.compactMap { k, v in Int(k).map { ($0, v.stringValue ?? v.jsonText) } }.sorted { $0.0 < $1.0 }
      if pairs.map(\.0) == Array(0..<pairs.count) { labels = pairs.map(\.1) }
    }
    if labels.isEmpty, let n = obj["num_labels"]?.intValue, n > 0 { labels = (0..<n).map { "LABEL_\($0)" } }
    self.init(
      modelType: type, hiddenSize: try int("hidden_size"), numLayers: try int("num_hidden_layers"),
      numHeads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
      layerNormEps: eps, maxPositions: try int("max_position_embeddings"),
      typeVocabSize: try int("type_vocab_size", 2), padTokenId: try int("pad_token_id", type == .roberta ? 1 : 0),
      vocabSize: try int("vocab_size"), hiddenAct: act,
      architectures: obj["architectures"]?.stringArray ?? [], labels: labels)
    try validate(source: source)
  }

  /// Checks the sizes are positive and consistent.
  public func validate(source: String = "config") throws {
    let sizes = [("hidden_size", hiddenSize), ("num_hidden_layers", numLayers), ("num_attention_heads", numHeads),
                 ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositions),
                 ("type_vocab_size", typeVocabSize), ("vocab_size", vocabSize)]
    for (name, v) in sizes where v <= 0 {
      throw SpiqaModelError.badData("\(source): \(name) = \(v); expected a positive integer")
    }
    // Sane bounds before anything is sized from them (a crafted config must not ask for terabytes).
    for (name, v) in sizes {
      let limit = Self.sizeLimits[name] ?? Int.max
      guard v <= limit else {
        throw SpiqaModelError.badData("\(source): \(name) = \(v) is beyond the supported \(limit)")
      }
    }
    guard hiddenSize % numHeads == 0 else {
      throw SpiqaModelError.badData(
        "\(source): hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numHeads)")
    }
    guard padTokenId >= 0, padTokenId < vocabSize else {
      throw SpiqaModelError.badData("\(source): pad_token_id \(padTokenId) outside the vocabulary (\(vocabSize))")
    }
    if modelType == .roberta, padTokenId + 2 > maxPositions {
      throw SpiqaModelError.badData("\(source): max_position_embeddings \(maxPositions) too small for RoBERTa")
    }
  }

  /// Longest sequence the position embeddings allow (RoBERTa loses `padTokenId + 1` positions).
  public var maxSequenceLength: Int {
    modelType == .roberta ? maxPositions - padTokenId - 1 : maxPositions
  }
}

extension ModelConfig {
  /// Floating-point operations of one encoder forward (2 per multiply-add): the dense layers
  /// (Q, K, V, output, FFN) on every token plus QKᵀ and P·V; element-wise work and heads not counted.
  public func forwardFLOPs(batch: Int, seqLen: Int) -> Double {
    let tokens = Double(batch * seqLen), h = Double(hiddenSize), i = Double(intermediateSize)
    let dense = 2 * tokens * (4 * h * h + 2 * h * i)
    let attention = 2 * 2 * Double(batch) * Double(seqLen) * Double(seqLen) * h
    return Double(numLayers) * (dense + attention)
  }
}
