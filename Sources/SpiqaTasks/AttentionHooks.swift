import Foundation
import SpiqaCore
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
  /// How P·V runs where the transform leaves zeros or few values. The row-groups kernel also runs while recording
  /// and on replayed transformed attention (`groupsProduct`); the sparse and code kernels only in evaluation.
  public var productKernel: AttentionProductKernel = .auto
  /// Exact zeros of the attention used, over every batch so far (counted only with `countSparsity`).
  public var sparsity: SparsityCounter {
    foldBlockCounts()
    return counted
  }
  private var counted: SparsityCounter
  /// Zeros counted per (layer, item, head) block by the last batch's block hook, not yet in `counted`.
  private var blockCounts: BlockZeroCounts?
  /// Statistics keys of the blocks of a layer (blockwise data-dependent quantizers), reused batch after batch.
  private let keyArena = KeyArena()
  /// Bucket counts of those keys, one pool per scope group, taken on the workers with the keys (phase 1).
  private var histogramPools: [BucketHistogramPool] = []
  /// Workers for a layer's statistics (uniform_slog_mean's sort); spiqa-eval sets the encoder's thread count.
  public var threads = 1
  /// `--scope batch` statistics per example: set where one forward pass holds several examples that the reference
  /// ran as batches of their own (bucketed SQuAD evaluation: one question's features per reference batch).
  public var batchScopePerExample = false
  /// uniform_slog_mean on trimmed features: each sequence's statistics count the zeros of padding to this length, as
  /// the reference's features padded to `max_seq_len` had; only for features whose padding is most of the scope
  /// (`TaskSettings.evaluationTrimsQuestion`), so that 0 keeps level 0. nil: the batch's own padding.
  public var countedPaddingLength: Int?
  private let countSparsity: Bool
  private let layerCount: Int
  private let headCount: Int

  /// Most scope groups whose keys are counted by bucket in phase 1 (`BlockwiseScopes`): enough for a bucketed pass of
  /// 20 one-feature questions with statistics per question.
  static let countedScopeGroups = 32

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

  /// Hooks for evaluating `model`: its layers and heads, zeros counted, P·V by `productKernel`, and as many workers
  /// for a layer's statistics as its forward pass uses.
  public convenience init(
    evaluating model: TaskModel, transform: AttentionTransform, replay: ReplayStore?,
    productKernel: AttentionProductKernel
  ) {
    self.init(
      transform: transform, replay: replay, layers: model.layerCount, heads: model.headCount, countSparsity: true)
    self.productKernel = productKernel
    threads = model.computeThreads
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
    let groups = Self.scopeGroups(keys, scope: t.scope == .batch && batchScopePerExample ? .example : t.scope)
    let counting = countSparsity
    // With the row-groups kernel, every P·V of pruned or quantized attention goes through it — evaluating,
    // recording, replaying a recording that was transformed — so that the attention recorded while quantizing,
    // replayed, gives the scores of quantizing on the fly bit for bit (the kernel's sums are not sgemm's).
    // Exact attention, recorded or replayed, stays on sgemm like the exact run.
    let groupsProduct: ((BlockProduct) -> Bool)?
    if productKernel.kernel == .rowGroups { groupsProduct = Self.rowGroupsProduct } else { groupsProduct = nil }
    var hooks = ForwardHooks()
    if t.hsBits > 0 { hooks.layerInput = { _, states, _ in try t.transformLayerInput(states) } }
    if t.hsThreshold > 0 { hooks.layerOutput = { _, states, _ in t.transformLayerOutput(states) } }
    foldBlockCounts()
    if records.isEmpty && record == nil && !t.ablate, let q = t.quantizer, q.quantizesBlockwise {
      // A data-dependent quantizer: keys per block (in cache, on the workers), statistics per scope over the
      // layer, the cascade per block just before its P·V.
      let counts = counting ? BlockZeroCounts(layers: layerCount, items: keys.count, heads: headCount) : nil
      blockCounts = counts
      let scopeGroups = groups ?? [Array(keys.indices)]
      // A histogram is 384 KB per counting thread: many small scopes (record scope over a large batch) count in
      // phase 2 instead, where they cost little.
      var pools: [BucketHistogramPool] = []
      if scopeGroups.count <= Self.countedScopeGroups {
        while histogramPools.count < scopeGroups.count { histogramPools.append(BucketHistogramPool()) }
        pools = Array(histogramPools.prefix(scopeGroups.count))
        for pool in pools { pool.clear() }  // a batch that failed midway may have left counts
      }
      let scopes = BlockwiseScopes(quantizer: q, transform: t, groups: scopeGroups, items: keys.count,
                                   heads: headCount, arena: keyArena, histograms: pools, threads: threads,
                                   countedPaddingLength: countedPaddingLength)
      hooks.attentionBlock = { layer, item, head, block, n, seqLen in
        scopes.collect(layer: layer, item: item, head: head, block: block, n: n, seqLen: seqLen)
      }
      hooks.attention = { layer, _, shape in
        do {
          try scopes.decide(layer: layer, seqLen: shape.seqLen)
        } catch {
          throw TasksError.badData("quantizer \(q.method.rawValue) at layer \(layer): \(error)")
        }
      }
      hooks.attentionBlockBeforeProduct = { layer, item, head, block, n, seqLen in
        scopes.apply(layer: layer, item: item, head: head, block: block, n: n, seqLen: seqLen)
        counts?.count(layer: layer, item: item, head: head, block: block, n: n, seqLen: seqLen)
      }
      // uniform_slog_mean gives 0 its first level unless more than half the scope is 0: decided per layer.
      hooks.paddingStaysZero = !q.statisticsTakeEveryValue
      if q.statisticsTakeEveryValue { hooks.paddingStayedZero = { _ in scopes.keepsZero } }
      // Below 1e-3 is 0 now: most of a block.
      if let groupsProduct {
        hooks.attentionProduct = groupsProduct
      } else if productKernel.kernel == .sparse {
        hooks.attentionProduct = { p in
          guard t.transforms(layer: p.layer, head: p.head) else { return false }
          p.sparse()
          return true
        }
      }
      return hooks
    }
    if records.isEmpty && record == nil, let kernel = productKernel.kernel,
      let product = Self.productHook(transform: t, kernel: kernel, counting: counting, layers: layerCount,
                                     items: keys.count, heads: headCount)
    {
      // Pruning or an element-wise quantizer fused into a P·V that reads only what survives.
      blockCounts = product.counts
      hooks.attentionProduct = product.hook
      hooks.attentionProductStandIn = product.inPlace
      hooks.attentionProductAfterStandIn = product.afterInPlace
      hooks.paddingStaysZero = true
      return hooks
    }
    // uniform_slog_mean on a trimmed batch: each block's statistics count the zeros of its padding to this length.
    let countedLength = TaskSettings.countsPadding(t) ? countedPaddingLength : nil
    if countedLength != nil && !records.isEmpty {
      throw TasksError.usage("internal: a replay keeps the reference's padding; it cannot count padding trimmed away")
    }
    if records.isEmpty && (t.quantizer?.method.isElementwise ?? true) {
      // Pruning, an element-wise quantizer or ablation, and counting: per block, in cache, on the worker threads.
      let counts = counting ? BlockZeroCounts(layers: layerCount, items: keys.count, heads: headCount) : nil
      blockCounts = counts
      hooks.attentionBlock = Self.blockHook(transform: t, counts: counts)
      hooks.paddingStaysZero = t.keepsPaddingZero
      if let record {
        hooks.attention = { layer, probs, shape in try record(layer, probs, shape) }
      }
      if t.changesAttention, let groupsProduct { hooks.attentionProduct = groupsProduct }
      return hooks
    }
    // Replayed rows fill only the real block; the transform then keeps padding 0 or not.
    hooks.paddingStaysZero = t.keepsPaddingZero
    if let groupsProduct {
      let transformedRows = records.map { TransformMetadata.isTransformed($0.transform) }
      if t.changesAttention || transformedRows.contains(true) {
        hooks.attentionProduct = { p in
          (t.changesAttention || (p.item < transformedRows.count && transformedRows[p.item])) && groupsProduct(p)
        }
      }
    }
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
          let blockSize = shape.seqLen * shape.seqLen
          for parts in parts {
            // Whole [T, T] blocks here (uniform_slog_mean does not keep padding 0, so not real rows only).
            let padding = countedLength.map { max(0, $0 * $0 - blockSize) } ?? 0
            let zeros = padding * (parts.reduce(0) { $0 + $1.count } / blockSize)
            let stats = try t.transformAttention(parts, rowLength: shape.seqLen, countedZeros: zeros)
            if zeros > 0, let q = t.quantizer, let stats, !q.cascade(stats).keepsZero {
              throw BlockwiseScopes.CountedPaddingNotZero()
            }
          }
        } catch {
          throw TasksError.badData("quantizer \(t.quantizer?.method.rawValue ?? "?") at layer \(layer): \(error)")
        }
      }
      if counting { self.counted.add(layer: layer, probs: probs, dims: shape) }
      try record?(layer, probs, shape)
    }
    return hooks
  }

  /// A transform fused into a P·V kernel, as `ForwardHooks` takes it.
  struct FusedProduct {
    /// `ForwardHooks.attentionProduct`: transform, multiply, count.
    var hook: (BlockProduct) -> Bool
    /// `ForwardHooks.attentionProductStandIn`: the per-block hook (transform in place, count).
    var inPlace: ForwardHooks.AttentionBlockHook
    /// `ForwardHooks.attentionProductAfterStandIn`: the kernel's product of a block `inPlace` has transformed
    /// (nil: sgemm).
    var afterInPlace: ((BlockProduct) -> Bool)?
    var counts: BlockZeroCounts?
  }

  /// P·V by a kernel (`kernel`), for pruning (`-at`) and element-wise quantizers (nil otherwise), counting each
  /// block's zeros from the kernel's survivors.
  /// - `rowGroups`: a selected block is quantized in place (pruning alone is fused into the kernel's scan), then
  ///   multiplied by `BlockProduct.rowGroups`; observed (`inPlace` stands in), the block is still multiplied by
  ///   `rowGroups`, so that a recorder changes no bit.
  /// - `sparse`: for quantizers that map 0 to 0 and nothing else to 0, a selected block is never written; its
  ///   product reads the values that survive pruning (`BlockProduct.sparse`) or their codes (`BlockProduct.codes`).
  ///   Observed, it is multiplied by sgemm (spiqa-extract records `sparse` with sgemm).
  /// A block the kernel refuses (out of memory; for the codes, a value they do not cover: negative, above 1, NaN)
  /// goes through `inPlace` and sgemm, as without the product hook.
  static func productHook(
    transform t: AttentionTransform, kernel: AttentionProductKernel.BlockKernel, counting: Bool, layers: Int,
    items: Int, heads: Int
  ) -> FusedProduct? {
    guard t.changesAttention, !t.ablate, t.keepsPaddingZero else { return nil }
    let counts = counting ? BlockZeroCounts(layers: layers, items: items, heads: heads) : nil
    let inPlace = blockHook(transform: t, counts: counts)
    // The reference keeps p > t (docs/quantizers.md): the kernels prune what lies below their bound, so the bound
    // is the float just above t.
    let pruneBelow: Float = t.threshold > 0 ? Float(t.threshold).nextUp : 0
    if kernel == .rowGroups {
      guard t.quantizer?.method.isElementwise ?? true else { return nil }
      let pruningOnly = t.quantizer == nil
      let hook: (BlockProduct) -> Bool = { p in
        let selected = t.transforms(layer: p.layer, head: p.head)
        if selected && !pruningOnly { t.transformElementwise(p.probs, rows: p.n, columns: p.n, stride: p.seqLen) }
        guard let r = p.rowGroups(pruneBelow: selected && pruningOnly ? pruneBelow : 0) else {
          // Nothing was written: prune here if the kernel was to.
          if selected && pruningOnly { t.transformElementwise(p.probs, rows: p.n, columns: p.n, stride: p.seqLen) }
          counts?.count(layer: p.layer, item: p.item, head: p.head, block: p.probs, n: p.n, seqLen: p.seqLen)
          return false
        }
        counts?.set(layer: p.layer, item: p.item, head: p.head, zeros: p.n * p.n - r.nonzero, n: p.n)
        return true
      }
      return FusedProduct(hook: hook, inPlace: inPlace, afterInPlace: Self.rowGroupsProduct, counts: counts)
    }
    var codes: ProductCodes?
    if let q = t.quantizer {
      guard let c = q.productCodes else { return nil }
      codes = c
    }
    let pruneBits = t.threshold > 0 ? pruneBelow.bitPattern : 0
    let hook: (BlockProduct) -> Bool = { p in
      if t.transforms(layer: p.layer, head: p.head),
        let kept = codes.map({ p.codes($0, pruneBits: pruneBits) }) ?? p.sparse(pruneBelow: pruneBelow)
      {
        counts?.set(layer: p.layer, item: p.item, head: p.head, zeros: p.n * p.n - kept, n: p.n)
        return true
      }
      inPlace(p.layer, p.item, p.head, p.probs, p.n, p.seqLen)
      return false
    }
    return FusedProduct(hook: hook, inPlace: inPlace, afterInPlace: nil, counts: counts)
  }

  /// P·V of a block as it is, by the row-groups kernel (false: it refused, sgemm multiplies).
  static func rowGroupsProduct(_ p: BlockProduct) -> Bool { p.rowGroups() != nil }

  /// The per-block hook: transform the block when its (layer, head) is selected, then count its zeros.
  static func blockHook(transform t: AttentionTransform, counts: BlockZeroCounts?) -> ForwardHooks.AttentionBlockHook {
    let changes = t.changesAttention, keepsZero = t.keepsPaddingZero
    return { layer, item, head, block, n, seqLen in
      if changes && t.transforms(layer: layer, head: head) {
        // With f(0) = 0 the padded rows and the padded columns of the real rows cannot change: the real n×n only.
        let m = keepsZero ? n : seqLen
        t.transformElementwise(block, rows: m, columns: m, stride: seqLen)
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

extension AttentionQuantizer {
  /// The quantizer as codes for the P·V kernels (`BlockProduct.codes`): its segments on [0, 1) and its value at 1.0;
  /// nil for a data-dependent method or one whose levels the kernels cannot take (`ProductCodes.init`).
  public var productCodes: ProductCodes? {
    segments.flatMap { ProductCodes(starts: $0.starts, values: $0.values, atOne: quantize(1)) }
  }
}

/// How P·V runs under an attention transform (docs/runtime.md, "P·V from the codes" and "P·V by row groups").
public enum AttentionProductKernel: String, Sendable, CaseIterable {
  /// sgemm on every block, as the reference.
  case dense
  /// Where the transform allows: pruning and element-wise quantizers fused into a P·V that reads the survivors or
  /// their codes; the clamped data-dependent quantizers' zeros skipped. Equal to `dense` up to float rounding.
  case sparse
  /// The transform in place, then sgemm's products less the columns that are zero in every row of a group of 4
  /// rows (`BlockProduct.rowGroups`). Equal to `dense` up to float rounding.
  case groups
  /// `groups` on a CPU with AVX2 or AVX-512 (`BlockProduct.rowGroupsPayOff`), where it measured faster than
  /// `dense` and `sparse` at every length; `dense` otherwise.
  case auto

  /// The product kernel that runs (nil: sgemm).
  var kernel: BlockKernel? {
    switch self {
    case .dense: return nil
    case .sparse: return .sparse
    case .groups: return .rowGroups
    case .auto: return BlockProduct.rowGroupsPayOff ? .rowGroups : nil
    }
  }

  enum BlockKernel {
    case sparse, rowGroups
  }

  /// The kernel while spiqa-extract records: `sparse` fuses the transform into P·V, where a recorder would not see
  /// it, so recording multiplies by sgemm instead (`AttentionHooks.hooks`).
  public var whileRecording: AttentionProductKernel { self == .sparse ? .dense : self }

  /// The kernel that runs on this machine, `auto` resolved: "groups", "sparse" or "dense".
  public var resolvedName: String {
    switch kernel {
    case .rowGroups: return AttentionProductKernel.groups.rawValue
    case .sparse: return AttentionProductKernel.sparse.rawValue
    case nil: return AttentionProductKernel.dense.rawValue
    }
  }

  /// `provenance.compute` of a run whose pruned or quantized attention is multiplied by this kernel (exact
  /// attention is always sgemm): the BLAS, the C kernels' instruction set and this kernel, resolved — what two
  /// results that differ in the last bits may differ in (docs/cli.md, "Result keys").
  public var computeProvenance: JSONObject {
    [
      "blas": .string(ComputeBackend.blas), "kernels": .string(ComputeBackend.kernelISA),
      "attention_product": .string(resolvedName),
    ]
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
    set(layer: layer, item: item, head: head, zeros: SparsityCounter.zeros(block, rows: n, columns: n, stride: seqLen),
        n: n)
  }

  /// Records a block's zeros counted elsewhere (by the P·V kernel).
  func set(layer: Int, item: Int, head: Int, zeros z: Int, n: Int) {
    guard layer < layers, item < items, head < heads else { return }
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

/// Room for the statistics keys of every block of a batch, grown (never shrunk) on first use by a layer's first
/// block; reused batch after batch so no pages are faulted in per batch.
final class KeyArena: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var base: UnsafeMutablePointer<UInt32>?
  private var capacity = 0

  /// The arena with room for `count` keys (contents are not kept when it grows).
  func reserve(_ count: Int) -> UnsafeMutablePointer<UInt32> {
    lock.lock()
    defer { lock.unlock() }
    if let base, capacity >= count { return base }
    base?.deallocate()
    capacity = max(count, 1)
    let p = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
    base = p
    return p
  }

  deinit { base?.deallocate() }
}

/// One batch's blockwise data-dependent quantization: `collect` per block (phase 1), `decide` per layer (phase 2:
/// one set of statistics per scope group), `apply` per block (phase 3). Blocks are [T, T] with n real rows and
/// columns; only the real n×n values are read (padding is 0: below 1e-3 for the clamped methods; counted as zeros
/// of the scope for uniform_slog_mean, whose cascade then covers the whole T×T block unless it keeps 0).
final class BlockwiseScopes: @unchecked Sendable {
  let quantizer: AttentionQuantizer
  let transform: AttentionTransform
  let groups: [[Int]]
  let items: Int
  let heads: Int
  let arena: KeyArena
  /// Per scope group, the pool its blocks count their keys into (empty: counted in phase 2).
  let histograms: [BucketHistogramPool]
  let threads: Int
  /// Each block's statistics count the zeros of a `countedPaddingLength`² block when that is wider than the batch's
  /// (uniform_slog_mean on trimmed features: the reference's padding).
  let countedPaddingLength: Int?
  /// True when every cascade of the current layer maps 0 to 0 (set by `decide`).
  private(set) var keepsZero = true
  /// Keys written by each (item, head) block of the current layer (-1: not transformed); each block writes its own
  /// slot from its worker thread. A block's keys start at `slot · seqLen²` in the arena.
  private let keyCounts: UnsafeMutablePointer<Int>
  private var cascades: [QuantCascade?]
  private let groupOfItem: [Int]

  init(quantizer: AttentionQuantizer, transform: AttentionTransform, groups: [[Int]], items: Int, heads: Int,
       arena: KeyArena, histograms: [BucketHistogramPool], threads: Int, countedPaddingLength: Int? = nil)
  {
    self.countedPaddingLength = countedPaddingLength
    self.histograms = histograms
    self.threads = max(1, threads)
    self.quantizer = quantizer
    self.transform = transform
    self.groups = groups
    self.items = items
    self.heads = heads
    self.arena = arena
    keyCounts = .allocate(capacity: max(1, items * heads))
    keyCounts.initialize(repeating: -1, count: max(1, items * heads))
    cascades = Array(repeating: nil, count: groups.count)
    var g = Array(repeating: -1, count: items)
    for (k, rows) in groups.enumerated() { for i in rows where i < items { g[i] = k } }
    groupOfItem = g
  }

  deinit { keyCounts.deallocate() }

  func collect(layer: Int, item: Int, head: Int, block: UnsafeMutablePointer<Float>, n: Int, seqLen: Int) {
    let slot = item * heads + head
    guard item < items, head < heads else { return }
    guard transform.transforms(layer: layer, head: head) else {
      keyCounts[slot] = -1
      return
    }
    let stride = seqLen * seqLen
    let base = arena.reserve(items * heads * stride) + slot * stride
    // Pruning first (the quantizer is data-dependent, so this does nothing else).
    transform.transformElementwise(block, rows: n, columns: n, stride: seqLen)
    let group = groupOfItem[item]
    let pool = group >= 0 && group < histograms.count ? histograms[group] : nil
    keyCounts[slot] = quantizer.statisticsKeys(block, rows: n, columns: n, stride: seqLen, into: base, counting: pool)
  }

  /// Padding counted as zeros reached a level other than 0: trimmed features would then miss what the reference's
  /// padded ones gave P·V (`TaskSettings.evaluationTrimsQuestion` keeps this from happening).
  struct CountedPaddingNotZero: Error, CustomStringConvertible {
    var description: String { "internal: padding counted for the statistics would not stay 0" }
  }

  func decide(layer: Int, seqLen: Int) throws {
    let blockStride = seqLen * seqLen
    let scopeLength = max(seqLen, countedPaddingLength ?? seqLen)
    for k in cascades.indices { cascades[k] = nil }
    keepsZero = true
    guard transform.transforms(layer: layer), let base = arena.base else { return }
    var scopes: [AttentionQuantizer.ScopeKeys] = []
    var scopeGroups: [Int] = []
    for (k, rows) in groups.enumerated() {
      var regions: [UnsafeBufferPointer<UInt32>] = []
      for i in rows where i < items {
        for h in 0..<heads where keyCounts[i * heads + h] >= 0 {
          let slot = i * heads + h
          regions.append(UnsafeBufferPointer(start: base + slot * blockStride, count: keyCounts[slot]))
        }
      }
      guard !regions.isEmpty else { continue }
      scopes.append(.init(keys: regions, scopeSize: regions.count * scopeLength * scopeLength,
                          counted: k < histograms.count ? histograms[k] : nil))
      scopeGroups.append(k)
    }
    let stats = try quantizer.statistics(scopes: scopes, threads: threads)
    for (k, stats) in zip(scopeGroups, stats) {
      let cascade = quantizer.cascade(stats)
      if scopeLength > seqLen && !cascade.keepsZero { throw CountedPaddingNotZero() }
      keepsZero = keepsZero && cascade.keepsZero
      cascades[k] = cascade
    }
  }

  func apply(layer: Int, item: Int, head: Int, block: UnsafeMutablePointer<Float>, n: Int, seqLen: Int) {
    guard item < items, head < heads, keyCounts[item * heads + head] >= 0, transform.transforms(layer: layer, head: head),
      let cascade = cascades[groupOfItem[item]]
    else { return }
    // A cascade that moves 0 quantizes the padding too, as the reference does to the whole tensor.
    let m = cascade.keepsZero ? n : seqLen
    cascade.apply(block, rows: m, columns: m, stride: seqLen)
  }
}
