import Foundation
import SpiqaCore
import SpiqaIO

/// spiqa-hist's non-TSV outputs: named arrays (`--npy`), per-row arrays (`--per-row`) and the JSON summary (`--json`).
///
/// Both array files are record streams (docs/stream-format.md): a header, then per array a metadata record
/// `{"spiqa":1,"kind":"hist_array"|"hist_rows","name":...}` followed by the array. numpy reads them with
/// `np.load` in a loop (`--npy` is written without gzip; `--per-row` with gzip: wrap in `gzip.open`).
public enum HistOutputs {
  /// Little-endian float64 array.
  static func float64(_ v: [Double], _ shape: [Int]) -> NPYArray {
    NPYArray(dtype: .float64, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
  }

  /// Little-endian int32 array.
  static func int32(_ v: [Int32], _ shape: [Int]) -> NPYArray {
    NPYArray(dtype: .int32, shape: shape, bytes: v.withUnsafeBytes { Array($0) })
  }

  /// Options and edges recorded in file headers and the JSON summary.
  public static func describe(_ o: StatsOptions) -> JSONObject {
    [
      "bins": .string(o.edges.name), "edges": JSONValue(o.edges.edges), "offset": .double(Double(o.edges.offset)),
      "thresholds": JSONValue(o.thresholds.sorted().map(Double.init)), "row_sparsity_bar": .double(Double(o.rowSparsityBar)),
      "pad_rows": .int(o.padRows), "levels": .int(o.spreadLevels), "js_bins": .string(o.jsEdges.name),
    ]
  }

  /// Header of the `--per-row` stream.
  public static func perRowHeader(options: StatsOptions, input: String) -> JSONObject {
    var h: JSONObject = ["spiqa": 1, "kind": "stream", "producer": "spiqa-hist", "content": "per-row", "input": .string(input)]
    for (k, v) in describe(options) { h[k] = v }
    return h
  }

  /// Writes one record's per-row arrays, each `[layers, heads, n(, bins)]`.
  public static func writeRows(
    _ rows: RowArrays, meta: JSONObject, n: Int, layers: [Int], heads: [Int], bins: Int, to w: RecordWriter
  ) throws {
    var base: JSONObject = ["spiqa": 1, "kind": "hist_rows", "n": .int(n), "layers": JSONValue(layers), "heads": JSONValue(heads)]
    for key in ["example_id", "example_index", "feature"] { if let v = meta[key] { base[key] = v } }
    let lhn = [layers.count, heads.count, n]
    var arrays: [(String, NPYArray)] = [
      ("row_histogram", int32(rows.histogram, lhn + [bins])),
      ("row_sparsity", float64(rows.sparsity, lhn)),
      ("tokens_to_majority", int32(rows.tokensToMajority, lhn)),
      ("median_bin", int32(rows.medianBin, lhn)),
    ]
    if !rows.jensenShannon.isEmpty { arrays.append(("jensen_shannon", float64(rows.jensenShannon, lhn))) }
    for (name, a) in arrays {
      var m = base
      m["name"] = .string(name)
      try w.write(meta: m, array: a)
    }
  }

  /// Writes every accumulated array as named records (plain, uncompressed stream) to `path`.
  public static func writeArrays(_ t: HistTables, path: String, input: String) throws {
    let w = try RecordWriter(path: path, compression: .none)
    try writeArrays(t, to: w, input: input)
    try w.close()
  }

  /// Writes every accumulated array as named records into `w` (opened with `.none`), which the caller closes.
  public static func writeArrays(_ t: HistTables, to w: RecordWriter, input: String) throws {
    let s = t.stats
    let (L, H) = (t.layers.count, t.heads.count)
    let lh = [L, H]
    let bins = s.options.edges.bins
    let levels = s.options.spreadLevels
    let heads = s.heads
    var header: JSONObject = [
      "spiqa": 1, "kind": "stream", "producer": "spiqa-hist", "content": "hist-arrays", "input": .string(input),
      "records": .int(s.records), "compared": .bool(t.compared),
    ]
    for (k, v) in describe(s.options) { header[k] = v }
    try w.writeHeader(header)
    func put(_ name: String, _ a: NPYArray) throws {
      try w.write(meta: ["spiqa": 1, "kind": "hist_array", "name": .string(name)], array: a)
    }
    func i64(_ f: (HeadStatistics) -> [Int64], _ tail: [Int]) -> NPYArray {
      NPYArray(int64: heads.flatMap(f), shape: lh + tail)
    }
    func f64(_ f: (HeadStatistics) -> [Double], _ tail: [Int]) -> NPYArray { float64(heads.flatMap(f), lh + tail) }
    try put("layers", NPYArray(int64: t.layers.map(Int64.init), shape: [L]))
    try put("heads", NPYArray(int64: t.heads.map(Int64.init), shape: [H]))
    try put("edges", float64(s.options.edges.edges, [bins + 1]))
    try put("thresholds", float64(s.sortedThresholds.map(Double.init), [s.sortedThresholds.count]))
    try put("histogram", i64({ $0.histogram }, [bins]))
    try put("values", i64({ [$0.values] }, []))
    try put("zeros", i64({ [$0.zeros] }, []))
    try put("nans", i64({ [$0.nans] }, []))
    try put("le_counts", i64({ $0.atMostThreshold }, [s.sortedThresholds.count]))
    try put("min", f64({ [Double($0.minimum)] }, []))
    try put("max", f64({ [Double($0.maximum)] }, []))
    try put("mean", f64({ [$0.moments.meanOrNaN] }, []))
    try put("std", f64({ [$0.moments.std] }, []))
    try put("ref_stats", f64({ h in h.reference.flatMap { [$0.min, $0.max, $0.moments.meanOrNaN, $0.moments.std] } }, [4, 4]))
    try put("rows", i64({ [$0.rows] }, []))
    try put("empty_rows", i64({ [$0.emptyRows] }, []))
    try put("row_sparsity_mean", f64({ [$0.rowSparsity.meanOrNaN] }, []))
    try put("row_sparsity_std", f64({ [$0.rowSparsity.std] }, []))
    try put("row_sparsity_hist", i64({ $0.rowSparsityHistogram }, [s.options.rowSparsityBins]))
    try put("ttm_mean", f64({ [$0.tokensToMajority.meanOrNaN] }, []))
    try put("ttm_std", f64({ [$0.tokensToMajority.std] }, []))
    try put("ttm_frac_mean", f64({ [$0.tokensToMajorityFraction.meanOrNaN] }, []))
    try put("ttm_frac_std", f64({ [$0.tokensToMajorityFraction.std] }, []))
    let ttmLength = max(1, heads.map(\.tokensToMajorityHistogram.count).max() ?? 1)
    try put("ttm_hist", i64({ $0.tokensToMajorityHistogram + Array(repeating: 0, count: ttmLength - $0.tokensToMajorityHistogram.count) }, [ttmLength]))
    try put("median_bin_mean", f64({ [$0.medianBin.meanOrNaN] }, []))
    try put("median_bin_std", f64({ [$0.medianBin.std] }, []))
    try put("median_bin_hist", i64({ $0.medianBinHistogram }, [bins]))
    func perRowMean(_ h: HeadStatistics, _ sums: [Double]) -> [Double] {
      let used = Double(h.rows - h.emptyRows)
      return sums.map { used > 0 ? $0 / used : .nan }
    }
    try put("row_hist_mean", f64({ perRowMean($0, $0.rowHistogramSum) }, [bins]))
    try put("row_cdf_mean", f64({ perRowMean($0, $0.rowCDFSum) }, [bins]))
    try put("row_hist_spread", i64({ $0.rowHistogramSpread }, [bins, levels]))
    try put("row_cdf_spread", i64({ $0.rowCDFSpread }, [bins, levels]))
    try put("diversity", float64((0..<L).map { s.diversity(layer: $0) }, [L]))
    if t.compared {
      try put("js_mean", f64({ [$0.jensenShannon.meanOrNaN] }, []))
      try put("js_std", f64({ [$0.jensenShannon.std] }, []))
      try put("js_max", f64({ [$0.jensenShannonMax] }, []))
    }
  }

  /// A JSON number, or null for NaN/±inf.
  public static func num(_ x: Double) -> JSONValue { x.isFinite ? .double(x) : .null }

  /// Scalar statistics of one head (or a merged set of heads).
  public static func scalars(_ h: HeadStatistics, thresholds: [Float], compared: Bool) -> JSONObject {
    var o: JSONObject = [
      "values": .int(Int(h.values)), "zeros": .int(Int(h.zeros)), "sparsity": num(h.sparsity),
      "fraction_le": .object(Dictionary(uniqueKeysWithValues: zip(thresholds, h.atMostThreshold).map {
        (String(format: "%g", Double($0.0)), num(h.values > 0 ? Double($0.1) / Double(h.values) : .nan))
      })),
      "min": num(Double(h.minimum)), "max": num(Double(h.maximum)), "mean": num(h.moments.meanOrNaN),
      "std": num(h.moments.std), "rows": .int(Int(h.rows)),
      "ref_max": num(h.reference[0].moments.meanOrNaN), "ref_min": num(h.reference[1].moments.meanOrNaN),
      "ref_mean": num(h.reference[2].moments.meanOrNaN), "ref_std": num(h.reference[3].moments.meanOrNaN),
      "row_sparsity_mean": num(h.rowSparsity.meanOrNaN), "row_sparsity_std": num(h.rowSparsity.std),
      "ttm_mean": num(h.tokensToMajority.meanOrNaN), "ttm_std": num(h.tokensToMajority.std),
      "ttm_frac_mean": num(h.tokensToMajorityFraction.meanOrNaN), "ttm_frac_std": num(h.tokensToMajorityFraction.std),
      "median_bin_mean": num(h.medianBin.meanOrNaN), "median_bin_std": num(h.medianBin.std),
    ]
    if compared {
      o["js_mean"] = num(h.jensenShannon.meanOrNaN)
      o["js_std"] = num(h.jensenShannon.std)
      o["js_max"] = num(h.jensenShannonMax)
    }
    return o
  }

  /// The `--json` summary: options, per head, per layer (with diversity) and overall scalars.
  /// `provenance`: who made it (spiqa-hist's `{"tool", "version", "commit", "input"}`); empty = no such key.
  public static func summary(_ t: HistTables, input: String, provenance: JSONObject = [:]) -> JSONValue {
    let s = t.stats
    let th = s.sortedThresholds
    var perHead: [JSONValue] = []
    var perLayer: [JSONValue] = []
    for (l, layer) in t.layers.enumerated() {
      for (h, head) in t.heads.enumerated() {
        var o = scalars(s.heads[l * t.heads.count + h], thresholds: th, compared: t.compared)
        o["layer"] = .int(layer)
        o["head"] = .int(head)
        perHead.append(.object(o))
      }
      var o = scalars(s.merged(layer: l), thresholds: th, compared: t.compared)
      o["layer"] = .int(layer)
      o["diversity"] = num(s.diversity(layer: l))
      perLayer.append(.object(o))
    }
    let diversities = (0..<t.layers.count).map { s.diversity(layer: $0) }
    var all = scalars(s.merged(), thresholds: th, compared: t.compared)
    all["diversity"] = num(diversities.reduce(0, +) / Double(max(diversities.count, 1)))
    var root = describe(s.options)
    root["input"] = .string(input)
    if !provenance.isEmpty { root["provenance"] = .object(provenance) }
    root["records"] = .int(s.records)
    root["layers"] = JSONValue(t.layers)
    root["heads"] = JSONValue(t.heads)
    root["per_head"] = .array(perHead)
    root["per_layer"] = .array(perLayer)
    root["all"] = .object(all)
    return .object(root)
  }
}
