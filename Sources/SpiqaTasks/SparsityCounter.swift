import CQuantKernels
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

  /// Adds the counts of `other`, read from `source` (a shard line, whose counts are each within its total).
  /// - Throws: `TasksError.badData` for other layers × heads, or totals whose sum overflows (a crafted line).
  mutating func merge(_ other: SparsityCounter, from source: String) throws {
    guard other.zeros.count == zeros.count, other.zeros.first?.count == zeros.first?.count else {
      throw TasksError.badData(
        "\(source): sparsity_zeros of \(other.zeros.count) layers × \(other.zeros.first?.count ?? 0) heads, not "
          + "\(zeros.count) × \(zeros.first?.count ?? 0) as in the shards before it")
    }
    let (sum, overflow) = total.addingReportingOverflow(other.total)
    guard !overflow else { throw TasksError.badData("\(source): sparsity_total overflows the sum of the shards") }
    // Each count is at most its own total, so no sum of counts overflows once the totals' sum does not.
    for l in zeros.indices {
      for h in zeros[l].indices { zeros[l][h] += other.zeros[l][h] }
    }
    total = sum
  }

  /// Count one layer of a batch. - Parameter probs: [batch, heads, T, T].
  mutating func add(layer: Int, probs: UnsafeMutableBufferPointer<Float>, dims: AttentionShape) {
    guard layer < zeros.count else { return }
    let t = dims.seqLen
    for b in 0..<dims.batch {
      let n = min(dims.lengths[b], t)
      for h in 0..<min(dims.heads, zeros[layer].count) {
        let base = (b * dims.heads + h) * t * t
        zeros[layer][h] += Self.zeros(probs.baseAddress! + base, rows: n, columns: n, stride: t)
      }
    }
    if layer == 0 {
      for b in 0..<dims.batch {
        let n = min(dims.lengths[b], t)
        total += n * n
      }
    }
  }

  /// Exact zeros in the `[rows, columns]` corner of a row-major matrix with row stride `stride`. Branchless:
  /// pruned or quantized attention is zero about half the time, which a branch would mispredict.
  static func zeros(_ p: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int) -> Int {
    spiqa_quant_count_zeros(p, rows, columns, stride)
  }

  /// Adds `zeros` zeros to (layer, head) (a count taken elsewhere, e.g. per block during the forward pass).
  mutating func add(layer: Int, head: Int, zeros z: Int) {
    guard layer < zeros.count, head < zeros[layer].count else { return }
    zeros[layer][head] += z
  }

  /// Adds one sequence's n² real positions to `total`.
  mutating func addTotal(_ positions: Int) { total += positions }

  /// Fraction of exact zeros over all layers, heads and real positions (0 when nothing was counted).
  public var overall: Double {
    let heads = zeros.reduce(0) { $0 + $1.count }
    guard total > 0, heads > 0 else { return 0 }
    // Summed as doubles: exact below 2^53 like the integers, and no overflow from a crafted shard line.
    return zeros.joined().reduce(0.0) { $0 + Double($1) } / (Double(total) * Double(heads))
  }

  /// Per-head sparsity [layers][heads].
  public var perHead: [[Double]] {
    zeros.map { row in row.map { total > 0 ? Double($0) / Double(total) : 0 } }
  }
}
