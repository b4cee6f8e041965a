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
  /// First token → dense [hidden, hidden] → activation → out [labels, hidden] (the family's classifier layout).
  case classifier(dense: Weight, denseBias: Weight, activation: ModelFamily.ClassifierActivation, out: Weight,
                  outBias: Weight)
  /// Masked LM (`ModelFamily.MaskedLMLayout`): dense [hidden, hidden] + [hidden] → GELU → LayerNorm [hidden] →
  /// decoder [vocab, hidden] (the word embeddings when tied) + bias [vocab].
  case maskedLM(dense: Weight, denseBias: Weight, normGamma: Weight, normBeta: Weight, decoder: Weight,
                decoderBias: Weight)
}

/// Every parameter of an encoder and its optional head.
struct ModelWeights: @unchecked Sendable {
  /// [vocab, embedding], [maxPositions, embedding], [typeVocab, embedding] (nil without token types); kept in
  /// their stored dtype and converted a row at a time (a 50k-row F16 table stays F16 in memory).
  var wordEmbeddings: RawTensor
  var positionEmbeddings: RawTensor
  var tokenTypeEmbeddings: RawTensor?
  /// [embedding]
  var embNormGamma: Weight, embNormBeta: Weight
  /// [hidden, embedding] + [hidden]: factorized embeddings' projection (ELECTRA, ALBERT); nil when absent.
  var embProjection: (weight: Weight, bias: Weight)?
  /// One entry per parameter set: per layer, or per shared group (`ModelConfig.layerGroup(of:)`).
  var layers: [LayerWeights]
  var head: HeadWeights?
}

extension ModelWeights {
  /// Maps the family's parameter names (with or without its base-model prefix, e.g. `bert.`) of the base model
  /// and its *ForQuestionAnswering / *ForSequenceClassification variants onto the encoder's weights.
  static func load(from source: WeightSource, config c: ModelConfig, store: WeightStore, origin: String) throws
    -> ModelWeights
  {
    let f = c.family, e = f.embeddings
    let prefixes = [f.weightPrefix, ""]
    guard let prefix = prefixes.first(where: { source.rawTensor($0 + e.word + ".weight") != nil }) else {
      // Present but of an integer type: say so, rather than that it is missing.
      if let name = prefixes.map({ $0 + e.word + ".weight" }).first(where: { source.unusableDType($0) != nil }) {
        throw missing(source, name, [c.vocabSize, c.embeddingSize], origin)
      }
      throw SpiqaModelError.badData(
        "\(origin): missing tensor \"\(f.weightPrefix)\(e.word).weight\" (also tried without the "
          + "\"\(f.weightPrefix)\" prefix); is this a \(f) checkpoint?")
    }
    func raw(_ name: String, _ shape: [Int]) throws -> RawTensor {
      let full = prefix + name
      guard let t = source.rawTensor(full) else { throw missing(source, full, shape, origin) }
      guard t.shape == shape else {
        throw SpiqaModelError.badData("\(origin): tensor \"\(full)\" has shape \(t.shape); expected \(shape)")
      }
      return t
    }
    func w(_ name: String, _ shape: [Int]) throws -> Weight { store.floats(try raw(name, shape)) }
    let h = c.hiddenSize, i = c.intermediateSize, emb = c.embeddingSize
    let word = try raw(e.word + ".weight", [c.vocabSize, emb])
    let pos = try raw(e.position + ".weight", [c.maxPositions, emb])
    let type = try e.tokenType.map { try raw($0 + ".weight", [c.typeVocabSize, emb]) }
    var projection: (weight: Weight, bias: Weight)?
    if let p = e.projection, emb != h || source.rawTensor(prefix + p + ".weight") != nil {
      projection = (try w(p + ".weight", [h, emb]), try w(p + ".bias", [h]))
    }
    let names = f.layers
    var layers: [LayerWeights] = []
    for l in 0..<c.layerGroups {
      let p = names.prefix.replacingOccurrences(of: "{i}", with: String(l))
      let qkv = try [names.query, names.key, names.value].map { try raw(p + $0 + ".weight", [h, h]) }
      let qkvBias = try [names.query, names.key, names.value].map { try raw(p + $0 + ".bias", [h]) }
      layers.append(LayerWeights(
        qkv: store.concatenate(qkv), qkvBias: store.concatenate(qkvBias),
        attnOut: try w(p + names.attentionOutput + ".weight", [h, h]),
        attnOutBias: try w(p + names.attentionOutput + ".bias", [h]),
        attnNormGamma: try w(p + names.attentionNorm + ".weight", [h]),
        attnNormBeta: try w(p + names.attentionNorm + ".bias", [h]),
        inter: try w(p + names.intermediate + ".weight", [i, h]),
        interBias: try w(p + names.intermediate + ".bias", [i]),
        out: try w(p + names.output + ".weight", [h, i]), outBias: try w(p + names.output + ".bias", [h]),
        outNormGamma: try w(p + names.outputNorm + ".weight", [h]),
        outNormBeta: try w(p + names.outputNorm + ".bias", [h])))
    }
    let head = try loadHead(source: source, config: c, prefix: prefix, store: store, origin: origin)
    return ModelWeights(
      wordEmbeddings: word, positionEmbeddings: pos, tokenTypeEmbeddings: type,
      embNormGamma: try w(e.layerNorm + ".weight", [emb]), embNormBeta: try w(e.layerNorm + ".bias", [emb]),
      embProjection: projection, layers: layers, head: head)
  }

  /// A tensor the encoder needs that is absent, or present with an element type it cannot use.
  private static func missing(_ source: WeightSource, _ name: String, _ shape: [Int], _ origin: String) -> SpiqaModelError {
    if let dtype = source.unusableDType(name) {
      return .badData("\(origin): tensor \"\(name)\" is \(dtype); expected float32, float16 or bfloat16 (shape \(shape))")
    }
    return .badData("\(origin): missing tensor \"\(name)\" (expected shape \(shape))")
  }

  private static func loadHead(
    source: WeightSource, config c: ModelConfig, prefix: String, store: WeightStore, origin: String
  ) throws -> HeadWeights? {
    let h = c.hiddenSize, heads = c.family.heads, cls = heads.classifier
    func w(_ name: String, _ shape: [Int]) throws -> Weight {
      guard let t = source.rawTensor(name) else { throw missing(source, name, shape, origin) }
      guard t.shape == shape else {
        throw SpiqaModelError.badData("\(origin): tensor \"\(name)\" has shape \(t.shape); expected \(shape)")
      }
      return store.floats(t)
    }
    let qa = heads.questionAnswering, out = cls.out
    let wantsQA = c.architectures.contains { $0.hasSuffix("ForQuestionAnswering") }
    let wantsCls = c.architectures.contains { $0.hasSuffix("ForSequenceClassification") }
    let wantsMLM = c.architectures.contains { $0.hasSuffix("ForMaskedLM") }
    if wantsMLM, heads.maskedLM == nil {
      throw SpiqaModelError.badData(
        "\(origin): \(c.architectures.joined(separator: ", ")): spiqa runs the masked-LM heads of BERT and RoBERTa "
          + "(and XLM-RoBERTa), not of \(c.family)")
    }
    if let mlm = heads.maskedLM,
      wantsMLM || (!wantsQA && !wantsCls && source.rawTensor(mlm.dense + ".weight") != nil)
    {
      // Tied decoder: the word embeddings (stored under the base model's prefix), unless the checkpoint has its own.
      let decoder =
        source.rawTensor(mlm.decoder + ".weight") != nil
        ? try w(mlm.decoder + ".weight", [c.vocabSize, h]) : try w(prefix + c.family.embeddings.word + ".weight", [c.vocabSize, h])
      let bias = source.rawTensor(mlm.bias) != nil ? mlm.bias : mlm.decoder + ".bias"
      return .maskedLM(
        dense: try w(mlm.dense + ".weight", [h, h]), denseBias: try w(mlm.dense + ".bias", [h]),
        normGamma: try w(mlm.layerNorm + ".weight", [h]), normBeta: try w(mlm.layerNorm + ".bias", [h]),
        decoder: decoder, decoderBias: try w(bias, [c.vocabSize]))
    }
    if wantsQA || (!wantsCls && source.rawTensor(qa + ".weight") != nil) {
      return .questionAnswering(weight: try w(qa + ".weight", [2, h]), bias: try w(qa + ".bias", [2]))
    }
    guard wantsCls || source.rawTensor(out + ".weight") != nil else { return nil }
    guard let t = source.rawTensor(out + ".weight"), t.shape.count == 2, t.shape[0] > 0 else {
      throw SpiqaModelError.badData("\(origin): missing or malformed tensor \"\(out).weight\" ([labels, \(h)])")
    }
    let n = t.shape[0], dense = (cls.denseInBaseModel ? prefix : "") + cls.dense
    return .classifier(
      dense: try w(dense + ".weight", [h, h]), denseBias: try w(dense + ".bias", [h]), activation: cls.activation,
      out: try w(out + ".weight", [n, h]), outBias: try w(out + ".bias", [n]))
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
    let h = c.hiddenSize, i = c.intermediateSize, e = c.embeddingSize
    let layers = (0..<c.layerGroups).map { _ in
      LayerWeights(
        qkv: normal([3 * h, h]), qkvBias: normal([3 * h]), attnOut: normal([h, h]), attnOutBias: normal([h]),
        attnNormGamma: constant(h, 1), attnNormBeta: constant(h, 0), inter: normal([i, h]),
        interBias: normal([i]), out: normal([h, i]), outBias: normal([h]),
        outNormGamma: constant(h, 1), outNormBeta: constant(h, 0))
    }
    return ModelWeights(
      wordEmbeddings: table([c.vocabSize, e]), positionEmbeddings: table([c.maxPositions, e]),
      tokenTypeEmbeddings: c.family.hasTokenTypes ? table([c.typeVocabSize, e]) : nil,
      embNormGamma: constant(e, 1), embNormBeta: constant(e, 0),
      embProjection: e != h || c.family.embeddings.projection != nil ? (normal([h, e]), normal([h])) : nil,
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
