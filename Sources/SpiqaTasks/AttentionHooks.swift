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
  public private(set) var sparsity: SparsityCounter
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
    sparsity = SparsityCounter(layers: layers, heads: heads)
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
    hooks.attention = { [unowned self] layer, probs, shape in
      for row in 0..<min(shape.batch, records.count) {
        try ReplayStore.replace(
          probs, dims: shape, row: row, layer: layer, record: records[row], key: keys[row],
          inputIds: row < inputIds.count ? inputIds[row] : nil)
      }
      if t.changesAttention && t.transforms(layer: layer) {
        do {
          for parts in Self.scopes(probs, shape: shape, groups: groups, heads: t.selectedHeads(layer: layer)) {
            try t.transformAttention(parts, rowLength: shape.seqLen)
          }
        } catch {
          throw TasksError.badData("quantizer \(t.quantizer?.method.rawValue ?? "?") at layer \(layer): \(error)")
        }
      }
      if counting { self.sparsity.add(layer: layer, probs: probs, dims: shape) }
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
  static func scopes(
    _ probs: UnsafeMutableBufferPointer<Float>, shape: AttentionShape, groups: [[Int]]?, heads: [Int]?
  ) -> [[UnsafeMutableBufferPointer<Float>]] {
    let tt = shape.seqLen * shape.seqLen
    func slice(_ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Float> {
      UnsafeMutableBufferPointer(rebasing: probs[start..<(start + count)])
    }
    let rowGroups = groups ?? [Array(0..<shape.batch)]
    if let heads {
      let kept = heads.filter { $0 >= 0 && $0 < shape.heads }
      return rowGroups.map { rows in rows.flatMap { b in kept.map { slice(shape.offset(item: b, head: $0), tt) } } }
    }
    if groups == nil { return [[probs]] }
    return rowGroups.map { rows in rows.map { slice($0 * shape.heads * tt, shape.heads * tt) } }
  }
}
