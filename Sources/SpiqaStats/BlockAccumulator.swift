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
  func reset(bins: Int, levels: Int, classes classCount: Int, sparsityBins: Int = 64) {
    func fit<T: Numeric>(_ p: inout UnsafeMutableBufferPointer<T>, _ count: Int) {
      if p.count != count {
        p.deallocate()
        p = .allocate(capacity: count)
      }
      p.initialize(repeating: 0)
    }
    fit(&classes, classCount)
    fit(&sparsityHistogram, max(sparsityHistogram.count, sparsityBins))
    fit(&medianHistogram, bins)
    fit(&histogram, bins)
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
  /// `c / c.sum()` and `cumsum`).
  @inline(__always)
  func addRow(_ counts: UnsafeMutableBufferPointer<Int32>, total: Int, bins: Int, levels: Int) {
    let t = Double(total)
    let lv = Double(levels)
    var cdf = 0.0
    for b in 0..<bins {
      let c = counts[b]
      histogram[b] &+= Int64(c)
      let f = Double(c) / t
      cdf += f
      rowHistogramSum[b] += f
      rowCDFSum[b] += cdf
      spread[b * levels + min(Int(f * lv), levels - 1)] &+= 1
      cdfSpread[b * levels + min(Int(cdf * lv), levels - 1)] &+= 1
    }
  }

  /// Adds one row's bin counts only (no per-row statistics).
  @inline(__always)
  func addCounts(_ counts: UnsafeMutableBufferPointer<Int32>, bins: Int) {
    for b in 0..<bins { histogram[b] &+= Int64(counts[b]) }
  }

  /// Adds the block's counters to a head's statistics.
  func merge(into hs: UnsafeMutablePointer<HeadStatistics>, bins: Int, levels: Int) {
    for b in 0..<bins {
      hs.pointee.histogram[b] += histogram[b]
      hs.pointee.medianBinHistogram[b] += medianHistogram[b]
      hs.pointee.rowHistogramSum[b] += rowHistogramSum[b]
      hs.pointee.rowCDFSum[b] += rowCDFSum[b]
    }
    for i in 0..<(bins * levels) {
      hs.pointee.rowHistogramSpread[i] += Int64(spread[i])
      hs.pointee.rowCDFSpread[i] += Int64(cdfSpread[i])
    }
    for i in 0..<hs.pointee.rowSparsityHistogram.count { hs.pointee.rowSparsityHistogram[i] += sparsityHistogram[i] }
    if hs.pointee.tokensToMajorityHistogram.count < ttmUsed {
      hs.pointee.tokensToMajorityHistogram += Array(repeating: 0, count: ttmUsed - hs.pointee.tokensToMajorityHistogram.count)
    }
    for i in 0..<ttmUsed { hs.pointee.tokensToMajorityHistogram[i] += ttmHistogram[i] }
  }
}
