import SpiqaModel
import SpiqaQuant

/// What the evaluation does to attention and hidden states (spiqa-reference.md §1.1, §1.3), in the reference order:
/// (replay) → prune (`p > t` kept) → quantize → P·V; hidden states: quantize each layer's input, threshold its output.
public struct AttentionSettings: Sendable {
  /// Pruning threshold (0 = off).
  public var threshold: Float = 0
  /// Quantizer applied on the fly (statistics over one layer of the whole batch).
  public var quantizer: AttentionQuantizer?
  /// Hidden-state threshold: |h| ≤ t → 0 on each layer's output (0 = off).
  public var hsThreshold: Float = 0
  /// Fixed-point hidden-state bits (§2.13; needs ≥ 7; 0 = off) on each layer's input.
  public var hsBits: Int = 0

  public init(threshold: Float = 0, quantizer: AttentionQuantizer? = nil, hsThreshold: Float = 0, hsBits: Int = 0) {
    self.threshold = threshold
    self.quantizer = quantizer
    self.hsThreshold = hsThreshold
    self.hsBits = hsBits
  }

  /// True when nothing is changed (exact attention).
  public var isExact: Bool { threshold == 0 && quantizer == nil && hsThreshold == 0 && hsBits == 0 }
}

/// Exact zeros of the attention actually used, per (layer, head), over the real n×n block of every sequence
/// (§3.2 step 7): `zeros[l][h] / total` is a head's sparsity; `overall` is the mean over heads (= global fraction).
public struct SparsityCounter: Sendable {
  public private(set) var zeros: [[Int]]
  /// Σ n² over all sequences (the same for every head).
  public private(set) var total = 0

  public init(layers: Int, heads: Int) {
    zeros = Array(repeating: Array(repeating: 0, count: heads), count: layers)
  }

  /// Count one layer of a batch. - Parameter probs: [batch, heads, T, T].
  mutating func add(layer: Int, probs: UnsafeMutableBufferPointer<Float>, dims: AttentionShape) {
    guard layer < zeros.count else { return }
    let t = dims.seqLen
    for b in 0..<dims.batch {
      let n = min(dims.lengths[b], t)
      for h in 0..<min(dims.heads, zeros[layer].count) {
        let base = (b * dims.heads + h) * t * t
        var z = 0
        for r in 0..<n {
          let row = base + r * t
          for c in 0..<n where probs[row + c] == 0 { z += 1 }
        }
        zeros[layer][h] += z
      }
    }
    if layer == 0 {
      for b in 0..<dims.batch {
        let n = min(dims.lengths[b], t)
        total += n * n
      }
    }
  }

  /// Fraction of exact zeros over all layers, heads and real positions (0 when nothing was counted).
  public var overall: Double {
    let heads = zeros.reduce(0) { $0 + $1.count }
    guard total > 0, heads > 0 else { return 0 }
    return Double(zeros.reduce(0) { $0 + $1.reduce(0, +) }) / (Double(total) * Double(heads))
  }

  /// Per-head sparsity [layers][heads].
  public var perHead: [[Double]] {
    zeros.map { row in row.map { total > 0 ? Double($0) / Double(total) : 0 } }
  }
}

/// Builds the hooks for one batch: replays records, prunes, quantizes, counts sparsity, touches hidden states.
final class AttentionPipeline {
  let settings: AttentionSettings
  let replay: ReplayStore?
  let layerCount: Int
  var sparsity: SparsityCounter

  init(settings: AttentionSettings, replay: ReplayStore?, layers: Int, heads: Int) {
    self.settings = settings
    self.replay = replay
    self.layerCount = layers
    self.sparsity = SparsityCounter(layers: layers, heads: heads)
  }

  /// Hooks for a batch whose rows are `keys` (and `inputIds`, for token checks of replayed records).
  func hooks(keys: [RecordKey], inputIds: [[Int]]) throws -> ForwardHooks {
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
    var hooks = ForwardHooks()
    let settings = self.settings
    hooks.attention = { [unowned self] layer, probs, dims in
      if !records.isEmpty {
        for row in 0..<dims.batch where row < records.count {
          try ReplayStore.replace(
            probs, dims: dims, row: row, layer: layer, record: records[row], key: keys[row],
            inputIds: row < inputIds.count ? inputIds[row] : nil)
        }
      }
      if settings.threshold > 0 { prune(probs, threshold: settings.threshold) }
      if let q = settings.quantizer {
        do {
          try q.apply(probs, rowLength: dims.seqLen)
        } catch {
          throw TasksError.badData("quantizer \(q.method.rawValue) at layer \(layer): \(error)")
        }
      }
      self.sparsity.add(layer: layer, probs: probs, dims: dims)
    }
    if settings.hsBits > 0 {
      let bits = settings.hsBits
      hooks.layerInput = { _, states, _ in try HiddenStateQuantizer.fixed(states, bits: bits) }
    }
    if settings.hsThreshold > 0 {
      let t = settings.hsThreshold
      hooks.layerOutput = { _, states, _ in pruneHidden(states, threshold: t) }
    }
    return hooks
  }
}
