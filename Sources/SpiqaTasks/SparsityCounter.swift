import SpiqaModel

/// Exact zeros of the attention actually used, per (layer, head), over the real n×n block of every sequence
/// (§3.2 step 7): `zeros[l][h] / total` is a head's sparsity; `overall` is the mean over heads (= global fraction).
public struct SparsityCounter: Sendable {
  public private(set) var zeros: [[Int]]
  /// Σ n² over all sequences (the same for every head).
  public private(set) var total = 0

  public init(layers: Int, heads: Int) {
    zeros = Array(repeating: Array(repeating: 0, count: heads), count: layers)
  }

  /// Counts read back (a shard line, `EvalShardLine`).
  init(zeros: [[Int]], total: Int) {
    self.zeros = zeros
    self.total = total
  }

  /// Adds another counter's counts (the same layers and heads).
  mutating func merge(_ other: SparsityCounter) {
    for l in zeros.indices where l < other.zeros.count {
      for h in zeros[l].indices where h < other.zeros[l].count { zeros[l][h] += other.zeros[l][h] }
    }
    total += other.total
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
