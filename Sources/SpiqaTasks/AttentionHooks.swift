import SpiqaModel
import SpiqaQuant

/// Turns an `AttentionTransform` into the forward pass's hooks: the one hook builder of extraction and evaluation.
///
/// In every layer, in the reference order (docs/evaluation.md): replay (rows of recorded attention replace the
/// model's) → prune → quantize (statistics per the transform's scope) → count exact zeros → record (the caller's
/// copy of what the model then uses). Hidden states: each layer's input is quantized, each layer's output
/// thresholded.
public final class AttentionHooks {
  /// Observes a layer's attention `[batch, heads, T, T]` after the transform: what the model continues with.
  public typealias Recorder =
    (_ layer: Int, _ probs: UnsafeMutableBufferPointer<Float>, _ shape: AttentionShape) throws -> Void

  public let transform: AttentionTransform
  public let replay: ReplayStore?
  /// Exact zeros of the attention used, over every batch so far (counted only with `countSparsity`).
  public var sparsity: SparsityCounter {
    foldBlockCounts()
    return counted
  }
  private var counted: SparsityCounter
  /// Zeros counted per (layer, item, head) block by the last batch's block hook, not yet in `counted`.
  private var blockCounts: BlockZeroCounts?
  private let countSparsity: Bool
  private let layerCount: Int
  private let headCount: Int

  /// Hooks for a model of `layers` layers and `heads` heads.
  public init(
    transform: AttentionTransform, replay: ReplayStore? = nil, layers: Int, heads: Int, countSparsity: Bool = false
  ) {
    self.transform = transform
    self.replay = replay
    self.layerCount = layers
    self.headCount = heads
    self.countSparsity = countSparsity
    counted = SparsityCounter(layers: layers, heads: heads)
  }

  /// Hooks for one batch whose rows are `keys` (their example ids form the `example` scope).
  /// - Parameters:
  ///   - inputIds: the rows' token ids, checked against replayed records that carry `token_ids`.
  ///   - record: called in every layer after the transform.
  /// - Throws: `TasksError.badData` when the replay stream lacks a row or names a layer the model lacks; the
  ///   hooks throw `TasksError.badData` when the data defeats a quantizer and the replay store's mismatch errors.
  public func hooks(keys: [RecordKey], inputIds: [[Int]] = [], record: Recorder? = nil) throws -> ForwardHooks {
    try transform.checkSelection(layers: layerCount, heads: headCount)
    var records: [ReplayRecord] = []
    if let replay {
      for key in keys {
        let r = try replay.record(for: key)
        if let bad = r.layers.first(where: { $0 < 0 || $0 >= layerCount }) {
          throw TasksError.badData("\(r.origin) (\(key)): layer \(bad) does not exist (the model has \(layerCount))")
        }
        records.append(r)
      }
    }
    let t = transform
    let groups = Self.scopeGroups(keys, scope: t.scope)
    let counting = countSparsity
    var hooks = ForwardHooks()
    foldBlockCounts()
    if records.isEmpty && (t.quantizer?.method.isElementwise ?? true) {
      // Pruning, an element-wise quantizer or ablation, and counting: per block, in cache, on the worker threads.
      let counts = counting ? BlockZeroCounts(layers: layerCount, items: keys.count, heads: headCount) : nil
      blockCounts = counts
      hooks.attentionBlock = Self.blockHook(transform: t, counts: counts)
      hooks.paddingStaysZero = t.keepsPaddingZero
      if let record {
        hooks.attention = { layer, probs, shape in try record(layer, probs, shape) }
      }
      if t.hsBits > 0 { hooks.layerInput = { _, states, _ in try t.transformLayerInput(states) } }
      if t.hsThreshold > 0 { hooks.layerOutput = { _, states, _ in t.transformLayerOutput(states) } }
      return hooks
    }
    // Replayed rows fill only the real block; the transform then keeps padding 0 or not.
    hooks.paddingStaysZero = t.keepsPaddingZero
    hooks.attention = { [unowned self] layer, probs, shape in
      for row in 0..<min(shape.batch, records.count) {
        try ReplayStore.replace(
          probs, dims: shape, row: row, layer: layer, record: records[row], key: keys[row],
          inputIds: row < inputIds.count ? inputIds[row] : nil)
      }
      if t.changesAttention && t.transforms(layer: layer) {
        do {
          // A quantizer that ignores values below 1e-3 takes the same statistics without the padded rows.
          let parts = Self.scopes(
            probs, shape: shape, groups: groups, heads: t.selectedHeads(layer: layer), realRowsOnly: t.keepsPaddingZero)
          for parts in parts {
            try t.transformAttention(parts, rowLength: shape.seqLen)
          }
        } catch {
          throw TasksError.badData("quantizer \(t.quantizer?.method.rawValue ?? "?") at layer \(layer): \(error)")
        }
      }
      if counting { self.counted.add(layer: layer, probs: probs, dims: shape) }
      try record?(layer, probs, shape)
    }
    if t.hsBits > 0 {
      hooks.layerInput = { _, states, _ in try t.transformLayerInput(states) }
    }
    if t.hsThreshold > 0 {
      hooks.layerOutput = { _, states, _ in t.transformLayerOutput(states) }
    }
    return hooks
  }

  /// The per-block hook: transform the block when its (layer, head) is selected, then count its zeros.
  static func blockHook(transform t: AttentionTransform, counts: BlockZeroCounts?) -> ForwardHooks.AttentionBlockHook {
    let changes = t.changesAttention, keepsZero = t.keepsPaddingZero
    return { layer, item, head, block, n, seqLen in
      if changes && t.transforms(layer: layer, head: head) {
        if keepsZero {
          // f(0) = 0: the padded rows and the padded columns of the real rows cannot change; the real n×n only.
          for r in 0..<n { t.transformElementwise(UnsafeMutableBufferPointer(start: block + r * seqLen, count: n)) }
        } else {
          t.transformElementwise(UnsafeMutableBufferPointer(start: block, count: seqLen * seqLen))
        }
      }
      counts?.count(layer: layer, item: item, head: head, block: block, n: n, seqLen: seqLen)
    }
  }

  /// Adds the last batch's block counts to `counted` (the batch's forward pass has run by now: hooks are used by
  /// one forward pass before the next `hooks` call).
  private func foldBlockCounts() {
    guard let c = blockCounts else { return }
    blockCounts = nil
    c.fold(into: &counted)
  }

  /// Batch rows that share quantizer statistics (batch: all rows, nil; record: one row each; example: same id).
  static func scopeGroups(_ keys: [RecordKey], scope: QuantScope) -> [[Int]]? {
    switch scope {
    case .batch: return nil
    case .record: return keys.indices.map { [$0] }
    case .example:
      var order: [String] = []
      var byId: [String: [Int]] = [:]
      for (i, k) in keys.enumerated() {
        if byId[k.exampleId] == nil { order.append(k.exampleId) }
        byId[k.exampleId, default: []].append(i)
      }
      return order.map { byId[$0] ?? [] }
    }
  }

  /// The buffers of each scope of a `[batch, heads, T, T]` layer: the whole layer (`groups` nil, every head), the
  /// `[heads, T, T]` blocks of each group's rows, or with a head selection the `[T, T]` blocks of those heads.
  /// `realRowsOnly`: each (item, head) block's first n rows only (`[n, T]`), for transforms that leave the zeros
  /// of padded rows as they are and take no statistics from them.
  static func scopes(
    _ probs: UnsafeMutableBufferPointer<Float>, shape: AttentionShape, groups: [[Int]]?, heads: [Int]?,
    realRowsOnly: Bool = false
  ) -> [[UnsafeMutableBufferPointer<Float>]] {
    let t = shape.seqLen, tt = t * t
    func slice(_ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
      UnsafeMutableBufferPointer(rebasing: probs[start..<(start + count)])
    }
    func block(_ b: Int, _ h: Int) -> UnsafeMutableBufferPointer<Float> {
      slice(shape.offset(item: b, head: h), realRowsOnly ? min(shape.lengths[b], t) * t : tt)
    }
    let rowGroups = groups ?? [Array(0..<shape.batch)]
    if let heads {
      let kept = heads.filter { $0 >= 0 && $0 < shape.heads }
      return rowGroups.map { rows in rows.flatMap { b in kept.map { block(b, $0) } } }
    }
    if realRowsOnly { return rowGroups.map { rows in rows.flatMap { b in (0..<shape.heads).map { block(b, $0) } } } }
    if groups == nil { return [[probs]] }
    return rowGroups.map { rows in rows.map { slice($0 * shape.heads * tt, shape.heads * tt) } }
  }
}

/// Exact zeros of each (layer, item, head) real n×n block of one batch, written by the block hooks (each block by
/// one worker, so no two threads share a slot).
final class BlockZeroCounts: @unchecked Sendable {
  let layers: Int, items: Int, heads: Int
  private let zeros: UnsafeMutablePointer<Int>
  private let lengths: UnsafeMutablePointer<Int>

  init(layers: Int, items: Int, heads: Int) {
    self.layers = layers
    self.items = items
    self.heads = heads
    zeros = .allocate(capacity: max(1, layers * items * heads))
    zeros.initialize(repeating: 0, count: max(1, layers * items * heads))
    lengths = .allocate(capacity: max(1, items))
    lengths.initialize(repeating: -1, count: max(1, items))
  }

  deinit {
    zeros.deallocate()
    lengths.deallocate()
  }

  func count(layer: Int, item: Int, head: Int, block: UnsafeMutablePointer<Float>, n: Int, seqLen: Int) {
    guard layer < layers, item < items, head < heads else { return }
    let z = SparsityCounter.zeros(block, rows: n, columns: n, stride: seqLen)
    zeros[(layer * items + item) * heads + head] = z
    if layer == 0 && head == 0 { lengths[item] = n }
  }

  func fold(into counter: inout SparsityCounter) {
    for l in 0..<layers {
      for h in 0..<heads {
        var z = 0
        for b in 0..<items { z += zeros[(l * items + b) * heads + h] }
        counter.add(layer: l, head: h, zeros: z)
      }
    }
    for b in 0..<items where lengths[b] >= 0 { counter.addTotal(lengths[b] * lengths[b]) }
  }
}
