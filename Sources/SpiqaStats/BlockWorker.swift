/// Raw per-row output buffers of one record (see `RowArrays`), written by several workers at disjoint offsets.
struct RowBuffers: @unchecked Sendable {
  var histogram: UnsafeMutableBufferPointer<Int32>
  var sparsity: UnsafeMutableBufferPointer<Double>
  var tokensToMajority: UnsafeMutableBufferPointer<Int32>
  var medianBin: UnsafeMutableBufferPointer<Int32>
  var jensenShannon: UnsafeMutableBufferPointer<Double>

  /// Zeroed buffers for `heads` blocks of `n` rows.
  init(heads: Int, n: Int, bins: Int, compare: Bool) {
    histogram = .allocate(capacity: heads * n * bins)
    histogram.initialize(repeating: 0)
    sparsity = .allocate(capacity: heads * n)
    sparsity.initialize(repeating: 0)
    tokensToMajority = .allocate(capacity: heads * n)
    tokensToMajority.initialize(repeating: 0)
    medianBin = .allocate(capacity: heads * n)
    medianBin.initialize(repeating: 0)
    jensenShannon = .allocate(capacity: compare ? heads * n : 0)
    jensenShannon.initialize(repeating: 0)
  }

  /// Copies into arrays and frees the buffers.
  func finish(compare: Bool) -> RowArrays {
    var r = RowArrays()
    r.histogram = Array(histogram)
    r.sparsity = Array(sparsity)
    r.tokensToMajority = Array(tokensToMajority)
    r.medianBin = Array(medianBin)
    r.jensenShannon = compare ? Array(jensenShannon) : []
    histogram.deallocate()
    sparsity.deallocate()
    tokensToMajority.deallocate()
    medianBin.deallocate()
    jensenShannon.deallocate()
    return r
  }
}

/// The per-(layer, head) work of `AttentionStatistics`, with its own scratch buffers so that several workers can
/// process different heads of one record on different threads. A worker is used by one thread at a time.
final class BlockWorker: @unchecked Sendable {
  let options: StatsOptions
  let binner: Binner
  let jsBinner: Binner
  let thresholds: ThresholdClassifier
  let sparsityBinner: Binner
  private var scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)
  private let rowCounts: UnsafeMutableBufferPointer<Int32>
  private let jsA: UnsafeMutableBufferPointer<Int32>
  private let jsB: UnsafeMutableBufferPointer<Int32>
  private let blockScratch = BlockAccumulator()
  private let cellTable: CellTable
  private let cells: UnsafeMutableBufferPointer<CellTable.Cell>
  private let cellCounts: UnsafeMutableBufferPointer<Int32>

  init(options: StatsOptions, binner: Binner, jsBinner: Binner, thresholds: ThresholdClassifier) {
    self.options = options
    self.binner = binner
    self.jsBinner = jsBinner
    self.thresholds = thresholds
    sparsityBinner = Binner(.linear(bins: options.rowSparsityBins))
    rowCounts = .allocate(capacity: options.edges.bins)
    jsA = .allocate(capacity: options.jsEdges.bins)
    jsB = .allocate(capacity: options.jsEdges.bins)
    cellTable = CellTable(binner: binner, thresholds: thresholds, bar: options.rowSparsityBar)
    cells = .allocate(capacity: cellTable.count)
    _ = cells.initialize(from: cellTable.cells)
    cellCounts = .allocate(capacity: cellTable.count)
    cellCounts.initialize(repeating: 0)
  }

  deinit {
    scratch.deallocate()
    rowCounts.deallocate()
    jsA.deallocate()
    jsB.deallocate()
    cells.deallocate()
    cellCounts.deallocate()
  }

  /// Moves the cell counts into bin counts, threshold classes and the zero count; returns the values ≤ the bar.
  @inline(__always)
  private func reduceCells(
    into counts: UnsafeMutableBufferPointer<Int32>, classes: UnsafeMutableBufferPointer<Int32>, zeros: inout Int64
  ) -> Int {
    var le = 0
    for c in 0..<cells.count {
      let m = cellCounts[c]
      if m != 0 {
        let cell = cells[c]
        if cell.bin >= 0 { counts[cell.bin] &+= m }
        classes[cell.thresholdClass] &+= m
        if cell.isZero { zeros &+= Int64(m) }
        if cell.atMostBar { le &+= Int(m) }
        cellCounts[c] = 0
      }
    }
    return le
  }

  /// Makes the scratch row buffer hold `n` floats.
  func reserve(_ n: Int) {
    if scratch.count < n {
      scratch.deallocate()
      scratch = .allocate(capacity: n)
    }
  }

  /// One (layer, head) block `[n, n]`: per-value counts in registers and the engine's scratch buffers, merged
  /// into the head's statistics once per block.
  func addBlock(
    _ x: UnsafeBufferPointer<Float>, n: Int, head h: Int, compare: UnsafeBufferPointer<Float>?,
    into hs: UnsafeMutablePointer<HeadStatistics>, rows: RowBuffers?
  ) {
    let bins = options.edges.bins
    let levels = options.spreadLevels
    let bar = options.rowSparsityBar
    let binner = self.binner
    let thresholds = self.thresholds
    let perRow = options.perRowStatistics || rows != nil || compare != nil
    let counts = rowCounts
    let candidates = scratch
    let acc = blockScratch
    acc.reset(bins: bins, levels: levels, classes: thresholds.thresholds.count + 2, sparsityBins: options.rowSparsityBins)
    let classes = acc.classes
    let cut = Float(0.5) / Float(n)
    var zeros: Int64 = 0
    var mn = Float.infinity
    var mx = -Float.infinity
    var sum = 0.0
    var rowSparsity = Moments()
    var ttmMoments = Moments()
    var ttmFraction = Moments()
    var medianMoments = Moments()
    var emptyRows: Int64 = 0
    var js = Moments()
    var jsMax = -Double.infinity
    let cellTable = self.cellTable
    let cellCounts = self.cellCounts
    let lastBits = BitStepTable.lastBits
    /// Negative values, -0.0 and NaN: classified one by one.
    func slowValue(_ v: Float, _ le: inout Int) {
      let b = binner.bin(v)
      if b >= 0 { counts[b] &+= 1 }
      classes[thresholds.classify(v)] &+= 1
      if v <= bar { le &+= 1 }
      if v == 0 { zeros &+= 1 }
    }
    if !perRow { for b in 0..<bins { counts[b] = 0 } }
    var blockLE = 0
    for r in 0..<n {
      let row = UnsafeBufferPointer(rebasing: x[(r * n)..<(r * n + n)])
      var le = 0
      var rowSum = 0.0
      var k = 0
      if !perRow {
        for v in row {
          let b = v.bitPattern
          if b <= lastBits { cellCounts[cellTable.cell(b)] &+= 1 } else { slowValue(v, &blockLE) }
          mn = v < mn ? v : mn
          mx = v > mx ? v : mx
          rowSum += Double(v)
        }
        sum += rowSum
        continue
      }
      for b in 0..<bins { counts[b] = 0 }
      var rowSum2 = 0.0
      var j = 0
      for v in row {
        let b = v.bitPattern
        if b <= lastBits { cellCounts[cellTable.cell(b)] &+= 1 } else { slowValue(v, &le) }
        candidates[k] = v  // branch-free: kept only when v ≥ 0.5/n
        k &+= v >= cut ? 1 : 0
        mn = v < mn ? v : mn
        mx = v > mx ? v : mx
        if j & 1 == 0 { rowSum += Double(v) } else { rowSum2 += Double(v) }
        j &+= 1
      }
      rowSum += rowSum2
      le += reduceCells(into: counts, classes: classes, zeros: &zeros)
      sum += rowSum
      // Row-level quantities.
      var total = 0
      for b in 0..<bins { total += Int(counts[b]) }
      let sparsity = Double(le) / Double(n)
      let ttm = RowStatistics.tokensToMajority(row, candidates: candidates, count: k)
      let median = RowStatistics.medianBin(UnsafeBufferPointer(counts), total: total)
      rowSparsity.add(sparsity)
      let sb = sparsityBinner.exactBin(sparsity)
      if sb >= 0 { acc.sparsityHistogram[sb] += 1 }
      ttmMoments.add(Double(ttm))
      ttmFraction.add(Double(ttm) / Double(n))
      acc.growTTM(to: ttm + 1)
      acc.ttmHistogram[ttm] += 1
      medianMoments.add(Double(median))
      acc.medianHistogram[median] += 1
      if total == 0 {
        emptyRows += 1
      } else {
        acc.addRow(counts, total: total, bins: bins, levels: levels)
      }
      var d = 0.0
      if let compare {
        let other = UnsafeBufferPointer(rebasing: compare[(r * n)..<(r * n + n)])
        d = jensenShannon(row, other)
        js.add(d)
        jsMax = max(jsMax, d)
      }
      if let rows {
        let o = h * n + r
        for b in 0..<bins { rows.histogram[o * bins + b] = counts[b] }
        rows.sparsity[o] = sparsity
        rows.tokensToMajority[o] = Int32(ttm)
        rows.medianBin[o] = Int32(median)
        if compare != nil { rows.jensenShannon[o] = d }
      }
    }
    if !perRow {
      _ = reduceCells(into: counts, classes: classes, zeros: &zeros)
      acc.addCounts(counts, bins: bins)
    }
    // Block-level moments (two passes) and the reference's padded per-feature stats.
    let count = Double(n * n)
    let mean = sum / count
    var m2 = 0.0
    for v in x {
      let dv = Double(v) - mean
      m2 += dv * dv
    }
    let p = Double(max(options.padRows, n))
    let padded = p > Double(n)
    let countP = p * Double(n)
    let meanP = sum / countP
    let dm = mean - meanP
    let m2P = m2 + count * dm * dm + (countP - count) * meanP * meanP
    let classCount = thresholds.thresholds.count + 2
    do {
      hs.pointee.moments.merge(Moments(count: count, mean: mean, m2: m2))
      hs.pointee.reference[0].add(Double(padded ? max(mx, 0) : mx))
      hs.pointee.reference[1].add(Double(padded ? min(mn, 0) : mn))
      hs.pointee.reference[2].add(meanP)
      hs.pointee.reference[3].add(max(m2P / countP, 0).squareRoot())
      hs.pointee.values += Int64(n * n)
      hs.pointee.zeros += zeros
      hs.pointee.nans += Int64(classes[classCount - 1])
      for j in 0..<(classCount - 1) { hs.pointee.thresholdClasses[j] += Int64(classes[j]) }
      hs.pointee.minimum = min(hs.pointee.minimum, mn)
      hs.pointee.maximum = max(hs.pointee.maximum, mx)
      hs.pointee.rows += Int64(n)
      hs.pointee.emptyRows += emptyRows
      hs.pointee.rowSparsity.merge(rowSparsity)
      hs.pointee.tokensToMajority.merge(ttmMoments)
      hs.pointee.tokensToMajorityFraction.merge(ttmFraction)
      hs.pointee.medianBin.merge(medianMoments)
      hs.pointee.jensenShannon.merge(js)
      hs.pointee.jensenShannonMax = max(hs.pointee.jensenShannonMax, jsMax)
      acc.merge(into: hs, bins: bins, levels: levels)
    }
  }

  /// Jensen–Shannon distance between the §3.6 histograms of two rows.
  func jensenShannon(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Double {
    let bins = jsBinner.bins
    for i in 0..<bins {
      jsA[i] = 0
      jsB[i] = 0
    }
    for v in a {
      let k = jsBinner.bin(v)
      if k >= 0 { jsA[k] &+= 1 }
    }
    for v in b {
      let k = jsBinner.bin(v)
      if k >= 0 { jsB[k] &+= 1 }
    }
    return RowStatistics.jensenShannon(UnsafeBufferPointer(jsA), UnsafeBufferPointer(jsB))
  }

}
