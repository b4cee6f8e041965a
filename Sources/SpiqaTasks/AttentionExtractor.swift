import SpiqaCore
import Foundation
import SpiqaIO
import SpiqaModel
import SpiqaQuant

/// One recorded sequence, handed to the sink of `AttentionExtractor.run`. Buffers are valid only during the call.
public struct ExtractedFeature {
  public let sequence: ExtractionSequence
  /// Real tokens n.
  public var n: Int { sequence.count }
  /// [layers, heads, n, n] row-major: the selected layers and heads, real query rows and key columns only.
  public let attention: UnsafeBufferPointer<Float>
  /// [layers, heads, n, n].
  public let attentionShape: [Int]
  /// [modelLayers + 1, n, hidden]: the embeddings output, then every layer's output (only with `hiddenStates`).
  public let hiddenStates: UnsafeBufferPointer<Float>?
  /// [modelLayers + 1, n, hidden] (empty without hidden states).
  public let hiddenShape: [Int]
}

/// Runs a BERT/RoBERTa encoder over groups of sequences and records each sequence's attention `[layers, heads, n, n]`
/// (and optionally hidden states) through the forward pass's attention hook.
///
/// In every layer the hooks (`AttentionHooks`) apply the transform — prune (`p > t` kept), then quantize
/// (statistics per `scope`) — exactly where the reference does, so the model continues with, and the record holds,
/// the attention actually used (docs/reference-behaviour.md §1.1). Buffers are reused across groups: memory is bounded by
/// the largest group.
public final class AttentionExtractor {
  public let checkpoint: Checkpoint
  /// What happens to attention and hidden states on the way.
  public let transform: AttentionTransform
  /// What is recorded.
  public let options: ExtractionOptions
  /// Model layers and heads recorded (sorted).
  public let layers: [Int]
  public let heads: [Int]
  public var config: ModelConfig { checkpoint.config }
  /// BLAS / kernel threads of the encoder (defaults to the encoder's choice).
  public var threads: Int? {
    didSet { if let t = threads { encoder.threads = max(1, t) } }
  }

  /// uniform_slog_mean on trimmed questions: statistics count each feature's padding to this length
  /// (`AttentionHooks.countedPaddingLength`).
  public var countedPaddingLength: Int? {
    get { attentionHooks.countedPaddingLength }
    set { attentionHooks.countedPaddingLength = newValue }
  }

  private var encoder: Encoder
  /// The batch rows' [layers, heads, n, n] records back to back (grown on demand, reused).
  private let arena: GrowableFloats
  /// Start of each batch row's record in `arena`.
  private var rowOffsets: [Int] = []
  private var hidden = GrowableFloats()
  /// Model layer → position in `layers` (or -1 when not recorded).
  private let layerSlot: [Int]
  /// The transform as forward-pass hooks.
  private let attentionHooks: AttentionHooks

  /// Opens `checkpoint` for groups of up to `maxBatch` sequences of up to `maxSeqLen` tokens (grown when needed).
  /// - Throws: `SelectionError` for layer/head indices the model does not have; `TasksError.usage` for an empty
  ///   selection, an unsupported dtype or an invalid transform; the model's errors.
  public init(
    checkpoint: Checkpoint, transform: AttentionTransform = .identity, options: ExtractionOptions = ExtractionOptions(),
    maxBatch: Int = 4, maxSeqLen: Int = 384
  ) throws {
    let c = checkpoint.config
    self.checkpoint = checkpoint
    self.transform = transform
    self.options = options
    let layers = options.layers ?? Array(0..<c.numLayers)
    let heads = options.heads ?? Array(0..<c.numHeads)
    if let bad = layers.first(where: { $0 < 0 || $0 >= c.numLayers }) {
      throw SelectionError(.layer, index: bad, available: Array(0..<c.numLayers), source: "the model")
    }
    if let bad = heads.first(where: { $0 < 0 || $0 >= c.numHeads }) {
      throw SelectionError(.head, index: bad, available: Array(0..<c.numHeads), source: "the model")
    }
    guard !layers.isEmpty, !heads.isEmpty else { throw TasksError.usage("the layer or head selection is empty") }
    guard options.dtype == .float32 || options.dtype == .float16 else {
      throw TasksError.usage("dtype \(options.dtype.rawValue) is not supported; expected f4 or f2")
    }
    do {
      try transform.validate()
    } catch {
      throw TasksError.usage("\(error)")
    }
    attentionHooks = AttentionHooks(transform: transform, layers: c.numLayers, heads: c.numHeads)
    attentionHooks.productKernel = options.attentionProduct
    self.layers = layers
    self.heads = heads
    var slot = [Int](repeating: -1, count: c.numLayers)
    for (i, l) in layers.enumerated() { slot[l] = i }
    layerSlot = slot
    encoder = try Encoder(
      checkpoint: checkpoint, maxBatch: max(1, maxBatch), maxSeqLen: min(max(1, maxSeqLen), c.maxSequenceLength))
    encoder.head = .none
    // One arena for a full-budget sub-batch of several sequences (a sub-batch of one streams its record instead);
    // its pages are faulted in once, by the first records that use them, and reused after.
    arena = GrowableFloats(capacity: layers.count * heads.count * Self.rowBudget)
  }

  /// Opens the checkpoint folder `directory` (config.json + weights).
  public convenience init(
    directory: String, transform: AttentionTransform = .identity, options: ExtractionOptions = ExtractionOptions(),
    maxBatch: Int = 4, maxSeqLen: Int = 384
  ) throws {
    try self.init(
      checkpoint: Checkpoint(directory: directory), transform: transform, options: options, maxBatch: maxBatch,
      maxSeqLen: maxSeqLen)
  }

  /// Runs one group as one batch and calls `sink` for each of its sequences, in order.
  /// - Throws: `TasksError` (sequences longer than the model allows, quantizer failures), the model's and the sink's errors.
  ///
  /// The group runs in the sub-batches of `subBatches`.
  public func run(_ group: ExtractionGroup, sink: (ExtractedFeature) throws -> Void) throws {
    for part in subBatches(group) { try runBatch(part, sink: sink) }
  }

  /// Runs `group` as `run` does and writes each sequence's records to `writer`: the attention record, then its
  /// hidden states (with `options.hiddenStates`). A sub-batch of one sequence — every long input — streams its
  /// attention record into `writer` layer by layer as the forward pass produces it (`RecordWriter.beginFloats`), so
  /// no record is assembled in memory (a 512-token MiniLM record is 75 MB); others go through the arena.
  /// - Parameter tokens: the token strings of a sequence's ids for the `tokens` key (with `options.tokens`).
  /// - Returns: the attention records written.
  @discardableResult
  public func write(_ group: ExtractionGroup, to writer: RecordWriter, tokens: (([Int]) -> [String]?)? = nil) throws
    -> Int
  {
    let dtype = options.dtype
    let wantTokens = options.tokens
    var records = 0
    for part in subBatches(group) {
      if part.sequences.count == 1 {
        try streamBatch(part, to: writer, tokens: wantTokens ? tokens : nil)
        records += 1
        continue
      }
      try runBatch(part) { f in
        let names = wantTokens ? tokens?(f.sequence.ids) : nil
        try writer.write(meta: attentionMeta(f, tokens: names), floats: f.attention, shape: f.attentionShape, dtype: dtype)
        if let hs = f.hiddenStates {
          try writer.write(meta: hiddenMeta(f), floats: hs, shape: f.hiddenShape, dtype: dtype)
        }
        records += 1
      }
    }
    return records
  }

  /// The batches `group` runs as. When nothing batch-dependent runs (no data-dependent quantizer, `padTo` unset),
  /// the group is split into sub-batches of at most `rowBudget` query×key positions per head (one ~320-token SQuAD
  /// feature, or dozens of short sentences): the recorded values are the same, and the per-row buffers stay within
  /// one fixed arena.
  private func subBatches(_ group: ExtractionGroup) -> [ExtractionGroup] {
    guard !group.sequences.isEmpty else { return [] }
    if transform.takesScopeStatistics || group.padTo != nil { return [group] }
    var parts: [ExtractionGroup] = []
    var start = 0
    let seqs = group.sequences
    while start < seqs.count {
      var end = start + 1
      var longest = seqs[start].count
      while end < seqs.count {
        let t = max(longest, seqs[end].count)
        guard (end - start + 1) * t * t <= Self.rowBudget else { break }
        longest = t
        end += 1
      }
      parts.append(ExtractionGroup(sequences: Array(seqs[start..<end])))
      start = end
    }
    return parts
  }

  /// Query×key positions per head a split sub-batch may hold (320², one full SQuAD feature).
  public static let rowBudget = 320 * 320

  /// The group as the encoder's batch, the encoder grown to hold it.
  private func encoderBatch(_ group: ExtractionGroup) throws -> EncoderBatch {
    let seqs = group.sequences
    let t = group.seqLen
    let c = config
    guard t <= c.maxSequenceLength else {
      let worst = seqs.max { $0.count < $1.count }
      throw TasksError.usage(
        "\(worst?.exampleId ?? "?"): \(t) tokens exceed the model's \(c.maxSequenceLength) positions")
    }
    try ensureEncoder(batch: seqs.count, seqLen: t)
    let pad = c.padTokenId
    return EncoderBatch(
      inputIds: seqs.map { $0.ids + Array(repeating: pad, count: t - $0.count) },
      lengths: seqs.map(\.count),
      tokenTypeIds: seqs.contains { $0.tokenTypes != nil }
        ? seqs.map { ($0.tokenTypes ?? Array(repeating: 0, count: $0.count)) + Array(repeating: 0, count: t - $0.count) }
        : nil)
  }

  /// Batch row `b`'s hidden states `[layers + 1, n, hidden]`, copied into `hidden` (nil without hidden states).
  private func hiddenStates(_ output: EncoderOutput, row b: Int, n: Int) -> (UnsafeBufferPointer<Float>, [Int])? {
    guard let states = output.hiddenStates else { return nil }
    let hsz = output.hiddenSize, t = output.seqLen
    hidden.reserve(states.count * n * hsz)
    for (k, layer) in states.enumerated() {
      layer.withUnsafeBufferPointer { src in
        (hidden.base + k * n * hsz).update(from: src.baseAddress! + b * t * hsz, count: n * hsz)
      }
    }
    return (UnsafeBufferPointer(start: hidden.base, count: states.count * n * hsz), [states.count, n, hsz])
  }

  private func runBatch(_ group: ExtractionGroup, sink: (ExtractedFeature) throws -> Void) throws {
    let seqs = group.sequences
    let batch = try encoderBatch(group)
    let lc = layers.count, hc = heads.count
    rowOffsets = []
    var total = 0
    for s in seqs {
      rowOffsets.append(total)
      total += lc * hc * s.count * s.count
    }
    arena.reserve(total)
    let output = try encoder.forward(batch, hooks: hooks(for: seqs), outputHiddenStates: options.hiddenStates)
    for (b, s) in seqs.enumerated() {
      let n = s.count
      let states = hiddenStates(output, row: b, n: n)
      try sink(
        ExtractedFeature(
          sequence: s, attention: UnsafeBufferPointer(start: arena.base + rowOffsets[b], count: lc * hc * n * n),
          attentionShape: [lc, hc, n, n], hiddenStates: states?.0, hiddenShape: states?.1 ?? []))
    }
  }

  /// One sequence: its attention record goes to `writer` from the recording hook, layer by layer (the selected
  /// layers ascend, as the forward pass runs them; heads and rows in record order), then its hidden states.
  private func streamBatch(_ group: ExtractionGroup, to writer: RecordWriter, tokens: (([Int]) -> [String]?)?) throws {
    let s = group.sequences[0], n = s.count
    let batch = try encoderBatch(group)
    let shape = [layers.count, heads.count, n, n]
    let dtype = options.dtype
    try writer.beginFloats(
      meta: attentionMeta(sequence: s, shape: shape, tokens: tokens?(s.ids)), shape: shape, dtype: dtype)
    let heads = self.heads, slots = layerSlot
    let key = RecordKey(exampleId: s.exampleId, exampleIndex: s.exampleIndex, feature: s.feature)
    let hooks = try attentionHooks.hooks(keys: [key]) { layer, probs, shape in
      guard slots[layer] >= 0, let src = probs.baseAddress else { return }
      let t = shape.seqLen
      for h in heads {
        let from = src + shape.offset(item: 0, head: h)
        for r in 0..<n { try writer.appendFloats(UnsafeBufferPointer(start: from + r * t, count: n)) }
      }
    }
    let output = try encoder.forward(batch, hooks: hooks, outputHiddenStates: options.hiddenStates)
    try writer.endFloats()
    if let (states, hiddenShape) = hiddenStates(output, row: 0, n: n) {
      let f = ExtractedFeature(
        sequence: s, attention: UnsafeBufferPointer(start: nil, count: 0), attentionShape: shape, hiddenStates: states,
        hiddenShape: hiddenShape)
      try writer.write(meta: hiddenMeta(f), floats: states, shape: hiddenShape, dtype: dtype)
    }
  }

  /// The metadata record of an attention tensor (docs/stream-format.md §3, attention keys); `tokens` when asked for.
  public func attentionMeta(_ f: ExtractedFeature, tokens: [String]?) -> JSONObject {
    attentionMeta(sequence: f.sequence, shape: f.attentionShape, tokens: tokens)
  }

  /// The metadata record of `sequence`'s attention tensor of `shape` `[layers, heads, n, n]`.
  public func attentionMeta(sequence: ExtractionSequence, shape: [Int], tokens: [String]?) -> JSONObject {
    var m = TransformMetadata.extractedRecord.object(transform)
    m["kind"] = "attention"
    m["example_id"] = .string(sequence.exampleId)
    m["example_index"] = .int(sequence.exampleIndex)
    m["feature"] = .int(sequence.feature)
    m["n"] = .int(sequence.count)
    m["shape"] = JSONValue(shape)
    m["layers"] = JSONValue(layers)
    m["heads"] = JSONValue(heads)
    m["dtype"] = .string(options.dtype.rawValue)
    if options.tokens {
      m["token_ids"] = JSONValue(sequence.ids)
      if let tokens { m["tokens"] = JSONValue(tokens) }
    }
    return m
  }

  /// The metadata record of a hidden-state tensor.
  public func hiddenMeta(_ f: ExtractedFeature) -> JSONObject {
    [
      "kind": "hidden_states", "example_id": .string(f.sequence.exampleId),
      "example_index": .int(f.sequence.exampleIndex), "feature": .int(f.sequence.feature), "n": .int(f.n),
      "shape": JSONValue(f.hiddenShape), "layers": JSONValue(Array(0...config.numLayers)),
      "dtype": .string(options.dtype.rawValue),
    ]
  }

  /// Rebuilds the encoder (same mmapped checkpoint) when a group needs larger buffers.
  private func ensureEncoder(batch: Int, seqLen: Int) throws {
    guard batch > encoder.maxBatch || seqLen > encoder.maxSeqLen else { return }
    let threads = encoder.threads
    encoder = try Encoder(
      checkpoint: checkpoint, maxBatch: max(batch, encoder.maxBatch),
      maxSeqLen: min(max(seqLen, encoder.maxSeqLen), config.maxSequenceLength))
    encoder.head = .none
    encoder.threads = threads
  }

  /// The transform's hooks for one batch, recording the selected layers and heads of every row into `arena`.
  private func hooks(for seqs: [ExtractionSequence]) throws -> ForwardHooks {
    let rowPointers = rowOffsets.map { arena.base + $0 }
    let heads = self.heads, slots = layerSlot, hc = heads.count
    let keys = seqs.map(\.recordKey)
    return try attentionHooks.hooks(keys: keys) { layer, probs, shape in
      let slot = slots[layer]
      guard slot >= 0, let src = probs.baseAddress else { return }
      let t = shape.seqLen
      for b in 0..<shape.batch {
        let n = shape.lengths[b]
        for (hi, h) in heads.enumerated() {
          let from = src + shape.offset(item: b, head: h)
          let to = rowPointers[b] + ((slot * hc + hi) * n * n)
          for r in 0..<n { (to + r * n).update(from: from + r * t, count: n) }
        }
      }
    }
  }
}

/// A grow-only float buffer reused across batches (keeps peak memory at the largest record seen).
final class GrowableFloats {
  private(set) var base: UnsafeMutablePointer<Float>
  private(set) var capacity: Int

  init(capacity: Int = 1) {
    self.capacity = max(1, capacity)
    base = .allocate(capacity: self.capacity)
  }

  /// Makes room for `count` floats (contents are not preserved when it grows).
  func reserve(_ count: Int) {
    guard count > capacity else { return }
    base.deallocate()
    capacity = count
    base = .allocate(capacity: count)
  }

  deinit { base.deallocate() }
}
