/// Everything accumulated for one (layer, head) over all records of a stream. Sizes are fixed by the options
/// (bins, thresholds, spread levels) except `tokensToMajorityHistogram`, which grows to the longest row seen.
public struct HeadStatistics: Sendable {
  /// Real query×key values seen (Σ n²).
  public var values: Int64 = 0
  /// Exact zeros among them (§3.2 sparsity numerator).
  public var zeros: Int64 = 0
  /// NaN values (never counted in bins or thresholds).
  public var nans: Int64 = 0
  /// Histogram counts over all values: `[bins]`.
  public var histogram: [Int64]
  /// `thresholdClasses[j]` = values with exactly `j` thresholds below them: `[thresholds + 1]`.
  public var thresholdClasses: [Int64]
  /// Smallest and largest real value.
  public var minimum: Float = .infinity
  public var maximum: Float = -.infinity
  /// Mean / std over all real values of all records ("sane" definition).
  public var moments = Moments()
  /// Reference §3.2 per-feature statistics over the padded `[padRows, n]` array, summarised over features
  /// (`get_stat_features`): index 0 max, 1 min, 2 mean, 3 std.
  public var reference = [Summary](repeating: Summary(), count: 4)

  /// Rows (queries) seen.
  public var rows: Int64 = 0
  /// Rows whose histogram is empty (every value outside the edges).
  public var emptyRows: Int64 = 0
  /// Row sparsity `count(row ≤ bar)/n` (§3.3): moments and the 10-bin histogram over [0, 1].
  public var rowSparsity = Moments()
  public var rowSparsityHistogram: [Int64]
  /// Tokens-to-majority count per row (§3.3): moments, and `histogram[k]` = rows with count k.
  public var tokensToMajority = Moments()
  public var tokensToMajorityHistogram: [Int64] = []
  /// Tokens-to-majority divided by n.
  public var tokensToMajorityFraction = Moments()
  /// Median bin of each normalised row histogram (§3.3 `get_diversity`): moments and `[bins]` histogram.
  public var medianBin = Moments()
  public var medianBinHistogram: [Int64]
  /// Σ over rows of the normalised row histogram and of its CDF: `[bins]` each (divide by rows − emptyRows).
  public var rowHistogramSum: [Double]
  public var rowCDFSum: [Double]
  /// Spread of the row histograms: `[bins, levels]` counts of rows whose fraction in bin b falls in level
  /// `min(floor(f·levels), levels−1)`; the same for the row CDF.
  public var rowHistogramSpread: [Int64]
  public var rowCDFSpread: [Int64]
  /// Jensen–Shannon distance per row against the compared stream (§3.6): moments and maximum.
  public var jensenShannon = Moments()
  public var jensenShannonMax: Double = -.infinity

  /// Empty statistics for the given sizes.
  public init(bins: Int, thresholds: Int, rowSparsityBins: Int, levels: Int) {
    histogram = Array(repeating: 0, count: bins)
    thresholdClasses = Array(repeating: 0, count: thresholds + 1)
    rowSparsityHistogram = Array(repeating: 0, count: rowSparsityBins)
    medianBinHistogram = Array(repeating: 0, count: bins)
    rowHistogramSum = Array(repeating: 0, count: bins)
    rowCDFSum = Array(repeating: 0, count: bins)
    rowHistogramSpread = Array(repeating: 0, count: bins * levels)
    rowCDFSpread = Array(repeating: 0, count: bins * levels)
  }

  /// Values `≤ thresholds[j]`, for each threshold: `[thresholds]`.
  public var atMostThreshold: [Int64] {
    var out: [Int64] = []
    var s: Int64 = 0
    for c in thresholdClasses.dropLast() {
      s += c
      out.append(s)
    }
    return out
  }

  /// Fraction of exact zeros (§3.2 sparsity).
  public var sparsity: Double { values > 0 ? Double(zeros) / Double(values) : .nan }

  /// Merges another head's statistics (same sizes), e.g. to aggregate over heads or layers.
  public mutating func merge(_ o: HeadStatistics) {
    values += o.values
    zeros += o.zeros
    nans += o.nans
    add(&histogram, o.histogram)
    add(&thresholdClasses, o.thresholdClasses)
    minimum = min(minimum, o.minimum)
    maximum = max(maximum, o.maximum)
    moments.merge(o.moments)
    for i in 0..<4 { reference[i].merge(o.reference[i]) }
    rows += o.rows
    emptyRows += o.emptyRows
    rowSparsity.merge(o.rowSparsity)
    add(&rowSparsityHistogram, o.rowSparsityHistogram)
    tokensToMajority.merge(o.tokensToMajority)
    if o.tokensToMajorityHistogram.count > tokensToMajorityHistogram.count {
      tokensToMajorityHistogram += Array(repeating: 0, count: o.tokensToMajorityHistogram.count - tokensToMajorityHistogram.count)
    }
    for (i, c) in o.tokensToMajorityHistogram.enumerated() { tokensToMajorityHistogram[i] += c }
    tokensToMajorityFraction.merge(o.tokensToMajorityFraction)
    medianBin.merge(o.medianBin)
    add(&medianBinHistogram, o.medianBinHistogram)
    for i in 0..<rowHistogramSum.count {
      rowHistogramSum[i] += o.rowHistogramSum[i]
      rowCDFSum[i] += o.rowCDFSum[i]
    }
    add(&rowHistogramSpread, o.rowHistogramSpread)
    add(&rowCDFSpread, o.rowCDFSpread)
    jensenShannon.merge(o.jensenShannon)
    jensenShannonMax = max(jensenShannonMax, o.jensenShannonMax)
  }

  private func add(_ a: inout [Int64], _ b: [Int64]) {
    for i in 0..<min(a.count, b.count) { a[i] += b[i] }
  }
}
