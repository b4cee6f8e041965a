import Foundation
import SpiqaCore
import SpiqaIO

/// Options of the hidden-state histograms (reference §3.6 `-hs`; docs/hist.md "Hidden states").
public struct HiddenStateHistOptions: Sendable {
  /// Linear bins `np.linspace(lo, hi, bins + 1)`: the reference's 100 bins over [−5, 5].
  public var bins = 100
  public var lo = -5.0
  public var hi = 5.0
  /// Hidden-state indices to keep (0 = embedding output, i = output of layer i − 1); nil = all in the stream.
  public var layers: [Int]?
  /// The reference's `-hs` first passes the states through its numpy log quantizer with `int(-hq)` bits
  /// (`referenceLogQuantize`); nil = bin the values as recorded (docs/hist.md "Hidden states").
  public var logBits: Int?

  public init() {}

  /// The bin edges, `[bins + 1]` float64, exactly numpy's `linspace`.
  public var edges: [Double] { Numpy.linspace(lo, hi, count: bins + 1) }

  /// Checks the ranges; `StatsError` names the flag's value.
  public func validate() throws {
    guard bins >= 1, bins <= 100_000 else { throw StatsError("hidden-state bins must be in 1...100000, not \(bins)") }
    guard lo.isFinite, hi.isFinite, lo < hi else { throw StatsError("hidden-state range \(lo),\(hi): need finite lo < hi") }
    // The bin of x is (x − lo) · bins / (hi − lo): both factors must be finite (not for 1e308 apart, 1e-320 wide).
    let width = hi - lo, norm = Double(bins) / width
    guard width.isFinite, norm.isFinite, (width * norm).isFinite else {
      throw StatsError("hidden-state range \(lo),\(hi): too wide or too narrow for \(bins) bins")
    }
    if let b = logBits, b != 0 && !(2...24).contains(b) {
      // 1 bit divides by 2^0 − 1 = 0: the reference raises ZeroDivisionError.
      throw StatsError("log-quantizer bits \(b): need 0 (the reference's default -hq) or 2...24")
    }
  }
}

/// Per-layer histograms of hidden-state values (reference §3.6 `-hs`), accumulated one record at a time.
///
/// A record is `[layers + 1, n, hidden]` float32 (docs/stream-format.md). Each token row of `hidden` values gets
/// the reference's per-token histogram, `np.histogram(row, bins=E, weights=ones_like(row)/len(row))`: a value is
/// in bin i when `E[i] <= x < E[i+1]` (the last bin closed) compared in float64; values outside [E[0], E[bins]]
/// are in no bin. Because the edges are an array, numpy takes the float32 cumulative sum of the sorted weights,
/// so a row's fraction in bin i is `S(C[i+1]) − S(C[i])` in float32, with `S(k)` the float32 running sum of k
/// weights `1/hidden` and `C` the cumulative counts: that is what `row_fraction_*` hold, bit for bit.
/// Memory: fixed-size accumulators per kept layer, `[layers, bins, hidden + 1]` at most.
public final class HiddenStateStatistics {
  public let options: HiddenStateHistOptions
  /// `[bins + 1]` float64 edges.
  public let edges: [Double]
  /// Kept hidden-state indices, in output order.
  public let layers: [Int]
  /// Values per row (the model's hidden size).
  public let hidden: Int
  /// Bins per layer.
  public var bins: Int { edges.count - 1 }

  /// Records seen.
  public private(set) var records = 0
  /// Per layer `[L]`: values, token rows, values below E[0] / above E[bins] (±inf included).
  public private(set) var values: [Int64]
  public private(set) var rows: [Int64]
  public private(set) var below: [Int64]
  public private(set) var above: [Int64]
  /// Per layer `[L]`: smallest and largest value; float64 sums of x and x² (mean, population std).
  public private(set) var minimum: [Float]
  public private(set) var maximum: [Float]
  private var sum: [Double]
  private var sumSquares: [Double]
  /// `[L, bins]`: values per bin over every row.
  public private(set) var histogram: [Int64]
  /// `[L, bins]`: float64 sum and maximum of the rows' fractions (the reference's per-token bars; float32 numbers
  /// unless `logBits` is set, whose float64 values make numpy weight and sum in float64).
  public private(set) var rowFractionSum: [Double]
  public private(set) var rowFractionMax: [Double]
  /// `[L, bins, hidden + 1]`: tokens with exactly k of their values in the bin (the spread of the per-token
  /// histograms, exact: a token's fraction is k/hidden up to the float32 sums above).
  public private(set) var rowCountSpread: [Int64]

  /// `S(k)` for k = 0...hidden: running sum of k weights `1/hidden`, in float32 (or float64 with `logBits`),
  /// stored as float64.
  private let runningWeight: [Double]
  private let norm: Double

  /// Statistics for records with hidden-state indices `streamLayers` and `hidden` values per row.
  /// - Throws: `StatsError` when `options.layers` names an index the stream lacks, or a bad option.
  public init(options: HiddenStateHistOptions, layers: [Int], hidden: Int) throws {
    try options.validate()
    // numpy sums the weights in blocks of 65536 values; one block per row keeps the float32 fractions exact.
    guard hidden > 0, hidden <= 65536 else { throw StatsError("hidden size \(hidden): need 1...65536") }
    self.options = options
    edges = options.edges
    self.layers = layers
    self.hidden = hidden
    let L = layers.count
    let b = options.bins
    values = Array(repeating: 0, count: L)
    rows = values
    below = values
    above = values
    minimum = Array(repeating: .infinity, count: L)
    maximum = Array(repeating: -.infinity, count: L)
    sum = Array(repeating: 0, count: L)
    sumSquares = sum
    histogram = Array(repeating: 0, count: L * b)
    rowFractionSum = Array(repeating: 0, count: L * b)
    rowFractionMax = Array(repeating: 0, count: L * b)
    rowCountSpread = Array(repeating: 0, count: L * b * (hidden + 1))
    // numpy: ones_like(row)/len(row) has the row's dtype, and the sorted weights are summed in order in it.
    var s: [Double] = [0]
    s.reserveCapacity(hidden + 1)
    if options.logBits == nil {
      let w = Float(1) / Float(hidden)
      var acc: Float = 0
      for _ in 0..<hidden {
        acc += w
        s.append(Double(acc))
      }
    } else {
      let w = 1 / Double(hidden)
      var acc = 0.0
      for _ in 0..<hidden {
        acc += w
        s.append(acc)
      }
    }
    runningWeight = s
    norm = Double(b) / (options.hi - options.lo)
  }

  /// The bin of a finite `x` inside [E[0], E[bins]]: a guess from the linear formula, then corrected by the
  /// float64 comparisons numpy makes, so the result is exactly `E[i] <= x < E[i+1]` (last bin closed).
  @inline(__always)
  private func bin(_ x: Double) -> Int {
    let last = edges.count - 2
    var i = min(max(Int((x - edges[0]) * norm), 0), last)
    while i > 0 && x < edges[i] { i -= 1 }
    while i < last && x >= edges[i + 1] { i += 1 }
    return i
  }

  /// The reference's numpy `quantize_hstates(h, 'log', bits)` on one float32 value: sign × 2^e with
  /// `e = floor(log2|x| / step + 0.5) · step`, `step = 9 / (2^(bits−1) − 1)`, `e ≤ −5` → 0, `e > 4` → 4, 0 taken as
  /// 1e-10; float32 arithmetic as numpy does on float32 states, the sign multiplied in float64. With bits = 0
  /// (the reference's default `-hq`) the step is −18 and every 2^−9 < |x| ≤ 2^9 becomes ±1 (docs/hist.md).
  public static func referenceLogQuantize(_ x: Float, bits: Int) -> Double {
    let step = Float(9.0 / (pow(2.0, Double(bits - 1)) - 1.0))
    let sign: Double = x < 0 ? -1 : 1
    let a: Float = x == 0 ? Float(1e-10) : abs(x)
    var e = (log2(a) / step + 0.5).rounded(.down) * step
    if e <= -5 { return 0 * sign }
    if e > 4 { e = 4 }
    return Double(pow(Float(2), e)) * sign
  }

  /// Adds one record, `[streamLayers, n, hidden]` values; `positions[j]` is the stream position of kept layer j.
  /// - Throws: `StatsError` on NaN (the message names the layer, token and position).
  public func add(_ x: UnsafeBufferPointer<Float>, n: Int, positions: [Int]) throws {
    precondition(positions.count == layers.count)
    let b = bins
    let logBits = options.logBits
    let lo = edges[0]
    let hi = edges[b]
    // Per row: [below, bins..., above] counts.
    var counts = [Int](repeating: 0, count: b + 2)
    for (j, p) in positions.enumerated() {
      var mn = minimum[j]
      var mx = maximum[j]
      var s = sum[j]
      var s2 = sumSquares[j]
      for r in 0..<n {
        for k in counts.indices { counts[k] = 0 }
        let row = (p * n + r) * hidden
        for c in 0..<hidden {
          let raw = x[row + c]
          if raw.isNaN {
            throw StatsError("NaN at hidden-state layer \(layers[j]), token \(r), position \(c)")
          }
          let d = logBits.map { Self.referenceLogQuantize(raw, bits: $0) } ?? Double(raw)
          let v = Float(d)
          if d < lo {
            counts[0] += 1
          } else if d > hi {
            counts[b + 1] += 1
          } else {
            counts[bin(d) + 1] += 1
          }
          if v < mn { mn = v }
          if v > mx { mx = v }
          s += d
          s2 += d * d
        }
        // Cumulative counts C[i] = values < E[i] (C[bins] counts ≤ E[bins]); fractions are differences of the
        // running weight sums, taken in float32 for float32 states as numpy does.
        var cum = counts[0]
        var sPrev = runningWeight[cum]
        for i in 0..<b {
          let c = counts[i + 1]
          cum += c
          let sNext = runningWeight[cum]
          let f = logBits == nil ? Double(Float(sNext) - Float(sPrev)) : sNext - sPrev
          sPrev = sNext
          let at = j * b + i
          histogram[at] += Int64(c)
          rowFractionSum[at] += f
          if f > rowFractionMax[at] { rowFractionMax[at] = f }
          rowCountSpread[at * (hidden + 1) + c] += 1
        }
        below[j] += Int64(counts[0])
        above[j] += Int64(counts[b + 1])
      }
      minimum[j] = mn
      maximum[j] = mx
      sum[j] = s
      sumSquares[j] = s2
      rows[j] += Int64(n)
      values[j] += Int64(n * hidden)
    }
    records += 1
  }

  /// Mean of layer j's values (NaN without values).
  public func mean(_ j: Int) -> Double { values[j] == 0 ? .nan : sum[j] / Double(values[j]) }

  /// Population standard deviation of layer j's values (NaN without values).
  public func std(_ j: Int) -> Double {
    guard values[j] > 0 else { return .nan }
    let m = mean(j)
    return max(sumSquares[j] / Double(values[j]) - m * m, 0).squareRoot()
  }

  /// The reference's out-of-range fractions in its subplot titles: counts over a fixed `10 · 320 · 768`
  /// (10 features of 320 padded rows of RoBERTa-base's 768 values), whatever the data (docs/hist.md).
  public static let referenceOutOfRangeDenominator = 10.0 * 320 * 768

  // MARK: - Tables

  /// The table names of `table(named:)`.
  public static let tableNames = ["layers", "hist"]

  /// One TSV table by name: `layers` (one row per kept hidden-state index) or `hist` (long format).
  public func table(named name: String) throws -> String {
    switch name {
    case "layers": return layersTable()
    case "hist": return histTable()
    default: throw StatsError("unknown table '\(name)'; expected one of \(Self.tableNames.joined(separator: ", "))")
    }
  }

  private func layersTable() -> String {
    let g = HistTables.g
    var out = "layer\tvalues\trows\tbelow\tabove\tbelow_frac\tabove_frac\tbelow_ref\tabove_ref\tmin\tmax\tmean\tstd\n"
    for (j, l) in layers.enumerated() {
      let v = Double(values[j])
      let cols: [String] = [
        String(l), String(values[j]), String(rows[j]), String(below[j]), String(above[j]),
        g(Double(below[j]) / v), g(Double(above[j]) / v),
        g(Double(below[j]) / Self.referenceOutOfRangeDenominator), g(Double(above[j]) / Self.referenceOutOfRangeDenominator),
        g(Double(minimum[j])), g(Double(maximum[j])), g(mean(j)), g(std(j)),
      ]
      out += cols.joined(separator: "\t") + "\n"
    }
    return out
  }

  private func histTable() -> String {
    let g = HistTables.g
    var out = "layer\tbin\tlo\thi\tcount\tfraction\tcdf\trow_mean\trow_max\n"
    for (j, l) in layers.enumerated() {
      let v = Double(values[j])
      let r = Double(rows[j])
      var cum: Int64 = 0
      for i in 0..<bins {
        let at = j * bins + i
        cum += histogram[at]
        let cols: [String] = [
          String(l), String(i), g(edges[i]), g(edges[i + 1]), String(histogram[at]),
          g(Double(histogram[at]) / v), g(Double(cum) / v), g(rowFractionSum[at] / r), g(rowFractionMax[at]),
        ]
        out += cols.joined(separator: "\t") + "\n"
      }
    }
    return out
  }

  // MARK: - Arrays

  /// Writes the arrays as named records (plain stream, like `spiqa-hist --npy`): `layers` [L], `edges` [bins+1],
  /// `histogram` [L, bins], `values rows below above` [L] (int64), `min max mean std` [L],
  /// `row_fraction_mean row_fraction_max` [L, bins] (float64), `row_count_spread` [L, bins, hidden + 1] (int64).
  public func writeArrays(path: String, input: String) throws {
    let w = try RecordWriter(path: path, compression: .none)
    try writeArrays(to: w, input: input)
    try w.close()
  }

  /// `writeArrays(path:input:)` into `w` (opened with `.none`), which the caller closes.
  public func writeArrays(to w: RecordWriter, input: String) throws {
    let L = layers.count
    try w.writeHeader([
      "spiqa": 1, "kind": "stream", "producer": "spiqa-hist", "content": "hidden-state-hist-arrays",
      "input": .string(input), "records": .int(records), "hidden": .int(hidden), "bins": .int(bins),
      "range": JSONValue([options.lo, options.hi]), "edges": JSONValue(edges),
      "log_bits": options.logBits.map { .int($0) } ?? .null,
    ])
    func put(_ name: String, _ a: NPYArray) throws {
      try w.write(meta: ["spiqa": 1, "kind": "hist_array", "name": .string(name)], array: a)
    }
    let lb = [L, bins]
    try put("layers", NPYArray(int64: layers.map(Int64.init), shape: [L]))
    try put("edges", HistOutputs.float64(edges, [bins + 1]))
    try put("histogram", NPYArray(int64: histogram, shape: lb))
    try put("values", NPYArray(int64: values, shape: [L]))
    try put("rows", NPYArray(int64: rows, shape: [L]))
    try put("below", NPYArray(int64: below, shape: [L]))
    try put("above", NPYArray(int64: above, shape: [L]))
    try put("min", HistOutputs.float64(minimum.map(Double.init), [L]))
    try put("max", HistOutputs.float64(maximum.map(Double.init), [L]))
    try put("mean", HistOutputs.float64((0..<L).map(mean), [L]))
    try put("std", HistOutputs.float64((0..<L).map(std), [L]))
    let mean = (0..<(L * bins)).map { rowFractionSum[$0] / Double(rows[$0 / bins]) }
    try put("row_fraction_mean", HistOutputs.float64(mean, lb))
    try put("row_fraction_max", HistOutputs.float64(rowFractionMax, lb))
    try put("row_count_spread", NPYArray(int64: rowCountSpread, shape: lb + [hidden + 1]))
  }
}

/// spiqa-hist's pass over the `hidden_states` records of a stream (other records are counted and skipped),
/// one record in memory at a time.
public final class HiddenStateRun {
  public let input: String
  public let options: HiddenStateHistOptions
  /// Statistics after `process()`; nil if the stream held no hidden-state record.
  public private(set) var stats: HiddenStateStatistics?
  public private(set) var sourceName = "stdin"
  /// Records of another kind skipped.
  public private(set) var skipped = 0

  private var streamLayers: [Int] = []
  private var positions: [Int] = []

  public init(input: String, options: HiddenStateHistOptions) {
    self.input = input
    self.options = options
  }

  /// Reads the stream to the end.
  /// - Throws: `SelectionError` for a kept index the stream lacks; `SpiqaIOError` (65) for a record of the wrong
  ///   rank or shape, a layer list or hidden size differing from the first record's, or NaN; I/O errors (74).
  public func process(progress: ((_ inputFraction: Double?) -> Void)? = nil) throws {
    let reader = try RecordReader(path: input)
    sourceName = reader.source
    while let (meta, array) = try reader.nextTensor(ofKind: "hidden_states", skipped: &skipped) {
      func bad(_ what: String, _ expected: String) -> SpiqaIOError { reader.badData(what, expected: expected) }
      let shape = array.shape
      guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
        throw bad("hidden_states tensor of shape \(shape)", "[layers + 1, n, hidden] with every dimension > 0")
      }
      let layers: [Int]
      do {  // the rules of attention records (AttentionLayout), for [layers + 1, n, hidden]
        try AttentionLayout.checkN(meta, shape[1], shape: shape)
        layers = try AttentionLayout.indices(meta, "layers", count: shape[0], shape: shape, each: "hidden-state layer")
      } catch {
        throw bad(error.what, error.expected)
      }
      let values = try reader.decodedAttention(meta, array)
      if stats == nil {
        streamLayers = layers
        let want = options.layers ?? layers
        positions = try want.map { w in
          guard let i = layers.firstIndex(of: w) else {
            throw SelectionError(.layer, index: w, available: layers, source: reader.source)
          }
          return i
        }
        stats = try HiddenStateStatistics(options: options, layers: want, hidden: shape[2])
      } else if layers != streamLayers || shape[2] != stats?.hidden {
        throw bad(
          "hidden_states record with layers \(layers) and hidden size \(shape[2])",
          "the layers \(streamLayers) and hidden size \(stats?.hidden ?? 0) of the first record")
      }
      guard let stats else { break }
      do {
        try values.withUnsafeBufferPointer { try stats.add($0, n: shape[1], positions: positions) }
      } catch let e as StatsError {
        throw bad(e.description, "finite values or ±inf")
      }
      progress?(reader.inputFraction)
    }
  }
}
