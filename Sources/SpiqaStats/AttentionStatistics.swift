/// What to compute and with which parameters.
public struct StatsOptions: Sendable {
  /// Histogram edges and offset (default: §3.3 log bins).
  public var edges: BinEdges = .referenceLog()
  /// Thresholds for the "fraction ≤ t" columns (compared in float32).
  public var thresholds: [Float] = [1e-8, 1e-4, 1e-3, 1e-2, 1e-1]
  /// Row sparsity counts `row ≤ bar` (§3.3 `sparsity_bar`).
  public var rowSparsityBar: Float = 1e-8
  /// Query rows of the reference's padded array for the §3.2 per-feature stats (320); 0 = no padding.
  public var padRows: Int = 320
  /// Levels of the row-histogram spread (fractions in [0, 1]).
  public var spreadLevels: Int = 50
  /// Bins of the row-sparsity histogram over [0, 1] (§3.3 `sparse_hist`: 10).
  public var rowSparsityBins: Int = 10
  /// Edges for the Jensen–Shannon row histograms (§3.6).
  public var jsEdges: BinEdges = .referenceJS()

  /// Default options (the reference's choices).
  public init() {}
}

/// Raw per-row results of one record, filled only when asked (`--per-row`).
public struct RowArrays: Sendable {
  /// Row histogram counts `[layers, heads, n, bins]` (normalise by their row sum).
  public var histogram: [Int32] = []
  /// Row sparsity `[layers, heads, n]`.
  public var sparsity: [Double] = []
  /// Tokens-to-majority `[layers, heads, n]`.
  public var tokensToMajority: [Int32] = []
  /// Median bin `[layers, heads, n]`.
  public var medianBin: [Int32] = []
  /// Jensen–Shannon distance per row `[layers, heads, n]` (empty without a compared stream).
  public var jensenShannon: [Double] = []
  /// Creates empty arrays.
  public init() {}
}

/// Accumulates the statistics of an attention stream record by record, in memory bounded by the options (never
/// by the number of records).
public final class AttentionStatistics {
  /// The options used.
  public let options: StatsOptions
  /// Number of layers and heads of every record given to `add`.
  public let layerCount: Int
  public let headCount: Int
  /// Per (layer, head) statistics, `[layers × heads]` row-major.
  public private(set) var heads: [HeadStatistics]
  /// Records (features) added.
  public private(set) var records = 0

  private let binner: Binner
  private let jsBinner: Binner
  private let thresholds: ThresholdClassifier
  private let sparsityBinner: Binner
  private var scratch: UnsafeMutableBufferPointer<Float>
  private var rowCounts: UnsafeMutableBufferPointer<Int32>
  private var jsA: UnsafeMutableBufferPointer<Int32>
  private var jsB: UnsafeMutableBufferPointer<Int32>

  /// Prepares empty statistics for records of `layers × heads`.
  public init(options: StatsOptions, layers: Int, heads: Int) throws {
    guard layers > 0, heads > 0 else { throw StatsError("need at least one layer and one head") }
    guard options.spreadLevels >= 1, options.rowSparsityBins >= 1, options.padRows >= 0 else {
      throw StatsError("spread levels and row-sparsity bins must be ≥ 1, pad rows ≥ 0")
    }
    self.options = options
    layerCount = layers
    headCount = heads
    binner = Binner(options.edges)
    jsBinner = Binner(options.jsEdges)
    thresholds = try ThresholdClassifier(options.thresholds)
    sparsityBinner = Binner(.linear(bins: options.rowSparsityBins))
    let empty = HeadStatistics(
      bins: options.edges.bins, thresholds: options.thresholds.count,
      rowSparsityBins: options.rowSparsityBins, levels: options.spreadLevels)
    self.heads = Array(repeating: empty, count: layers * heads)
    scratch = .allocate(capacity: 0)
    rowCounts = .allocate(capacity: options.edges.bins)
    jsA = .allocate(capacity: options.jsEdges.bins)
    jsB = .allocate(capacity: options.jsEdges.bins)
  }

  deinit {
    scratch.deallocate()
    rowCounts.deallocate()
    jsA.deallocate()
    jsB.deallocate()
  }

  /// Sorted thresholds (the order of `atMostThreshold`).
  public var sortedThresholds: [Float] { thresholds.thresholds }

  /// Adds one record. `values`: `[layers, heads, n, n]` row-major (queries × keys, real tokens only);
  /// `compare`: the matching record of the other stream, same shape (for Jensen–Shannon); `rows`: filled with
  /// the raw per-row arrays when non-nil.
  public func add(
    _ values: UnsafeBufferPointer<Float>, n: Int, compare: UnsafeBufferPointer<Float>? = nil,
    rows: UnsafeMutablePointer<RowArrays>? = nil
  ) throws {
    let block = n * n
    guard n > 0, values.count == layerCount * headCount * block else {
      throw StatsError("record has \(values.count) values; expected \(layerCount)×\(headCount)×\(n)×\(n)")
    }
    if let compare, compare.count != values.count {
      throw StatsError("compared record has \(compare.count) values; expected \(values.count)")
    }
    if scratch.count < n {
      scratch.deallocate()
      scratch = .allocate(capacity: n)
    }
    let bins = options.edges.bins
    if let rows {
      let lh = layerCount * headCount
      rows.pointee.histogram = Array(repeating: 0, count: lh * n * bins)
      rows.pointee.sparsity = Array(repeating: 0, count: lh * n)
      rows.pointee.tokensToMajority = Array(repeating: 0, count: lh * n)
      rows.pointee.medianBin = Array(repeating: 0, count: lh * n)
      rows.pointee.jensenShannon = compare == nil ? [] : Array(repeating: 0, count: lh * n)
    }
    for h in 0..<(layerCount * headCount) {
      let start = h * block
      let blockValues = UnsafeBufferPointer(rebasing: values[start..<(start + block)])
      let other = compare.map { UnsafeBufferPointer(rebasing: $0[start..<(start + block)]) }
      addBlock(blockValues, n: n, head: h, compare: other, rows: rows)
    }
    records += 1
  }

  /// One (layer, head) block `[n, n]`.
  private func addBlock(
    _ x: UnsafeBufferPointer<Float>, n: Int, head h: Int, compare: UnsafeBufferPointer<Float>?,
    rows: UnsafeMutablePointer<RowArrays>?
  ) {
    let bins = options.edges.bins
    let levels = options.spreadLevels
    let bar = options.rowSparsityBar
    let classCount = thresholds.thresholds.count + 2
    var classes = [Int64](repeating: 0, count: classCount)
    var zeros: Int64 = 0
    var mn = Float.infinity
    var mx = -Float.infinity
    var sum = 0.0
    heads.withUnsafeMutableBufferPointer { all in
      let hs = UnsafeMutablePointer(all.baseAddress!) + h
      for r in 0..<n {
        let row = UnsafeBufferPointer(rebasing: x[(r * n)..<(r * n + n)])
        for b in 0..<bins { rowCounts[b] = 0 }
        var le = 0
        var rowSum = 0.0
        classes.withUnsafeMutableBufferPointer { cls in
          for v in row {
            let b = binner.bin(v)
            if b >= 0 { rowCounts[b] &+= 1 }
            cls[thresholds.classify(v)] &+= 1
            if v <= bar { le &+= 1 }
            if v == 0 { zeros &+= 1 }
            mn = min(mn, v)
            mx = max(mx, v)
            rowSum += Double(v)
          }
        }
        sum += rowSum
        // Row-level quantities.
        var total = 0
        for b in 0..<bins { total += Int(rowCounts[b]) }
        let sparsity = Double(le) / Double(n)
        let ttm = RowStatistics.tokensToMajority(row, scratch: scratch)
        let median = RowStatistics.medianBin(UnsafeBufferPointer(rowCounts), total: total)
        hs.pointee.rows += 1
        hs.pointee.rowSparsity.add(sparsity)
        let sb = sparsityBinner.exactBin(sparsity)
        if sb >= 0 { hs.pointee.rowSparsityHistogram[sb] += 1 }
        hs.pointee.tokensToMajority.add(Double(ttm))
        hs.pointee.tokensToMajorityFraction.add(Double(ttm) / Double(n))
        if hs.pointee.tokensToMajorityHistogram.count <= ttm {
          hs.pointee.tokensToMajorityHistogram += Array(repeating: 0, count: ttm + 1 - hs.pointee.tokensToMajorityHistogram.count)
        }
        hs.pointee.tokensToMajorityHistogram[ttm] += 1
        hs.pointee.medianBin.add(Double(median))
        hs.pointee.medianBinHistogram[median] += 1
        if total == 0 {
          hs.pointee.emptyRows += 1
        } else {
          accumulateSpread(hs, total: total, bins: bins, levels: levels)
        }
        var js = 0.0
        if let compare {
          let other = UnsafeBufferPointer(rebasing: compare[(r * n)..<(r * n + n)])
          js = jensenShannon(row, other)
          hs.pointee.jensenShannon.add(js)
          hs.pointee.jensenShannonMax = max(hs.pointee.jensenShannonMax, js)
        }
        if let rows {
          let o = h * n + r
          for b in 0..<bins { rows.pointee.histogram[o * bins + b] = rowCounts[b] }
          rows.pointee.sparsity[o] = sparsity
          rows.pointee.tokensToMajority[o] = Int32(ttm)
          rows.pointee.medianBin[o] = Int32(median)
          if compare != nil { rows.pointee.jensenShannon[o] = js }
        }
      }
      // Block-level moments (two passes) and the reference's padded per-feature stats.
      let count = Double(n * n)
      let mean = sum / count
      var m2 = 0.0
      for v in x {
        let d = Double(v) - mean
        m2 += d * d
      }
      let real = Moments(count: count, mean: mean, m2: m2)
      hs.pointee.moments.merge(real)
      let p = Double(max(options.padRows, n))
      let padded = p > Double(n)
      let countP = p * Double(n)
      let meanP = sum / countP
      let dm = mean - meanP
      let m2P = m2 + count * dm * dm + (countP - count) * meanP * meanP
      hs.pointee.reference[0].add(Double(padded ? max(mx, 0) : mx))
      hs.pointee.reference[1].add(Double(padded ? min(mn, 0) : mn))
      hs.pointee.reference[2].add(meanP)
      hs.pointee.reference[3].add(max(m2P / countP, 0).squareRoot())
      hs.pointee.values += Int64(n * n)
      hs.pointee.zeros += zeros
      hs.pointee.nans += classes[classCount - 1]
      for j in 0..<(classCount - 1) { hs.pointee.thresholdClasses[j] += classes[j] }
      hs.pointee.minimum = min(hs.pointee.minimum, mn)
      hs.pointee.maximum = max(hs.pointee.maximum, mx)
    }
  }

  /// Adds the current row histogram (`rowCounts`, `total` > 0) to the head's mean, CDF and spread.
  private func accumulateSpread(_ hs: UnsafeMutablePointer<HeadStatistics>, total: Int, bins: Int, levels: Int) {
    let t = Double(total)
    let lv = Double(levels)
    var cdf = 0.0
    for b in 0..<bins {
      let c = Int(rowCounts[b])
      hs.pointee.histogram[b] += Int64(c)
      let f = Double(c) / t
      cdf += f
      hs.pointee.rowHistogramSum[b] += f
      hs.pointee.rowCDFSum[b] += cdf
      hs.pointee.rowHistogramSpread[b * levels + min(Int(f * lv), levels - 1)] += 1
      hs.pointee.rowCDFSpread[b * levels + min(Int(cdf * lv), levels - 1)] += 1
    }
  }

  /// Jensen–Shannon distance between the §3.6 histograms of two rows.
  private func jensenShannon(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Double {
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

  /// Diversity of a layer (§3.3): mean over heads of the std over rows of the median bin.
  public func diversity(layer: Int) -> Double {
    var s = 0.0
    for h in 0..<headCount { s += heads[layer * headCount + h].medianBin.std }
    return s / Double(headCount)
  }

  /// Statistics of one layer (all heads merged), or of everything when `layer` is nil.
  public func merged(layer: Int? = nil) -> HeadStatistics {
    let range = layer.map { ($0 * headCount)..<($0 * headCount + headCount) } ?? 0..<heads.count
    var out = heads[range.lowerBound]
    for i in range.dropFirst() { out.merge(heads[i]) }
    return out
  }
}
