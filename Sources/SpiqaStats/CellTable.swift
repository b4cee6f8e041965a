/// One lookup per value for everything the per-value loop classifies: histogram bin (after the float32 offset),
/// threshold class, exact zero, and `≤ row-sparsity bar`.
///
/// Each of these is a monotone step function of a non-negative float32, so together they cut `[+0, +inf]` into at
/// most `bins + thresholds + 4` "cells" on which all four are constant. A `BitStepTable` maps the raw value's bits
/// to its cell; counts per cell are turned into bin / threshold / zero / sparsity counts once per row or block.
/// Negative values, -0.0 and NaN (sign bit or NaN bits) are not in the table: callers classify them one by one.
struct CellTable: Sendable {
  /// What a cell stands for.
  struct Cell: Sendable, Equatable {
    /// Histogram bin, or -1 (not counted).
    var bin: Int
    /// `ThresholdClassifier.classify` of the cell's values.
    var thresholdClass: Int
    /// The cell holds exactly +0.0.
    var isZero: Bool
    /// Values of the cell are `≤` the row-sparsity bar.
    var atMostBar: Bool
  }

  /// The cells, in value order.
  let cells: [Cell]
  private let table: BitStepTable

  /// Builds the cells from the same binner and thresholds the slow path uses.
  init(binner: Binner, thresholds: ThresholdClassifier, bar: Float) {
    let last = BitStepTable.lastBits
    func attributes(_ bits: UInt32) -> Cell {
      let v = Float(bitPattern: bits)
      return Cell(bin: binner.bin(v), thresholdClass: thresholds.classify(v), isZero: bits == 0, atMostBar: v <= bar)
    }
    // Position class of the histogram: 0 below the edges, k+1 in bin k, bins+1 above; monotone in the value.
    let bins = binner.bins
    let first = binner.edges.edges[0]
    func position(_ bits: UInt32) -> Int {
      let v = Float(bitPattern: bits)
      let k = binner.bin(v)
      if k >= 0 { return k + 1 }
      return Double(v + binner.edges.offset) < first ? 0 : bins + 1
    }
    var starts = Set<UInt32>([0, 1])
    for k in 1...(bins + 1) {
      // Smallest bits with position ≥ k, by binary search over [0, last + 1).
      var lo: UInt32 = 0
      var hi: UInt32 = last + 1
      while lo < hi {
        let mid = lo + (hi - lo) / 2
        if position(mid) >= k { hi = mid } else { lo = mid + 1 }
      }
      if lo <= last { starts.insert(lo) }
    }
    for t in thresholds.thresholds { starts.insert(min(t.bitPattern + 1, last)) }
    if bar >= 0 && bar.isFinite { starts.insert(min(bar.bitPattern + 1, last)) }
    let sorted = starts.sorted()
    cells = sorted.map(attributes)
    table = BitStepTable(
      initial: 0, steps: sorted.enumerated().dropFirst().map { (bits: $0.element, value: Int16($0.offset)) })
  }

  /// The lookup table's buckets (for a raw copy in the per-value loop; `cell(_:)` for buckets marked slow).
  var entries: [BitStepTable.Entry] { table.entries }

  /// Number of cells.
  var count: Int { cells.count }

  /// The cell of non-negative bits `b ≤ 0x7F80_0000`.
  @inline(__always)
  func cell(_ b: UInt32) -> Int { Int(table(b)) }
}
