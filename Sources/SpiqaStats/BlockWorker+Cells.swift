/// Counting a row's values by cell: the cell table (`CellTable`) turns float bits into bins, threshold classes
/// and the zero/bar flags; counts per cell are folded into those once per row or block.
extension BlockWorker {
  /// Moves the cell counts (both halves) into bin counts and the block's cell counts, and zeroes them; returns
  /// the values ≤ the bar. Branch-free: one pass over the ~bins + thresholds cells (per row with per-row statistics,
  /// so threshold classes and zeros wait for `foldBlockCells`).
  @inline(__always)
  func reduceCells(into counts: UnsafeMutableBufferPointer<Int32>) -> Int {
    let cellCount = cellTable.count
    let even = cellCounts.baseAddress!
    let odd = even + cellCount + 1
    let block = blockCells.baseAddress!
    var le: Int32 = 0
    for c in 0..<cellCount {
      let m = even[c] &+ odd[c]
      even[c] = 0
      odd[c] = 0
      counts[cellBin[c]] &+= m
      block[c] &+= m
      le &+= m & cellBarMask[c]
    }
    return Int(le)
  }

  /// Adds the block's cell counts to the threshold classes and the zero count, and zeroes them.
  func foldBlockCells(classes: UnsafeMutableBufferPointer<Int32>, zeros: inout Int64) {
    for c in 0..<cellTable.count {
      let m = blockCells[c]
      classes[cellClass[c]] &+= m
      zeros &+= Int64(m & cellZeroMask[c])
      blockCells[c] = 0
    }
  }

  /// Counts the cells of one row `[n]` (even/odd positions apart); with `candidates`, also copies the values
  /// `≥ cut` there and returns how many in `kept`. Returns whether the row holds slow values (sign bit or NaN bits),
  /// which are left out here.
  @inline(__always)
  func countCells(
    _ row: UnsafePointer<Float>, n: Int, candidates: UnsafeMutablePointer<Float>?, cut: Float, kept: inout Int
  ) -> Bool {
    let e = UnsafePointer(entries.baseAddress!)
    let slowCell = cellTable.count
    let even = cellCounts.baseAddress!
    let odd = even + slowCell + 1
    /// Branch-free except for the rare buckets holding several steps.
    @inline(__always) func cell(_ b: UInt32) -> Int {
      let entry = e[Int(b >> BitStepTable.shift)]
      if _fastPath(entry.base >= 0) { return Int(entry.base) &+ (b >= entry.split ? 1 : 0) }
      return multiStepCell(b)
    }
    var i = 0
    if let candidates {
      var k = 0
      while i + 1 < n {
        let v = row[i]
        let w = row[i + 1]
        even[cell(v.bitPattern)] &+= 1
        odd[cell(w.bitPattern)] &+= 1
        candidates[k] = v  // branch-free: kept only when ≥ cut
        k &+= v >= cut ? 1 : 0
        candidates[k] = w
        k &+= w >= cut ? 1 : 0
        i += 2
      }
      if i < n {
        let v = row[i]
        even[cell(v.bitPattern)] &+= 1
        candidates[k] = v
        k &+= v >= cut ? 1 : 0
      }
      kept = k
    } else {
      while i + 1 < n {
        even[cell(row[i].bitPattern)] &+= 1
        odd[cell(row[i + 1].bitPattern)] &+= 1
        i += 2
      }
      if i < n { even[cell(row[i].bitPattern)] &+= 1 }
    }
    let slow = even[slowCell] | odd[slowCell] != 0
    even[slowCell] = 0
    odd[slowCell] = 0
    return slow
  }

  /// The cell of bits in a bucket with several steps (binary search).
  @inline(never)
  func multiStepCell(_ b: UInt32) -> Int { cellTable.cell(b) }
}
