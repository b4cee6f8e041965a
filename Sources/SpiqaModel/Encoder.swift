import Foundation
import SpiqaCore

/// A transformer encoder of one of the `ModelFamily.supported` families with its optional task head, running in
/// f32 on OpenBLAS.
///
/// Activation buffers are allocated once for `(maxBatch, maxSeqLen)`; `forward` allocates nothing in the layer
/// loop. Not thread-safe: one forward at a time per instance.
public final class Encoder {
  public let config: ModelConfig
  public let maxBatch: Int
  public let maxSeqLen: Int
  /// The head `forward` evaluates; defaults to the checkpoint's. Set `.none` to skip it.
  public var head: Head
  /// Additive score for padded key columns before the softmax (reference: −10000; see `SelfAttention`).
  public var maskValue: Float = -10000
  /// Accumulate per-phase wall times into `timings` (for benchmarks).
  public var collectTimings = false
  /// Per-phase times of the forwards run while `collectTimings` was on.
  public var timings = ForwardTimings()
  /// Worker threads for the dense GEMM parts, the per-head attention loop and the element-wise kernels
  /// (default: `OpenBLASRuntime.defaultThreads`). Each GEMM runs single-threaded OpenBLAS on one worker, so the
  /// results depend on this count and the inputs only, never on other encoders.
  public var threads: Int

  let weights: ModelWeights
  let store: WeightStore
  private let buffers: Buffers

  /// Loads `directory` (config.json + model.safetensors / pytorch_model.bin).
  public convenience init(directory: String, maxBatch: Int, maxSeqLen: Int) throws {
    try self.init(checkpoint: Checkpoint(directory: directory), maxBatch: maxBatch, maxSeqLen: maxSeqLen)
  }

  /// Builds the encoder from an opened checkpoint.
  public convenience init(checkpoint: Checkpoint, maxBatch: Int, maxSeqLen: Int) throws {
    let store = WeightStore()
    store.retain(checkpoint.weights)
    let w = try ModelWeights.load(
      from: checkpoint.weights, config: checkpoint.config, store: store, origin: checkpoint.weightsPath)
    try self.init(config: checkpoint.config, weights: w, store: store, maxBatch: maxBatch, maxSeqLen: maxSeqLen)
  }

  /// An encoder of shape `config` with random weights (normal, std 0.02), no head; for benchmarks.
  public convenience init(randomWeightsFor config: ModelConfig, seed: UInt64 = 1, maxBatch: Int, maxSeqLen: Int)
    throws
  {
    try config.validate()
    let store = WeightStore()
    let w = ModelWeights.random(config: config, seed: seed, store: store)
    try self.init(config: config, weights: w, store: store, maxBatch: maxBatch, maxSeqLen: maxSeqLen)
  }

  init(config: ModelConfig, weights: ModelWeights, store: WeightStore, maxBatch: Int, maxSeqLen: Int) throws {
    guard maxBatch >= 1, maxSeqLen >= 1 else {
      throw SpiqaModelError.usage("maxBatch \(maxBatch) and maxSeqLen \(maxSeqLen) must be at least 1")
    }
    guard maxSeqLen <= config.maxSequenceLength else {
      throw SpiqaModelError.usage(
        "maxSeqLen \(maxSeqLen) exceeds the model's \(config.maxSequenceLength) position embeddings")
    }
    self.config = config
    self.weights = weights
    self.store = store
    self.maxBatch = maxBatch
    self.maxSeqLen = maxSeqLen
    OpenBLASRuntime.useOneThread()
    self.threads = OpenBLASRuntime.defaultThreads
    switch weights.head {
    case .questionAnswering: head = .questionAnswering
    case .classifier(_, _, _, let out, _):
      let n = out.shape[0]
      let labels = config.labels.count == n ? config.labels : (0..<n).map { "LABEL_\($0)" }
      head = .sequenceClassification(labels: labels)
    case .maskedLM: head = .maskedLM
    case nil: head = .none
    }
    buffers = Buffers(config: config, rows: maxBatch * maxSeqLen, maxBatch: maxBatch, maxSeqLen: maxSeqLen)
  }

  /// Number of parameters (embedding tables, layers, head).
  public var parameterCount: Int {
    let w = weights
    var n = w.wordEmbeddings.count + w.positionEmbeddings.count + (w.tokenTypeEmbeddings?.count ?? 0)
    n += w.embNormGamma.count + w.embNormBeta.count
    if let p = w.embProjection { n += p.weight.count + p.bias.count }
    for l in w.layers {
      n += [l.qkv, l.qkvBias, l.attnOut, l.attnOutBias, l.attnNormGamma, l.attnNormBeta, l.inter, l.interBias,
            l.out, l.outBias, l.outNormGamma, l.outNormBeta].reduce(0) { $0 + $1.count }
    }
    switch w.head {
    case .questionAnswering(let a, let b)?: n += a.count + b.count
    case .classifier(let a, let b, _, let c, let d)?:
      n += a.count + b.count + c.count + d.count
    case .maskedLM(let a, let b, let g, let beta, _, let bias)?:
      n += a.count + b.count + g.count + beta.count + bias.count  // the decoder is usually the tied word embeddings
    case nil: break
    }
    return n
  }

  /// Runs the encoder (and head) on one batch of right-padded sequences.
  /// - outputHiddenStates: also return the embeddings output and every layer's output.
  public func forward(_ batch: EncoderBatch, hooks: ForwardHooks = .none, outputHiddenStates: Bool = false) throws
    -> EncoderOutput
  {
    try validate(batch)
    let c = config, bsz = batch.batchSize, t = batch.seqLen, hsz = c.hiddenSize, rows = bsz * t
    let buf = buffers
    let hShape = HiddenShape(batch: bsz, seqLen: t, hidden: hsz, lengths: batch.lengths)
    let aShape = AttentionShape(batch: bsz, heads: c.numHeads, seqLen: t, lengths: batch.lengths)
    let hiddenBuffer = UnsafeMutableBufferPointer(start: buf.hidden, count: rows * hsz)
    // All parallelism on our workers (OpenBLAS is at one thread for good, so its idle workers never spin
    // against ours, and no other thread's setting reaches our GEMMs).
    let threads = max(1, self.threads)
    var clock = PhaseClock(enabled: collectTimings)
    var tm = timings
    defer { if collectTimings { tm.forwards += 1; timings = tm } }
    embed(batch)
    var recorded: [[Float]] = []
    if outputHiddenStates { recorded.append(Array(hiddenBuffer)) }
    let attention = SelfAttention(heads: c.numHeads, headSize: c.headSize, maskValue: maskValue, threads: threads)
    for l in 0..<c.numLayers {
      let lw = weights.layers[c.layerGroup(of: l)]
      try hooks.layerInput?(l, hiddenBuffer, hShape)
      clock.lap(\.other, into: &tm)
      BLAS.linear(x: buf.hidden, rows: rows, weight: lw.qkv, bias: lw.qkvBias, y: buf.qkv, threads: threads)
      clock.lap(\.denseGEMM, into: &tm)
      try attention(qkv: buf.qkv, probs: buf.probs, context: buf.context, shape: aShape, layer: l,
                    hooks: hooks)
      clock.lap(\.attention, into: &tm)
      BLAS.linear(x: buf.context, rows: rows, weight: lw.attnOut, bias: nil, y: buf.scratch, threads: threads)
      clock.lap(\.denseGEMM, into: &tm)
      Parallel.ranges(rows, threads: threads, minPerThread: 8) { r in
        Kernels.addLayerNorm(
          x: buf.scratch, bias: lw.attnOutBias.pointer, residual: buf.hidden, out: buf.attended, rows: r, n: hsz,
          gamma: lw.attnNormGamma.pointer, beta: lw.attnNormBeta.pointer, eps: c.layerNormEps)
      }
      clock.lap(\.elementwise, into: &tm)
      BLAS.linear(x: buf.attended, rows: rows, weight: lw.inter, bias: nil, y: buf.intermediate, threads: threads)
      clock.lap(\.denseGEMM, into: &tm)
      Parallel.ranges(rows, threads: threads, minPerThread: 4) { r in
        Kernels.biasActivation(buf.intermediate, bias: lw.interBias.pointer, rows: r, n: c.intermediateSize,
                               act: c.hiddenAct)
      }
      clock.lap(\.elementwise, into: &tm)
      BLAS.linear(x: buf.intermediate, rows: rows, weight: lw.out, bias: nil, y: buf.scratch, threads: threads)
      clock.lap(\.denseGEMM, into: &tm)
      Parallel.ranges(rows, threads: threads, minPerThread: 8) { r in
        Kernels.addLayerNorm(
          x: buf.scratch, bias: lw.outBias.pointer, residual: buf.attended, out: buf.hidden, rows: r, n: hsz,
          gamma: lw.outNormGamma.pointer, beta: lw.outNormBeta.pointer, eps: c.layerNormEps)
      }
      clock.lap(\.elementwise, into: &tm)
      try hooks.layerOutput?(l, hiddenBuffer, hShape)
      if outputHiddenStates { recorded.append(Array(hiddenBuffer)) }
    }
    var output = EncoderOutput(
      batch: bsz, seqLen: t, hiddenSize: hsz, lengths: batch.lengths, lastHiddenState: Array(hiddenBuffer),
      hiddenStates: outputHiddenStates ? recorded : nil, meanPooled: meanPool(bsz: bsz, t: t, lengths: batch.lengths))
    defer { clock.lap(\.other, into: &tm) }
    try applyHead(to: &output)
    return output
  }

  /// Word (+ token type) + position embeddings, then LayerNorm, into `buffers.hidden` — or, for factorized
  /// embeddings, into `buffers.embedded` and projected to the hidden size.
  private func embed(_ batch: EncoderBatch) {
    let c = config, emb = c.embeddingSize, t = batch.seqLen, buf = buffers, rows = batch.batchSize * t
    let w = weights
    let target = w.embProjection == nil ? buf.hidden : buf.embedded
    let afterPadding = c.family.embeddings.positions == .afterPadding
    for b in 0..<batch.batchSize {
      var seen = 0
      for i in 0..<t {
        let id = batch.inputIds[b][i]
        let position: Int
        if afterPadding {
          // create_position_ids_from_input_ids: cumsum(ids != pad) * (ids != pad) + pad
          if id != c.padTokenId { seen += 1; position = seen + c.padTokenId } else { position = c.padTokenId }
        } else {
          position = i
        }
        let row = target + (b * t + i) * emb
        let rowBuffer = UnsafeMutableBufferPointer(start: row, count: emb)
        w.wordEmbeddings.convert(start: id * emb, into: rowBuffer)
        if let types = w.tokenTypeEmbeddings {
          let type = batch.tokenTypeIds?[b][i] ?? 0
          types.convert(start: type * emb, into: UnsafeMutableBufferPointer(start: buf.row, count: emb))
          for j in 0..<emb { row[j] += buf.row[j] }
        }
        w.positionEmbeddings.convert(start: position * emb, into: UnsafeMutableBufferPointer(start: buf.row, count: emb))
        for j in 0..<emb { row[j] += buf.row[j] }
      }
    }
    Parallel.ranges(rows, threads: threads, minPerThread: 8) { r in
      Kernels.addLayerNorm(x: target, bias: nil, residual: nil, out: target, rows: r, n: emb,
                           gamma: w.embNormGamma.pointer, beta: w.embNormBeta.pointer, eps: c.layerNormEps)
    }
    if let p = w.embProjection {
      // [rows, hidden] = embedded [rows, embedding] · projectionᵀ + b
      BLAS.linear(x: target, rows: rows, weight: p.weight, bias: p.bias, y: buf.hidden, threads: max(1, threads))
    }
  }

  /// Attention-mask-weighted mean of the last hidden state: `[batch][hidden]`.
  private func meanPool(bsz: Int, t: Int, lengths: [Int]) -> [[Float]] {
    let hsz = config.hiddenSize
    return (0..<bsz).map { b in
      var acc = [Double](repeating: 0, count: hsz)
      for i in 0..<lengths[b] {
        let row = buffers.hidden + (b * t + i) * hsz
        for j in 0..<hsz { acc[j] += Double(row[j]) }
      }
      return acc.map { Float($0 / Double(lengths[b])) }
    }
  }

  /// Checks a batch against the model and the buffers; every failure is a one-line usage error.
  private func validate(_ batch: EncoderBatch) throws {
    let c = config, bsz = batch.batchSize, t = batch.seqLen
    guard bsz >= 1, bsz <= maxBatch else {
      throw SpiqaModelError.usage("batch of \(bsz) sequences; this encoder takes 1...\(maxBatch)")
    }
    guard t >= 1, t <= maxSeqLen else {
      throw SpiqaModelError.usage("sequence length \(t); this encoder takes 1...\(maxSeqLen)")
    }
    guard batch.lengths.count == bsz else {
      throw SpiqaModelError.usage("\(batch.lengths.count) lengths for \(bsz) sequences")
    }
    for b in 0..<bsz {
      guard batch.inputIds[b].count == t else {
        throw SpiqaModelError.usage("sequence \(b) has \(batch.inputIds[b].count) ids; every row must have \(t)")
      }
      guard (1...t).contains(batch.lengths[b]) else {
        throw SpiqaModelError.usage("sequence \(b): length \(batch.lengths[b]) outside 1...\(t)")
      }
      if let bad = batch.inputIds[b].first(where: { $0 < 0 || $0 >= c.vocabSize }) {
        throw SpiqaModelError.usage("sequence \(b): token id \(bad) outside the vocabulary (0..<\(c.vocabSize))")
      }
      if let types = batch.tokenTypeIds {
        guard types.count == bsz, types[b].count == t else {
          throw SpiqaModelError.usage("token type ids must be [\(bsz)][\(t)] like the input ids")
        }
        // A family without token types ignores them (DistilBERT's forward takes none).
        if c.family.hasTokenTypes, let bad = types[b].first(where: { $0 < 0 || $0 >= c.typeVocabSize }) {
          throw SpiqaModelError.usage(
            "sequence \(b): token type \(bad) outside 0..<\(c.typeVocabSize) (config.json type_vocab_size "
              + "\(c.typeVocabSize)\(bad == 1 ? ": the checkpoint has no token type for a second segment" : ""))")
        }
      }
    }
  }

  /// Activation buffers for `rows = maxBatch · maxSeqLen` tokens, allocated once.
  final class Buffers {
    /// [rows, hidden]: layer input, then layer output (in place)
    let hidden: UnsafeMutablePointer<Float>
    /// [rows, 3·hidden]: fused Q | K | V
    let qkv: UnsafeMutablePointer<Float>
    /// [maxBatch, heads, maxSeqLen, maxSeqLen] (used as [batch, heads, T, T])
    let probs: UnsafeMutablePointer<Float>
    /// [rows, hidden]: P·V with heads concatenated
    let context: UnsafeMutablePointer<Float>
    /// [rows, hidden]: dense outputs before bias + residual + LayerNorm
    let scratch: UnsafeMutablePointer<Float>
    /// [rows, hidden]: attention block output (FFN input and residual)
    let attended: UnsafeMutablePointer<Float>
    /// [rows, intermediate]
    let intermediate: UnsafeMutablePointer<Float>
    /// [embedding]: one embedding row being converted
    let row: UnsafeMutablePointer<Float>
    /// [rows, embedding]: factorized embeddings before their projection (1 float when unused)
    let embedded: UnsafeMutablePointer<Float>
    private let all: [UnsafeMutablePointer<Float>]

    init(config c: ModelConfig, rows: Int, maxBatch: Int, maxSeqLen: Int) {
      // calloc: zeroed memory whose large blocks come straight from mmap, so pages a forward pass never uses
      // (an encoder sized for 20 × 512 running one 512-token line) are never touched and cost no resident memory.
      func make(_ n: Int) -> UnsafeMutablePointer<Float> {
        guard let raw = calloc(max(n, 1), MemoryLayout<Float>.stride) else {
          fatalError("out of memory allocating \(n) floats of activations")
        }
        return raw.bindMemory(to: Float.self, capacity: max(n, 1))
      }
      let h = c.hiddenSize
      hidden = make(rows * h)
      qkv = make(rows * 3 * h)
      probs = make(maxBatch * c.numHeads * maxSeqLen * maxSeqLen)
      context = make(rows * h)
      scratch = make(rows * h)
      attended = make(rows * h)
      intermediate = make(rows * c.intermediateSize)
      row = make(max(h, c.embeddingSize))
      embedded = make(c.embeddingSize == h && c.family.embeddings.projection == nil ? 1 : rows * c.embeddingSize)
      all = [hidden, qkv, probs, context, scratch, attended, intermediate, row, embedded]
    }

    deinit { for p in all { free(p) } }
  }
}
