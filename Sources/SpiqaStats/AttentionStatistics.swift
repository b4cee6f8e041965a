import SpiqaCore

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
  /// Per-row statistics (tokens-to-majority, median bin, row sparsity, row-histogram spread); false keeps only
  /// per-head histograms, thresholds and moments (faster). Always on with `rows` or a compared stream.
  public var perRowStatistics = true
  /// Threads working on different heads of a record (results do not depend on it).
  public var threads = 1

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
  private var workers: [BlockWorker] = []

  /// Prepares empty statistics for records of `layers × heads`.
  public init(options: StatsOptions, layers: Int, heads: Int) throws {
    guard layers > 0, heads > 0 else { throw StatsError("need at least one layer and one head") }
    guard options.spreadLevels >= 1, options.rowSparsityBins >= 1, options.padRows >= 0 else {
      throw StatsError("spread levels and row-sparsity bins must be ≥ 1, pad rows ≥ 0")
    }
    // The two spread tables are [layers, heads, bins, levels] int64 counts, each one record of --npy: past the
    // record limit neither memory nor a reader of that output would cope (--bins linear:32000 --levels 10000
    // took all 24 GB of a machine).
    let spreadBytes = layers * heads * options.edges.bins * options.spreadLevels * 8
    let limit = try ResourceLimits.value(ResourceLimits.recordBytesVariable, default: ResourceLimits.defaultRecordBytes)
    guard spreadBytes <= limit else {
      throw LimitError(
        .usage,
        "\(options.edges.bins) bins × \(options.spreadLevels) levels × \(layers * heads) heads make spread tables of "
          + "\(spreadBytes) bytes, over the \(limit) of one record (\(ResourceLimits.recordBytesVariable)); use fewer "
          + "bins, --levels or heads")
    }
    self.options = options
    layerCount = layers
    headCount = heads
    binner = Binner(options.edges)
    jsBinner = Binner(options.jsEdges)
    thresholds = try ThresholdClassifier(options.thresholds)
    let empty = HeadStatistics(
      bins: options.edges.bins, thresholds: options.thresholds.count,
      rowSparsityBins: options.rowSparsityBins, levels: options.spreadLevels)
    self.heads = Array(repeating: empty, count: layers * heads)
    let count = max(1, min(options.threads, layers * heads, 64))
    workers = (0..<count).map { _ in
      BlockWorker(options: options, binner: binner, jsBinner: jsBinner, thresholds: thresholds)
    }
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
    guard n > 0, n <= 46340, values.count == layerCount * headCount * block else {
      throw StatsError(
        "record has \(values.count) values for n = \(n); expected \(layerCount)×\(headCount)×n×n with 0 < n ≤ 46340")
    }
    if let compare, compare.count != values.count {
      throw StatsError("compared record has \(compare.count) values; expected \(values.count)")
    }
    let lh = layerCount * headCount
    let bins = options.edges.bins
    for w in workers { w.reserve(n) }
    let rowBuffers = rows == nil ? nil : RowBuffers(heads: lh, n: n, bins: bins, compare: compare != nil)
    let workers = self.workers
    heads.withUnsafeMutableBufferPointer { all in
      guard let base = all.baseAddress else { return }
      let job = BlockJob(values: values, compare: compare, heads: base, rows: rowBuffers, n: n)
      // Groups of 4 consecutive heads: a worker runs the squared-deviation pass of a group's blocks together.
      let groups = (lh + 3) / 4
      let count = workers.count
      Parallel.forEach(count) { w in  // inline for one worker
        for g in stride(from: w, to: groups, by: count) { job.run(workers[w], group: g, of: lh) }
      }
    }
    if let rows, let rowBuffers { rows.pointee = rowBuffers.finish(compare: compare != nil) }
    records += 1
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

/// One record's inputs and outputs, shared read-only by the workers (each writes only its own heads).
struct BlockJob: @unchecked Sendable {
  let values: UnsafeBufferPointer<Float>
  let compare: UnsafeBufferPointer<Float>?
  let heads: UnsafeMutablePointer<HeadStatistics>
  let rows: RowBuffers?
  let n: Int

  /// Processes heads `4g ..< min(4g + 4, heads)` (flat layer × head indices) with `worker`.
  func run(_ worker: BlockWorker, group g: Int, of heads: Int) {
    let range = (4 * g)..<min(4 * g + 4, heads)
    worker.addBlocks(values, n: n, heads: range, compare: compare, into: self.heads, rows: rows)
  }
}
