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

/// Every config.json field that changes the math of an encoder; how each is spelled and defaulted comes from
/// its `ModelFamily`.
public struct ModelConfig: Sendable, Equatable {
  public var family: ModelFamily
  public var hiddenSize: Int
  /// Width of the embedding tables (`embedding_size`; ELECTRA, ALBERT); equal to `hiddenSize` elsewhere.
  public var embeddingSize: Int
  /// Parameter sets shared across layers (ALBERT's `num_hidden_groups`); `numLayers` when nothing is shared.
  public var layerGroups: Int
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
    family: ModelFamily, hiddenSize: Int, numLayers: Int, numHeads: Int, intermediateSize: Int,
    layerNormEps: Float, maxPositions: Int, typeVocabSize: Int, padTokenId: Int, vocabSize: Int,
    hiddenAct: HiddenActivation = .gelu, architectures: [String] = [], labels: [String] = [],
    embeddingSize: Int? = nil, layerGroups: Int? = nil
  ) {
    self.family = family
    self.hiddenSize = hiddenSize
    self.embeddingSize = embeddingSize ?? hiddenSize
    self.layerGroups = layerGroups ?? numLayers
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
    family: .roberta, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072,
    layerNormEps: 1e-5, maxPositions: 514, typeVocabSize: 1, padTokenId: 1, vocabSize: 50265)

  /// The largest `config.json` read (a config is a few KiB).
  public static let maxFileBytes = 16 << 20
  /// Most labels `num_labels` may name without an `id2label` map.
  public static let maxLabels = 1 << 20
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
    if let t = obj["model_type"], t.stringValue == nil {
      throw SpiqaModelError.badData("\(source): \"model_type\" = \(t.jsonText); expected a string such as \"bert\"")
    }
    let typeName = obj["model_type"]?.stringValue ?? ""
    guard let family = ModelFamily.named(typeName) else {
      throw SpiqaModelError.badData("\(source): \(ModelFamily.refusal(typeName))")
    }
    let d = family.defaults
    func int(_ canonical: String, _ fallback: Int? = nil) throws -> Int {
      let key = family.configKey(canonical)
      if let i = obj[key]?.intValue { return i }
      if obj[key] == nil || obj[key] == .null, let fallback { return fallback }
      throw SpiqaModelError.badData("\(source): \"\(key)\" missing or not an integer")
    }
    let positionType = obj["position_embedding_type"]?.stringValue ?? "absolute"
    guard positionType == "absolute" else {
      throw SpiqaModelError.badData(
        "\(source): position_embedding_type \"\(positionType)\" is not supported; only \"absolute\"")
    }
    if obj["is_decoder"]?.boolValue == true {
      throw SpiqaModelError.badData("\(source): decoder models (is_decoder: true) are not supported")
    }
    let actKey = family.configKey("hidden_act")
    let actName = obj[actKey]?.stringValue ?? d.hiddenAct
    let act: HiddenActivation
    switch actName {
    case "gelu": act = .gelu
    case "gelu_new", "gelu_pytorch_tanh": act = .geluTanh
    case "relu": act = .relu
    default:
      throw SpiqaModelError.badData(
        "\(source): \(actKey) \"\(actName)\" is not supported; expected gelu, gelu_new or relu")
    }
    let eps = obj["layer_norm_eps"]?.doubleValue.map(Float.init) ?? d.layerNormEps
    var labels: [String] = []
    if let map = obj["id2label"]?.objectValue {
      let pairs = map.compactMap { k, v in Int(k).map { ($0, v.stringValue ?? v.jsonText) } }.sorted { $0.0 < $1.0 }
      if pairs.map(\.0) == Array(0..<pairs.count) { labels = pairs.map(\.1) }
    }
    if labels.isEmpty, let n = obj["num_labels"]?.intValue, n > 0 {
      // Beyond any classifier (ImageNet-22k has 21,841 classes): a crafted 10^9 asked for 16 GB of names.
      guard n <= Self.maxLabels else {
        throw SpiqaModelError.badData(
          "\(source): num_labels \(n) is more than \(Self.maxLabels); expected a label count")
      }
      labels = (0..<n).map { "LABEL_\($0)" }
    }
    let hidden = try int("hidden_size"), layers = try int("num_hidden_layers")
    var groups = layers
    if family.layers.sharing == .groups {
      groups = try int("num_hidden_groups", 1)
      let inner = try int("inner_group_num", 1)
      guard inner == 1 else {
        throw SpiqaModelError.badData("\(source): inner_group_num \(inner) is not supported; only 1")
      }
      guard groups >= 1, layers % groups == 0 else {
        throw SpiqaModelError.badData(
          "\(source): num_hidden_groups \(groups) does not divide num_hidden_layers \(layers)")
      }
    }
    self.init(
      family: family, hiddenSize: hidden, numLayers: layers,
      numHeads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
      layerNormEps: eps, maxPositions: try int("max_position_embeddings"),
      typeVocabSize: family.hasTokenTypes ? try int("type_vocab_size", d.typeVocabSize) : 0,
      padTokenId: try int("pad_token_id", d.padTokenId),
      vocabSize: try int("vocab_size"), hiddenAct: act,
      architectures: obj["architectures"]?.stringArray ?? [], labels: labels,
      embeddingSize: family.embeddings.projection == nil ? hidden : try int("embedding_size", hidden),
      layerGroups: groups)
    try validate(source: source)
  }

  /// Checks the sizes are positive and consistent.
  public func validate(source: String = "config") throws {
    let sizes = [("hidden_size", hiddenSize), ("num_hidden_layers", numLayers), ("num_attention_heads", numHeads),
                 ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositions),
                 ("vocab_size", vocabSize), ("embedding_size", embeddingSize), ("num_hidden_groups", layerGroups)]
      + (family.hasTokenTypes ? [("type_vocab_size", typeVocabSize)] : [])
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
    // LayerNorm divides by sqrt(variance + eps): a negative eps gives NaN wherever a row is nearly constant.
    guard layerNormEps.isFinite, layerNormEps >= 0 else {
      throw SpiqaModelError.badData("\(source): layer_norm_eps = \(layerNormEps); expected a finite number ≥ 0")
    }
    guard hiddenSize % numHeads == 0 else {
      throw SpiqaModelError.badData(
        "\(source): hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numHeads)")
    }
    guard padTokenId >= 0, padTokenId < vocabSize else {
      throw SpiqaModelError.badData("\(source): pad_token_id \(padTokenId) outside the vocabulary (\(vocabSize))")
    }
    guard numLayers % layerGroups == 0 else {
      throw SpiqaModelError.badData("\(source): \(layerGroups) layer groups do not divide \(numLayers) layers")
    }
    if family.embeddings.positions == .afterPadding, padTokenId + 2 > maxPositions {
      throw SpiqaModelError.badData(
        "\(source): max_position_embeddings \(maxPositions) too small for \(family) (positions start after pad)")
    }
  }

  /// Longest sequence the position embeddings allow (RoBERTa loses `padTokenId + 1` positions).
  public var maxSequenceLength: Int {
    family.embeddings.positions == .afterPadding ? maxPositions - padTokenId - 1 : maxPositions
  }

  /// `model_type` of the family.
  public var modelType: String { family.modelType }

  /// The parameter set layer `layer` uses (its own, or its ALBERT group).
  public func layerGroup(of layer: Int) -> Int { layer / (numLayers / layerGroups) }
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
