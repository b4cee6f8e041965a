import RealModule
import SpiqaCore

/// Weights of one encoder layer, PyTorch `Linear` layout ([out, in]).
struct LayerWeights: Sendable {
  /// [3·hidden, hidden]: query, key and value weights stacked (one GEMM for all three).
  var qkv: Weight
  /// [3·hidden]
  var qkvBias: Weight
  /// attention.output.dense [hidden, hidden], bias [hidden]
  var attnOut: Weight, attnOutBias: Weight
  /// attention.output.LayerNorm [hidden]
  var attnNormGamma: Weight, attnNormBeta: Weight
  /// intermediate.dense [intermediate, hidden], bias [intermediate]
  var inter: Weight, interBias: Weight
  /// output.dense [hidden, intermediate], bias [hidden]
  var out: Weight, outBias: Weight
  /// output.LayerNorm [hidden]
  var outNormGamma: Weight, outNormBeta: Weight
}

/// Task head parameters found in a checkpoint.
enum HeadWeights: Sendable {
  /// `qa_outputs` [2, hidden] + [2]: start and end logits per token.
  case questionAnswering(weight: Weight, bias: Weight)
  /// BERT: `pooler.dense` (tanh) on the first token, then `classifier` [labels, hidden].
  case bertClassifier(pooler: Weight, poolerBias: Weight, classifier: Weight, classifierBias: Weight)
  /// RoBERTa: `classifier.dense` (tanh) on `<s>`, then `classifier.out_proj` [labels, hidden].
  case robertaClassifier(dense: Weight, denseBias: Weight, outProj: Weight, outProjBias: Weight)
}

/// Every parameter of a BERT/RoBERTa encoder and its optional head.
struct ModelWeights: @unchecked Sendable {
  /// [vocab, hidden], [maxPositions, hidden], [typeVocab, hidden]; kept in their stored dtype and
  /// converted a row at a time (a 50k-row F16 table stays F16 in memory).
  var wordEmbeddings: RawTensor
  var positionEmbeddings: RawTensor
  var tokenTypeEmbeddings: RawTensor
  var embNormGamma: Weight, embNormBeta: Weight
  var layers: [LayerWeights]
  var head: HeadWeights?
}

extension ModelWeights {
  /// Maps the parameter names of BertModel / RobertaModel (with or without the `bert.` / `roberta.` prefix)
  /// and their *ForQuestionAnswering / *ForSequenceClassification variants onto the encoder's weights.
  static func load(from source: WeightSource, config c: ModelConfig, store: WeightStore, origin: String) throws
    -> ModelWeights
  {
    let family = c.modelType.rawValue
    let prefixes = ["\(family).", ""]
    guard let prefix = prefixes.first(where: { source.rawTensor("\($0)embeddings.word_embeddings.weight") != nil })
    else {
      throw SpiqaModelError.badData(
        "\(origin): missing tensor \"\(family).embeddings.word_embeddings.weight\" (also tried without the "
          + "\"\(family).\" prefix); is this a \(family) checkpoint?")
    }
    func raw(_ name: String, _ shape: [Int], prefixed: Bool = true) throws -> RawTensor {
      let full = prefixed ? prefix + name : name
      guard let t = source.rawTensor(full) else {
        throw SpiqaModelError.badData("\(origin): missing tensor \"\(full)\" (expected shape \(shape))")
      }
      guard t.shape == shape else {
        throw SpiqaModelError.badData("\(origin): tensor \"\(full)\" has shape \(t.shape); expected \(shape)")
      }
      return t
    }
    func w(_ name: String, _ shape: [Int], prefixed: Bool = true) throws -> Weight {
      store.floats(try raw(name, shape, prefixed: prefixed))
    }
    let h = c.hiddenSize, i = c.intermediateSize
    let word = try raw("embeddings.word_embeddings.weight", [c.vocabSize, h])
    let pos = try raw("embeddings.position_embeddings.weight", [c.maxPositions, h])
    let type = try raw("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h])
    var layers: [LayerWeights] = []
    for l in 0..<c.numLayers {
      let p = "encoder.layer.\(l)."
      let qkv = try ["query", "key", "value"].map { try raw(p + "attention.self.\($0).weight", [h, h]) }
      let qkvBias = try ["query", "key", "value"].map { try raw(p + "attention.self.\($0).bias", [h]) }
      layers.append(LayerWeights(
        qkv: store.concatenate(qkv), qkvBias: store.concatenate(qkvBias),
        attnOut: try w(p + "attention.output.dense.weight", [h, h]),
        attnOutBias: try w(p + "attention.output.dense.bias", [h]),
        attnNormGamma: try w(p + "attention.output.LayerNorm.weight", [h]),
        attnNormBeta: try w(p + "attention.output.LayerNorm.bias", [h]),
        inter: try w(p + "intermediate.dense.weight", [i, h]), interBias: try w(p + "intermediate.dense.bias", [i]),
        out: try w(p + "output.dense.weight", [h, i]), outBias: try w(p + "output.dense.bias", [h]),
        outNormGamma: try w(p + "output.LayerNorm.weight", [h]),
        outNormBeta: try w(p + "output.LayerNorm.bias", [h])))
    }
    let head = try loadHead(source: source, config: c, prefix: prefix, store: store, origin: origin)
    return ModelWeights(
      wordEmbeddings: word, positionEmbeddings: pos, tokenTypeEmbeddings: type,
      embNormGamma: try w("embeddings.LayerNorm.weight", [h]), embNormBeta: try w("embeddings.LayerNorm.bias", [h]),
      layers: layers, head: head)
  }

  private static func loadHead(
    source: WeightSource, config c: ModelConfig, prefix: String, store: WeightStore, origin: String
  ) throws -> HeadWeights? {
    let h = c.hiddenSize
    func w(_ name: String, _ shape: [Int]) throws -> Weight {
      guard let t = source.rawTensor(name) else {
        throw SpiqaModelError.badData("\(origin): missing tensor \"\(name)\" (expected shape \(shape))")
      }
      guard t.shape == shape else {
        throw SpiqaModelError.badData("\(origin): tensor \"\(name)\" has shape \(t.shape); expected \(shape)")
      }
      return store.floats(t)
    }
    func labelCount(_ name: String) throws -> Int {
      guard let t = source.rawTensor(name), t.shape.count == 2, t.shape[0] > 0 else {
        throw SpiqaModelError.badData("\(origin): missing or malformed tensor \"\(name)\" ([labels, \(h)])")
      }
      return t.shape[0]
    }
    let wantsQA = c.architectures.contains { $0.hasSuffix("ForQuestionAnswering") }
    let wantsCls = c.architectures.contains { $0.hasSuffix("ForSequenceClassification") }
    if wantsQA || (!wantsCls && source.rawTensor("qa_outputs.weight") != nil) {
      return .questionAnswering(weight: try w("qa_outputs.weight", [2, h]), bias: try w("qa_outputs.bias", [2]))
    }
    let robertaStyle = source.rawTensor("classifier.out_proj.weight") != nil
    let bertStyle = source.rawTensor("classifier.weight") != nil
    guard wantsCls || robertaStyle || bertStyle else { return nil }
    if c.modelType == .roberta || robertaStyle {
      let n = try labelCount("classifier.out_proj.weight")
      return .robertaClassifier(
        dense: try w("classifier.dense.weight", [h, h]), denseBias: try w("classifier.dense.bias", [h]),
        outProj: try w("classifier.out_proj.weight", [n, h]), outProjBias: try w("classifier.out_proj.bias", [n]))
    }
    let n = try labelCount("classifier.weight")
    return .bertClassifier(
      pooler: try w(prefix + "pooler.dense.weight", [h, h]), poolerBias: try w(prefix + "pooler.dense.bias", [h]),
      classifier: try w("classifier.weight", [n, h]), classifierBias: try w("classifier.bias", [n]))
  }

  /// Random weights (normal, std 0.02; LayerNorm γ = 1, β = 0) in owned memory, for benchmarks and tests
  /// that need a model shape without a file. Deterministic for a given `seed`.
  static func random(config c: ModelConfig, seed: UInt64, store: WeightStore) -> ModelWeights {
    var rng = SplitMix64(seed: seed)
    func normal(_ shape: [Int], std: Float = 0.02) -> Weight {
      let n = shape.reduce(1, *)
      let b = store.allocate(n)
      for k in 0..<n { b[k] = rng.nextNormal() * std }
      return Weight(pointer: UnsafePointer(b.baseAddress!), shape: shape)
    }
    func constant(_ n: Int, _ v: Float) -> Weight {
      let b = store.allocate(n)
      b.update(repeating: v)
      return Weight(pointer: UnsafePointer(b.baseAddress!), shape: [n])
    }
    func table(_ shape: [Int]) -> RawTensor {
      let w = normal(shape)
      return RawTensor(dtype: .float32, shape: shape,
                       data: UnsafeRawBufferPointer(start: w.pointer, count: w.count * 4))
    }
    let h = c.hiddenSize, i = c.intermediateSize
    let layers = (0..<c.numLayers).map { _ in
      LayerWeights(
        qkv: normal([3 * h, h]), qkvBias: normal([3 * h]), attnOut: normal([h, h]), attnOutBias: normal([h]),
        attnNormGamma: constant(h, 1), attnNormBeta: constant(h, 0), inter: normal([i, h]),
        interBias: normal([i]), out: normal([h, i]), outBias: normal([h]),
        outNormGamma: constant(h, 1), outNormBeta: constant(h, 0))
    }
    return ModelWeights(
      wordEmbeddings: table([c.vocabSize, h]), positionEmbeddings: table([c.maxPositions, h]),
      tokenTypeEmbeddings: table([c.typeVocabSize, h]), embNormGamma: constant(h, 1), embNormBeta: constant(h, 0),
      layers: layers, head: nil)
  }
}

extension SplitMix64 {
  /// Standard normal for random weights (Box–Muller; one value per call).
  mutating func nextNormal() -> Float {
    let u = nextUniform(), v = nextUniform()
    return (-2 * Float.log(u)).squareRoot() * Float.cos(2 * .pi * v)
  }
}
