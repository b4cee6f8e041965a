/// Scratch counters for one (layer, head) block, in raw buffers reused across blocks, merged into the head's
/// `HeadStatistics` once per block (keeps the per-value and per-row loops free of array copies and checks).
final class BlockAccumulator {
  /// Threshold classes `[thresholds + 2]` (last: NaN).
  private(set) var classes = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 0)
  /// Row-sparsity histogram `[rowSparsityBins]` (sized by the caller's first use).
  private(set) var sparsityHistogram = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 0)
  /// Tokens-to-majority histogram, grows to the longest row.
  private(set) var ttmHistogram = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 0)
  /// Median-bin histogram, bin counts, row-histogram sums `[bins]`.
  private(set) var medianHistogram = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 0)
  private(set) var histogram = UnsafeMutableBufferPointer<Int64>.allocate(capacity: 0)
  private(set) var rowHistogramSum = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)
  private(set) var rowCDFSum = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)
  /// Spread counts `[bins, levels]`.
  private(set) var spread = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 0)
  private(set) var cdfSpread = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 0)
  private var ttmUsed = 0

  deinit {
    for p in [classes, spread, cdfSpread] as [UnsafeMutableBufferPointer<Int32>] { p.deallocate() }
    for p in [sparsityHistogram, ttmHistogram, medianHistogram, histogram] { p.deallocate() }
    rowHistogramSum.deallocate()
    rowCDFSum.deallocate()
  }

  /// Zeroes the counters, (re)allocating them for the given sizes.
  /// Without `perRow` only the histogram and classes are zeroed (the per-row counters stay zero).
  func reset(bins: Int, levels: Int, classes classCount: Int, sparsityBins: Int = 64, perRow: Bool = true) {
    func fit<T: Numeric>(_ p: inout UnsafeMutableBufferPointer<T>, _ count: Int, always: Bool = false) {
      if p.count != count {
        p.deallocate()
        p = .allocate(capacity: count)
        p.initialize(repeating: 0)
      } else if perRow || always {
        p.initialize(repeating: 0)
      }
    }
    fit(&classes, classCount, always: true)
    fit(&sparsityHistogram, max(sparsityHistogram.count, sparsityBins))
    fit(&medianHistogram, bins)
    fit(&histogram, bins, always: true)
    fit(&rowHistogramSum, bins)
    fit(&rowCDFSum, bins)
    fit(&spread, bins * levels)
    fit(&cdfSpread, bins * levels)
    if ttmHistogram.count > 0 { ttmHistogram.initialize(repeating: 0) }
    ttmUsed = 0
  }

  /// Makes the tokens-to-majority histogram at least `count` long.
  @inline(__always)
  func growTTM(to count: Int) {
    if count > ttmHistogram.count {
      let bigger = UnsafeMutableBufferPointer<Int64>.allocate(capacity: max(count, 2 * ttmHistogram.count))
      bigger.initialize(repeating: 0)
      for i in 0..<ttmHistogram.count { bigger[i] = ttmHistogram[i] }
      ttmHistogram.deallocate()
      ttmHistogram = bigger
    }
    ttmUsed = max(ttmUsed, count)
  }

  /// Adds one non-empty row histogram: counts, normalised sums, CDF and spread levels (float64 like numpy's
  /// `c / c.sum()` and `cumsum`). Returns the row's median bin (`RowStatistics.medianBin`: the first bin where the
  /// same cumulative sum reaches 0.5, else 0).
  @inline(__always)
  func addRow(_ counts: UnsafeMutableBufferPointer<Int32>, total: Int, bins: Int, levels: Int) -> Int {
    let t = Double(total)
    let lv = Double(levels)
    var cdf = 0.0
    var median = -1
    let top = levels - 1
    for b in 0..<bins {
      let c = counts[b]
      histogram[b] &+= Int64(c)
      // An empty bin adds exactly 0.0 to every sum: skip its division (most bins of a row are empty).
      let f = c == 0 ? 0.0 : Double(c) / t
      cdf += f
      if median < 0 && cdf >= 0.5 { median = b }
      rowHistogramSum[b] += f
      rowCDFSum[b] += cdf
      let row = b &* levels
      spread[row &+ (c == 0 ? 0 : min(Int(f * lv), top))] &+= 1
      cdfSpread[row &+ min(Int(cdf * lv), top)] &+= 1
    }
    return max(median, 0)
  }

  /// Adds one row's bin counts only (no per-row statistics).
  @inline(__always)
  func addCounts(_ counts: UnsafeMutableBufferPointer<Int32>, bins: Int) {
    for b in 0..<bins { histogram[b] &+= Int64(counts[b]) }
  }

  /// Adds the block's counters to a head's statistics (`perRow`: also the per-row histograms and spreads, which
  /// stay zero without per-row statistics).
  func merge(into hs: UnsafeMutablePointer<HeadStatistics>, bins: Int, levels: Int, perRow: Bool) {
    func add<T: AdditiveArithmetic>(_ dst: inout [T], _ src: UnsafeMutableBufferPointer<T>, _ count: Int) {
      dst.withUnsafeMutableBufferPointer { d in
        for i in 0..<count { d[i] += src[i] }
      }
    }
    func add(_ dst: inout [Int64], _ src: UnsafeMutableBufferPointer<Int32>, _ count: Int) {
      dst.withUnsafeMutableBufferPointer { d in
        for i in 0..<count { d[i] += Int64(src[i]) }
      }
    }
    add(&hs.pointee.histogram, histogram, bins)
    guard perRow else { return }
    add(&hs.pointee.medianBinHistogram, medianHistogram, bins)
    add(&hs.pointee.rowHistogramSum, rowHistogramSum, bins)
    add(&hs.pointee.rowCDFSum, rowCDFSum, bins)
    add(&hs.pointee.rowHistogramSpread, spread, bins * levels)
    add(&hs.pointee.rowCDFSpread, cdfSpread, bins * levels)
    add(&hs.pointee.rowSparsityHistogram, sparsityHistogram, hs.pointee.rowSparsityHistogram.count)
    if hs.pointee.tokensToMajorityHistogram.count < ttmUsed {
      hs.pointee.tokensToMajorityHistogram += Array(repeating: 0, count: ttmUsed - hs.pointee.tokensToMajorityHistogram.count)
    }
    add(&hs.pointee.tokensToMajorityHistogram, ttmHistogram, ttmUsed)
  }
}
