import CStatKernels

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
///
/// Speed without changing a single result: every float64 sum keeps its order (one addition chain per row, or per
/// even/odd position, or per block, exactly as before), but chains of *different* rows and blocks are interleaved
/// so the CPU overlaps their latencies; minima/maxima are order-free except for ±0 and NaN, which only occur with
/// "slow" values (sign bit or NaN bits) and then take the sequential path.
final class BlockWorker: @unchecked Sendable {
  let options: StatsOptions
  let binner: Binner
  let jsBinner: Binner
  let thresholds: ThresholdClassifier
  let sparsityBinner: Binner
  /// Tokens-to-majority candidates of one row `[n]`.
  private var scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)
  /// Bin counts of one row `[bins + 1]` (the last slot takes cells outside the edges).
  private let rowCounts: UnsafeMutableBufferPointer<Int32>
  private let jsA: UnsafeMutableBufferPointer<Int32>
  private let jsB: UnsafeMutableBufferPointer<Int32>
  private let blockScratch = BlockAccumulator()
  private let cellTable: CellTable
  /// The cell table's buckets as `(split, base)` for every `bits >> 16` (65,536; only the few used stay in cache):
  /// the cell is `base + (bits ≥ split)` (cells are numbered in value order, so a bucket's one step always goes to
  /// the next cell); `base < 0` marks a bucket for `cellTable`. Slow values (sign bit or NaN bits) go to the extra
  /// cell `cellTable.count`, right after +inf's, which flags the row for the one-by-one path.
  private let entries: UnsafeMutableBufferPointer<FastEntry>

  struct FastEntry {
    var split: UInt32
    var base: Int32
  }
  /// Per cell: bin (`bins` when not counted), threshold class, and all-ones masks for "is +0" and "≤ bar".
  private let cellBin: UnsafeMutableBufferPointer<Int>
  private let cellClass: UnsafeMutableBufferPointer<Int>
  private let cellZeroMask: UnsafeMutableBufferPointer<Int32>
  private let cellBarMask: UnsafeMutableBufferPointer<Int32>
  /// Counts per cell `[2, cells + 1]` (+ the slow cell): even and odd positions of a row count apart, so that two neighbours in the
  /// same cell do not wait on each other's increment.
  private let cellCounts: UnsafeMutableBufferPointer<Int32>
  /// Counts per cell over the current block `[cells]` (n² < 2³¹).
  private let blockCells: UnsafeMutableBufferPointer<Int32>

  init(options: StatsOptions, binner: Binner, jsBinner: Binner, thresholds: ThresholdClassifier) {
    self.options = options
    self.binner = binner
    self.jsBinner = jsBinner
    self.thresholds = thresholds
    sparsityBinner = Binner(.linear(bins: options.rowSparsityBins))
    rowCounts = .allocate(capacity: options.edges.bins + 1)
    rowCounts.initialize(repeating: 0)
    jsA = .allocate(capacity: options.jsEdges.bins)
    jsB = .allocate(capacity: options.jsEdges.bins)
    cellTable = CellTable(binner: binner, thresholds: thresholds, bar: options.rowSparsityBar)
    let slowCellIndex = Int32(cellTable.count)
    var fast = cellTable.entries.map { e in
      let simple = e.base != BitStepTable.slowMarker && (e.split == .max || Int(e.next) == Int(e.base) + 1)
      return FastEntry(split: e.split, base: simple ? Int32(e.base) : -1)
    }
    // +inf's bucket: +inf is in the last cell; the NaN bits after it go to the slow cell.
    let infBucket = Int(BitStepTable.lastBits >> BitStepTable.shift)
    fast[infBucket] = FastEntry(split: BitStepTable.lastBits + 1, base: Int32(cellTable.cell(BitStepTable.lastBits)))
    precondition(fast[infBucket].base == slowCellIndex - 1, "+inf must be in the last cell")
    fast += Array(repeating: FastEntry(split: .max, base: slowCellIndex), count: 65536 - fast.count)
    entries = .allocate(capacity: fast.count)
    _ = entries.initialize(from: fast)
    let cells = cellTable.cells
    let bins = options.edges.bins
    cellBin = .allocate(capacity: cells.count)
    _ = cellBin.initialize(from: cells.map { $0.bin >= 0 ? $0.bin : bins })
    cellClass = .allocate(capacity: cells.count)
    _ = cellClass.initialize(from: cells.map(\.thresholdClass))
    cellZeroMask = .allocate(capacity: cells.count)
    _ = cellZeroMask.initialize(from: cells.map { $0.isZero ? -1 : 0 })
    cellBarMask = .allocate(capacity: cells.count)
    _ = cellBarMask.initialize(from: cells.map { $0.atMostBar ? -1 : 0 })
    cellCounts = .allocate(capacity: 2 * (cells.count + 1))
    cellCounts.initialize(repeating: 0)
    blockCells = .allocate(capacity: cells.count)
    blockCells.initialize(repeating: 0)
  }

  deinit {
    scratch.deallocate()
    rowCounts.deallocate()
    jsA.deallocate()
    jsB.deallocate()
    entries.deallocate()
    cellBin.deallocate()
    cellClass.deallocate()
    cellZeroMask.deallocate()
    cellBarMask.deallocate()
    cellCounts.deallocate()
    blockCells.deallocate()
  }

  /// Moves the cell counts (both halves) into bin counts and the block's cell counts, and zeroes them; returns
  /// the values ≤ the bar. Branch-free: one pass over the ~bins + thresholds cells (per row with per-row statistics,
  /// so threshold classes and zeros wait for `foldBlockCells`).
  @inline(__always)
  private func reduceCells(into counts: UnsafeMutableBufferPointer<Int32>) -> Int {
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
  private func foldBlockCells(classes: UnsafeMutableBufferPointer<Int32>, zeros: inout Int64) {
    for c in 0..<cellTable.count {
      let m = blockCells[c]
      classes[cellClass[c]] &+= m
      zeros &+= Int64(m & cellZeroMask[c])
      blockCells[c] = 0
    }
  }

  /// Makes the scratch row buffer hold `n` floats.
  func reserve(_ n: Int) {
    if scratch.count < n {
      scratch.deallocate()
      scratch = .allocate(capacity: n)
    }
  }

  /// Counts the cells of one row `[n]` (even/odd positions apart); with `candidates`, also copies the values
  /// `≥ cut` there and returns how many in `kept`. Returns whether the row holds slow values (sign bit or NaN bits),
  /// which are left out here.
  @inline(__always)
  private func countCells(
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
  private func multiStepCell(_ b: UInt32) -> Int { cellTable.cell(b) }

  /// Minimum and maximum of a row as the sequential `v < mn ? v : mn` loop gives them. Without slow values (no
  /// NaN, no -0.0, nothing negative) equal values are bit-identical, so eight lanes give the same answer.
  @inline(__always)
  private static func rowMinMax(_ row: UnsafePointer<Float>, n: Int, slow: Bool) -> (Float, Float) {
    var mn = Float.infinity
    var mx = -Float.infinity
    var i = 0
    if !slow {
      var mn8 = SIMD8<Float>(repeating: .infinity)
      var mx8 = SIMD8<Float>(repeating: -.infinity)
      let raw = UnsafeRawPointer(row)
      while i + 8 <= n {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        mn8.replace(with: v, where: v .< mn8)  // (pointwiseMin is not inlined: 10× slower)
        mx8.replace(with: v, where: v .> mx8)
        i += 8
      }
      mn = mn8.min()
      mx = mx8.max()
    }
    while i < n {
      let v = row[i]
      mn = v < mn ? v : mn
      mx = v > mx ? v : mx
      i += 1
    }
    return (mn, mx)
  }

  /// Row sums `[rows]` of `rows` consecutive rows of `n` starting at `x`, one float64 chain per row — or, with
  /// `pairs`, two chains per row (even and odd positions, added at the end), the two orders the statistics define.
  /// `spiqa_row_sums_f64` (CStatKernels) runs 16 rows' chains side by side, one per vector lane, so their addition
  /// latencies overlap; the sums are those of the plain loops.
  static func rowSums(
    _ x: UnsafePointer<Float>, n: Int, rows: Int, pairs: Bool, into out: UnsafeMutablePointer<Double>
  ) {
    spiqa_row_sums_f64(x, n, rows, pairs ? 1 : 0, out)
  }

  /// Σ (Double(v) − mean)² over each block, in element order (the same float64 rounding as one loop per block);
  /// `spiqa_squared_deviations_f64` runs up to eight blocks side by side. `blocks` and `means` have the same count.
  static func squaredDeviations(_ blocks: [UnsafePointer<Float>], count: Int, means: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: blocks.count)
    blocks.map { Optional($0) }.withUnsafeBufferPointer { b in
      spiqa_squared_deviations_f64(b.baseAddress, means, blocks.count, count, &out)
    }
    return out
  }

  /// What the per-value pass leaves for the float64 moments of a block (they need the block's mean first).
  struct BlockPartial {
    var sum = 0.0
    var minimum = Float.infinity
    var maximum = -Float.infinity
  }

  /// Blocks `heads` (flat layer × head indices, `[n, n]` each at `values[h·n²...]`): the per-value pass per block,
  /// then the squared deviations of all of them together, then their moments.
  func addBlocks(
    _ values: UnsafeBufferPointer<Float>, n: Int, heads: Range<Int>, compare: UnsafeBufferPointer<Float>?,
    into hs: UnsafeMutablePointer<HeadStatistics>, rows: RowBuffers?
  ) {
    let block = n * n
    guard let base = values.baseAddress else { return }
    var partials: [BlockPartial] = []
    for h in heads {
      let start = h * block
      let x = UnsafeBufferPointer(rebasing: values[start..<(start + block)])
      let other = compare.map { UnsafeBufferPointer(rebasing: $0[start..<(start + block)]) }
      partials.append(addBlock(x, n: n, head: h, compare: other, into: hs + h, rows: rows))
    }
    let count = Double(block)
    let means = partials.map { $0.sum / count }
    let m2s = Self.squaredDeviations(heads.map { UnsafePointer(base + $0 * block) }, count: block, means: means)
    for (i, h) in heads.enumerated() {
      finishMoments(partials[i], m2: m2s[i], n: n, into: hs + h)
    }
  }

  /// The block's moments and the reference's padded per-feature stats (§3.2), from its sum and Σ(x − mean)².
  private func finishMoments(_ p: BlockPartial, m2: Double, n: Int, into hs: UnsafeMutablePointer<HeadStatistics>) {
    let (mn, mx, sum) = (p.minimum, p.maximum, p.sum)
    let count = Double(n * n)
    let mean = sum / count
    let pr = Double(max(options.padRows, n))
    let padded = pr > Double(n)
    let countP = pr * Double(n)
    let meanP = sum / countP
    let dm = mean - meanP
    let m2P = m2 + count * dm * dm + (countP - count) * meanP * meanP
    hs.pointee.moments.merge(Moments(count: count, mean: mean, m2: m2))
    hs.pointee.reference[0].add(Double(padded ? max(mx, 0) : mx))
    hs.pointee.reference[1].add(Double(padded ? min(mn, 0) : mn))
    hs.pointee.reference[2].add(meanP)
    hs.pointee.reference[3].add(max(m2P / countP, 0).squareRoot())
    hs.pointee.minimum = min(hs.pointee.minimum, mn)
    hs.pointee.maximum = max(hs.pointee.maximum, mx)
  }

  /// One (layer, head) block `[n, n]`: per-value counts in the worker's scratch buffers, merged into the head's
  /// statistics once per block; returns what the block's moments still need.
  func addBlock(
    _ x: UnsafeBufferPointer<Float>, n: Int, head h: Int, compare: UnsafeBufferPointer<Float>?,
    into hs: UnsafeMutablePointer<HeadStatistics>, rows: RowBuffers?
  ) -> BlockPartial {
    let bins = options.edges.bins
    let levels = options.spreadLevels
    let bar = options.rowSparsityBar
    let binner = self.binner
    let thresholds = self.thresholds
    let perRow = options.perRowStatistics || rows != nil || compare != nil
    let counts = rowCounts
    let candidates = scratch
    let acc = blockScratch
    acc.reset(
      bins: bins, levels: levels, classes: thresholds.thresholds.count + 2, sparsityBins: options.rowSparsityBins,
      perRow: perRow)
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
    let lastBits = BitStepTable.lastBits
    guard let xb = x.baseAddress else { return BlockPartial() }
    /// Negative values, -0.0 and NaN of a row: classified one by one (they are rare).
    func slowValues(_ row: UnsafePointer<Float>, _ le: inout Int) {
      for i in 0..<n {
        let v = row[i]
        guard v.bitPattern > lastBits else { continue }
        let b = binner.bin(v)
        if b >= 0 { counts[b] &+= 1 }
        classes[thresholds.classify(v)] &+= 1
        if v <= bar { le &+= 1 }
        if v == 0 { zeros &+= 1 }
      }
    }
    for b in 0...bins { counts[b] = 0 }
    // Row sums, a group of rows at a time (their float64 chains interleaved).
    let group = 64
    var sums = [Double](repeating: 0, count: group)
    var blockLE = 0
    var r0 = 0
    while r0 < n {
      let g = min(group, n - r0)
      sums.withUnsafeMutableBufferPointer {
        Self.rowSums(xb + r0 * n, n: n, rows: g, pairs: perRow, into: $0.baseAddress!)
      }
      for r in r0..<(r0 + g) {
        let rowStart = xb + r * n
        let row = UnsafeBufferPointer(start: rowStart, count: n)
        var k = 0
        let slow = countCells(rowStart, n: n, candidates: perRow ? candidates.baseAddress : nil, cut: cut, kept: &k)
        let (rmn, rmx) = Self.rowMinMax(rowStart, n: n, slow: slow)
        // Row order with strict comparisons keeps the block's first minimum/maximum, as one loop would.
        mn = rmn < mn ? rmn : mn
        mx = rmx > mx ? rmx : mx
        sum += sums[r - r0]
        if !perRow {
          if slow { slowValues(rowStart, &blockLE) }
          continue
        }
        var le = 0
        if slow { slowValues(rowStart, &le) }
        le += reduceCells(into: counts)
        // Row-level quantities.
        var total = 0
        for b in 0..<bins { total += Int(counts[b]) }
        let sparsity = Double(le) / Double(n)
        let ttm = RowStatistics.tokensToMajority(row, candidates: candidates, count: k)
        rowSparsity.add(sparsity)
        let sb = sparsityBinner.exactBin(sparsity)
        if sb >= 0 { acc.sparsityHistogram[sb] += 1 }
        ttmMoments.add(Double(ttm))
        ttmFraction.add(Double(ttm) / Double(n))
        acc.growTTM(to: ttm + 1)
        acc.ttmHistogram[ttm] += 1
        // The median bin comes out of the row's CDF (0 for an empty row, as `RowStatistics.medianBin`).
        var median = 0
        if total == 0 {
          emptyRows += 1
        } else {
          median = acc.addRow(counts, total: total, bins: bins, levels: levels)
        }
        medianMoments.add(Double(median))
        acc.medianHistogram[median] += 1
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
        for b in 0...bins { counts[b] = 0 }
      }
      r0 += g
    }
    if !perRow {
      _ = reduceCells(into: counts)
      acc.addCounts(counts, bins: bins)
    }
    foldBlockCells(classes: classes, zeros: &zeros)
    let classCount = thresholds.thresholds.count + 2
    hs.pointee.values += Int64(n * n)
    hs.pointee.zeros += zeros
    hs.pointee.nans += Int64(classes[classCount - 1])
    for j in 0..<(classCount - 1) { hs.pointee.thresholdClasses[j] += Int64(classes[j]) }
    hs.pointee.rows += Int64(n)
    hs.pointee.emptyRows += emptyRows
    hs.pointee.rowSparsity.merge(rowSparsity)
    hs.pointee.tokensToMajority.merge(ttmMoments)
    hs.pointee.tokensToMajorityFraction.merge(ttmFraction)
    hs.pointee.medianBin.merge(medianMoments)
    hs.pointee.jensenShannon.merge(js)
    hs.pointee.jensenShannonMax = max(hs.pointee.jensenShannonMax, jsMax)
    acc.merge(into: hs, bins: bins, levels: levels, perRow: perRow)
    return BlockPartial(sum: sum, minimum: mn, maximum: mx)
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
