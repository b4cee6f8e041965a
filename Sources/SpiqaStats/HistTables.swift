import Foundation

/// TSV tables of accumulated statistics (a header row, one row per layer/head), numbers as C `%.8g`.
///
/// `layers`/`heads` are the model indices printed in the first columns (the positions in `AttentionStatistics`
/// follow their order).
public struct HistTables {
  /// The statistics to print.
  public let stats: AttentionStatistics
  /// Model layer and head indices of the statistics' positions.
  public let layers: [Int]
  public let heads: [Int]
  /// Whether the Jensen–Shannon columns are printed.
  public let compared: Bool

  /// Tables over `stats` labelled with model indices.
  public init(stats: AttentionStatistics, layers: [Int], heads: [Int], compared: Bool) {
    self.stats = stats
    self.layers = layers
    self.heads = heads
    self.compared = compared
  }

  /// The table names accepted by `table(named:)`.
  public static let names = ["heads", "layers", "hist", "rows", "ref-stats"]

  /// One table by name (see `names`).
  public func table(named name: String) throws -> String {
    switch name {
    case "heads": return headsTable()
    case "layers": return layersTable()
    case "hist": return histTable()
    case "rows": return rowsTable()
    case "ref-stats": return referenceTable()
    default: throw StatsError("unknown table '\(name)'; expected one of \(Self.names.joined(separator: ", "))")
    }
  }

  /// `%.8g`, as Python's `'%.8g' % x`.
  public static func g(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return String(format: "%.8g", x)
  }

  private var thresholdColumns: [String] { stats.sortedThresholds.map { "le_" + String(format: "%g", Double($0)) } }

  private func fraction(_ a: Int64, _ b: Int64) -> String { Self.g(b > 0 ? Double(a) / Double(b) : .nan) }

  /// Per head: counts, sparsity, fractions ≤ thresholds, min/max/mean/std (real tokens), the reference's padded
  /// per-feature stats averaged over features, and the per-row statistics' means and stds.
  public func headsTable() -> String {
    var cols = ["layer", "head", "values", "zeros", "sparsity"] + thresholdColumns
    cols += ["min", "max", "mean", "std", "ref_max", "ref_min", "ref_mean", "ref_std", "rows", "row_sparsity_mean",
             "row_sparsity_std", "ttm_mean", "ttm_std", "ttm_frac_mean", "ttm_frac_std", "median_bin_mean",
             "median_bin_std"]
    if compared { cols += ["js_mean", "js_std", "js_max"] }
    var lines = [cols.joined(separator: "\t")]
    for (l, layer) in layers.enumerated() {
      for (h, head) in heads.enumerated() {
        let s = stats.heads[l * heads.count + h]
        var f = [String(layer), String(head), String(s.values), String(s.zeros), fraction(s.zeros, s.values)]
        f += s.atMostThreshold.map { fraction($0, s.values) }
        f += [Self.g(Double(s.minimum)), Self.g(Double(s.maximum)), Self.g(s.moments.meanOrNaN), Self.g(s.moments.std)]
        f += s.reference.map { Self.g($0.moments.meanOrNaN) }
        f += [String(s.rows)]
        f += [s.rowSparsity, s.tokensToMajority, s.tokensToMajorityFraction, s.medianBin].flatMap {
          [Self.g($0.meanOrNaN), Self.g($0.std)]
        }
        if compared { f += [Self.g(s.jensenShannon.meanOrNaN), Self.g(s.jensenShannon.std), Self.g(s.jensenShannonMax)] }
        lines.append(f.joined(separator: "\t"))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Per layer (heads merged) and a final `all` row: sparsity, thresholds, moments, per-row means, diversity.
  public func layersTable() -> String {
    var cols = ["layer", "values", "zeros", "sparsity"] + thresholdColumns
    cols += ["min", "max", "mean", "std", "rows", "row_sparsity_mean", "ttm_mean", "ttm_frac_mean", "median_bin_mean",
             "diversity"]
    if compared { cols += ["js_mean", "js_max"] }
    var lines = [cols.joined(separator: "\t")]
    var diversitySum = 0.0
    for l in 0...layers.count {
      let isAll = l == layers.count
      let s = stats.merged(layer: isAll ? nil : l)
      let diversity = isAll ? diversitySum / Double(layers.count) : stats.diversity(layer: l)
      if !isAll { diversitySum += diversity }
      var f = [isAll ? "all" : String(layers[l]), String(s.values), String(s.zeros), fraction(s.zeros, s.values)]
      f += s.atMostThreshold.map { fraction($0, s.values) }
      f += [Self.g(Double(s.minimum)), Self.g(Double(s.maximum)), Self.g(s.moments.meanOrNaN), Self.g(s.moments.std)]
      f += [String(s.rows), Self.g(s.rowSparsity.meanOrNaN), Self.g(s.tokensToMajority.meanOrNaN),
            Self.g(s.tokensToMajorityFraction.meanOrNaN), Self.g(s.medianBin.meanOrNaN), Self.g(diversity)]
      if compared { f += [Self.g(s.jensenShannon.meanOrNaN), Self.g(s.jensenShannonMax)] }
      lines.append(f.joined(separator: "\t"))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Long format: one row per (layer, head, bin) with the bin's edges, count, fraction and CDF.
  public func histTable() -> String {
    let e = stats.options.edges.edges
    var lines = ["layer\thead\tbin\tlo\thi\tcount\tfraction\tcdf"]
    for (l, layer) in layers.enumerated() {
      for (h, head) in heads.enumerated() {
        let c = stats.heads[l * heads.count + h].histogram
        let t = c.reduce(0, +)
        var cum: Int64 = 0
        for b in 0..<c.count {
          cum += c[b]
          lines.append(
            "\(layer)\t\(head)\t\(b)\t\(Self.g(e[b]))\t\(Self.g(e[b + 1]))\t\(c[b])\t\(fraction(c[b], t))\t\(fraction(cum, t))")
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Long format: one row per (layer, head, bin) with the mean normalised row histogram and mean row CDF (§3.3).
  public func rowsTable() -> String {
    let e = stats.options.edges.edges
    var lines = ["layer\thead\tbin\tlo\thi\trow_hist_mean\trow_cdf_mean\tmedian_bin_rows"]
    for (l, layer) in layers.enumerated() {
      for (h, head) in heads.enumerated() {
        let s = stats.heads[l * heads.count + h]
        let used = Double(s.rows - s.emptyRows)
        for b in 0..<s.rowHistogramSum.count {
          let m = used > 0 ? s.rowHistogramSum[b] / used : .nan
          let c = used > 0 ? s.rowCDFSum[b] / used : .nan
          lines.append(
            "\(layer)\t\(head)\t\(b)\t\(Self.g(e[b]))\t\(Self.g(e[b + 1]))\t\(Self.g(m))\t\(Self.g(c))\t\(s.medianBinHistogram[b])")
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The reference's `get_stat_features` table (§3.4): min/max/avg/std over features of each feature's
  /// max/min/mean/std, taken over the padded `[padRows, n]` array (§3.2 quirk; `--pad-rows 0` for real tokens).
  public func referenceTable() -> String {
    var cols = ["layer", "head", "features"]
    for stat in ["max", "min", "mean", "std"] {
      for agg in ["min", "max", "avg", "std"] { cols.append("\(stat)_\(agg)") }
    }
    var lines = [cols.joined(separator: "\t")]
    for (l, layer) in layers.enumerated() {
      for (h, head) in heads.enumerated() {
        let s = stats.heads[l * heads.count + h]
        var f = [String(layer), String(head), String(Int(s.reference[0].moments.count))]
        for r in s.reference { f += [Self.g(r.min), Self.g(r.max), Self.g(r.moments.meanOrNaN), Self.g(r.moments.std)] }
        lines.append(f.joined(separator: "\t"))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
