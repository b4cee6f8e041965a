import ArgumentParser
import Foundation
import SpiqaStats

/// The binning and row-statistics flags of `spiqa-hist` over attention (docs/hist.md): bins or custom edges, value
/// offset, thresholds, the row-sparsity bar, the reference's padded rows, spread levels and the Jensen–Shannon bins.
public struct HistogramOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Bins: log (§3.3, default), log20 (§3.4 plot_dist), js (§3.6), linear, NAME:COUNT, or a comma list of edges.", valueName: "spec"))
  public var bins: String = "log"

  @Option(parsing: .unconditional, help: ArgumentHelp("Custom bin edges: a comma list, or a file of numbers (commas/whitespace).", valueName: "file|list"))
  public var edges: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Value offset added (in float32) before binning (default: the preset's, 0 for custom edges).", valueName: "x"))
  public var offset: Float?

  @Option(parsing: .unconditional, help: ArgumentHelp("Thresholds t for the fraction of values ≤ t (float32 comparison).", valueName: "list"))
  public var thresholds: String = "1e-8,1e-4,1e-3,1e-2,1e-1"

  @Option(parsing: .unconditional, help: ArgumentHelp("Row sparsity counts values ≤ this (§3.3 sparsity_bar).", valueName: "x"))
  public var rowSparsityBar: Float = 1e-8

  @Option(parsing: .unconditional, help: ArgumentHelp("Rows of the reference's padded array for the ref_* stats (§3.2: 320); 0 = real tokens only.", valueName: "n"))
  public var padRows: Int = 320

  @Option(parsing: .unconditional, help: ArgumentHelp("Levels of the per-row histogram spread in --npy.", valueName: "n"))
  public var levels: Int = 50

  @Option(help: ArgumentHelp("Bins of the Jensen–Shannon row histograms (default js: §3.6).", valueName: "spec"))
  public var jsBins: String = "js"

  public init() {}

  /// The flags that were changed from their defaults (hidden-state histograms refuse them).
  public var changed: [String] {
    [("--edges", edges != nil), ("--bins", bins != "log"), ("--offset", offset != nil), ("--js-bins", jsBins != "js"),
     ("--levels", levels != 50)].filter(\.1).map(\.0)
  }

  /// The flags as statistics options; `ValidationError` (64) naming the flag on bad values. `readingFiles` false
  /// (flag validation) leaves an `--edges` file to the run: a pipe (`<(…)`) can be read only once.
  public func statsOptions(perRowStatistics: Bool, threads: Int, readingFiles: Bool = true) throws -> StatsOptions {
    if edges != nil && bins != "log" { throw ValidationError("give either --bins or --edges, not both") }
    if let offset, !offset.isFinite { throw ValidationError("--offset must be a finite number, got \(offset)") }
    var o = StatsOptions()
    do {
      if let edges, !readingFiles, BinEdges.namesFile(edges) {
        // checked when the run reads it
      } else if let edges {
        let list: [Double]
        do {
          list = try BinEdges.readList(edges)
        } catch let e as StatsError {
          throw StatsError("--edges: \(e.description)")
        }
        o.edges = try BinEdges(edges: list, offset: offset ?? 0, name: "custom")
      } else {
        o.edges = try BinEdges(parsing: bins, offset: offset)
      }
      o.jsEdges = try BinEdges(parsing: jsBins)
      let ts = try thresholds.split(separator: ",", omittingEmptySubsequences: false).map { item -> Float in
        guard let v = Float(item.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0 else {
          throw StatsError("--thresholds: '\(item)' is not a number ≥ 0")
        }
        return v
      }
      _ = try ThresholdClassifier(ts)
      o.thresholds = ts
    } catch let e as StatsError {
      throw ValidationError(e.description)
    }
    guard rowSparsityBar.isFinite else { throw ValidationError("--row-sparsity-bar must be finite") }
    o.rowSparsityBar = rowSparsityBar
    guard padRows >= 0, padRows <= 1 << 20 else { throw ValidationError("--pad-rows must be in 0...1048576") }
    o.padRows = padRows
    guard levels >= 1, levels <= 10000 else { throw ValidationError("--levels must be in 1...10000") }
    o.spreadLevels = levels
    o.perRowStatistics = perRowStatistics
    o.threads = threads
    return o
  }
}

/// `spiqa-hist --hidden-states` and its bins: the reference's `-hs` (§3.6; docs/hist.md "Hidden states").
public struct HiddenStateHistogramOptions: ParsableArguments {
  @Flag(help: "Histogram the hidden_states records instead (reference §3.6 -hs: per token, 100 linear bins over [-5, 5]); tables layers (default) and hist, --npy; --layers picks hidden-state indices (0 = embeddings).")
  public var hiddenStates = false

  @Option(parsing: .unconditional, help: ArgumentHelp("Linear bins of --hidden-states.", valueName: "n"))
  public var hsBins: Int = 100

  @Option(parsing: .unconditional, help: ArgumentHelp("Range of the --hidden-states bins.", valueName: "lo,hi"))
  public var hsRange: String = "-5,5"

  @Option(parsing: .unconditional, help: ArgumentHelp("With --hidden-states: first apply the reference's -hs log quantizer with B bits (its int(-hq); 0 = its default, which maps most values to ±1: docs/hist.md).", valueName: "B"))
  public var hsLogBits: Int?

  public init() {}

  public func validate() throws {
    if !hiddenStates && (hsBins != 100 || hsRange != "-5,5" || hsLogBits != nil) {
      throw ValidationError("--hs-bins, --hs-range and --hs-log-bits need --hidden-states")
    }
    _ = try options(layers: nil)
  }

  /// The flags as hidden-state histogram options over `layers` (nil = all); `ValidationError` (64) on bad values.
  public func options(layers: [Int]?) throws -> HiddenStateHistOptions {
    var o = HiddenStateHistOptions()
    o.bins = hsBins
    let parts = hsRange.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count == 2, let lo = Double(parts[0].trimmingCharacters(in: .whitespaces)),
      let hi = Double(parts[1].trimmingCharacters(in: .whitespaces))
    else { throw ValidationError("--hs-range '\(hsRange)': expected lo,hi, e.g. -5,5") }
    o.lo = lo
    o.hi = hi
    o.layers = layers
    o.logBits = hsLogBits
    do { try o.validate() } catch let e as StatsError { throw ValidationError(e.description) }
    return o
  }
}
