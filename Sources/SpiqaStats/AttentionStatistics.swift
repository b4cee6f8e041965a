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
  private let blockScratch = BlockAccumulator()
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

  /// One (layer, head) block `[n, n]`: per-value counts in registers and the engine's scratch buffers, merged
  /// into the head's statistics once per block.
  private func addBlock(
    _ x: UnsafeBufferPointer<Float>, n: Int, head h: Int, compare: UnsafeBufferPointer<Float>?,
    rows: UnsafeMutablePointer<RowArrays>?
  ) {
    let bins = options.edges.bins
    let levels = options.spreadLevels
    let bar = options.rowSparsityBar
    let binner = self.binner
    let thresholds = self.thresholds
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
    for r in 0..<n {
      let row = UnsafeBufferPointer(rebasing: x[(r * n)..<(r * n + n)])
      for b in 0..<bins { counts[b] = 0 }
      var le = 0
      var rowSum = 0.0
      var k = 0
      for v in row {
        let b = binner.bin(v)
        if b >= 0 { counts[b] &+= 1 }
        classes[thresholds.classify(v)] &+= 1
        if v <= bar { le &+= 1 }
        if v == 0 { zeros &+= 1 }
        if v >= cut {
          candidates[k] = v
          k &+= 1
        }
        mn = min(mn, v)
        mx = max(mx, v)
        rowSum += Double(v)
      }
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
        for b in 0..<bins { rows.pointee.histogram[o * bins + b] = counts[b] }
        rows.pointee.sparsity[o] = sparsity
        rows.pointee.tokensToMajority[o] = Int32(ttm)
        rows.pointee.medianBin[o] = Int32(median)
        if compare != nil { rows.pointee.jensenShannon[o] = d }
      }
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
    heads.withUnsafeMutableBufferPointer { all in
      guard let base = all.baseAddress else { return }
      let hs = base + h
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
