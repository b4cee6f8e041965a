import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaStats

/// The flag strings as statistics options, with the flag named in every message.
extension SpiqaHist {
  /// Options after parsing the flag strings.
  struct Parsed {
    var options = StatsOptions()
    var layers: [Int]?
    var heads: [Int]?
  }

  /// Turns the flag strings into statistics options; `ValidationError` (64) on bad values.
  func parsed() throws -> Parsed {
    var p = Parsed()
    do {
      if let edges {
        let list: [Double]
        do {
          list = try BinEdges.readList(edges)
        } catch let e as StatsError {
          throw StatsError("--edges: \(e.description)")
        }
        p.options.edges = try BinEdges(edges: list, offset: offset ?? 0, name: "custom")
      } else {
        p.options.edges = try BinEdges(parsing: bins, offset: offset)
      }
      p.options.jsEdges = try BinEdges(parsing: jsBins)
      let ts = try thresholds.split(separator: ",", omittingEmptySubsequences: false).map { item -> Float in
        guard let v = Float(item.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0 else {
          throw StatsError("--thresholds: '\(item)' is not a number ≥ 0")
        }
        return v
      }
      _ = try ThresholdClassifier(ts)
      p.options.thresholds = ts
    } catch let e as StatsError {
      throw ValidationError(e.description)
    }
    guard rowSparsityBar.isFinite else { throw ValidationError("--row-sparsity-bar must be finite") }
    p.options.rowSparsityBar = rowSparsityBar
    guard padRows >= 0, padRows <= 1 << 20 else { throw ValidationError("--pad-rows must be in 0...1048576") }
    p.options.padRows = padRows
    guard levels >= 1, levels <= 10000 else { throw ValidationError("--levels must be in 1...10000") }
    p.options.spreadLevels = levels
    p.options.perRowStatistics = !noRowStats
    let t = threads ?? ProcessInfo.processInfo.activeProcessorCount
    guard t >= 1, t <= 64 else { throw ValidationError("--threads must be in 1...64") }
    p.options.threads = t
    p.layers = try layers.map { try parseIndexList($0) }
    p.heads = try heads.map { try parseIndexList($0) }
    return p
  }

  /// `--hs-bins`, `--hs-range` and `--layers` as hidden-state options; `ValidationError` (64) on bad values.
  func hiddenStateOptions() throws -> HiddenStateOptions {
    var o = HiddenStateOptions()
    o.bins = hsBins
    let parts = hsRange.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count == 2, let lo = Double(parts[0].trimmingCharacters(in: .whitespaces)),
      let hi = Double(parts[1].trimmingCharacters(in: .whitespaces))
    else { throw ValidationError("--hs-range '\(hsRange)': expected lo,hi, e.g. -5,5") }
    o.lo = lo
    o.hi = hi
    o.layers = try layers.map { try parseIndexList($0) }
    o.logBits = hsLogBits
    do { try o.validate() } catch let e as StatsError { throw ValidationError(e.description) }
    return o
  }

  /// Flags of the attention statistics that mean nothing for hidden states, and the other way round.
  func validateHiddenStates() throws {
    guard hiddenStates else {
      if hsBins != 100 || hsRange != "-5,5" || hsLogBits != nil {
        throw ValidationError("--hs-bins, --hs-range and --hs-log-bits need --hidden-states")
      }
      return
    }
    let unused: [(String, Bool)] = [
      ("--compare", compare != nil), ("--per-row", perRow != nil), ("--json", json), ("--heads", heads != nil),
      ("--edges", edges != nil), ("--bins", bins != "log"), ("--offset", offset != nil), ("--js-bins", jsBins != "js"),
      ("--levels", levels != 50),
    ]
    if let (flag, _) = unused.first(where: { $0.1 }) {
      throw ValidationError("\(flag) does not apply to --hidden-states (bins: --hs-bins, --hs-range)")
    }
    for t in tables where !HiddenStateStatistics.tableNames.contains(t) {
      throw ValidationError(
        "--table '\(t)' with --hidden-states: expected one of \(HiddenStateStatistics.tableNames.joined(separator: ", "))")
    }
    _ = try hiddenStateOptions()
  }

  func validate() throws {
    try validateHiddenStates()
    if hiddenStates {
      if npy == "-" { throw ValidationError("--npy -: standard output carries the tables; give a file path") }
      return
    }
    if edges != nil && bins != "log" { throw ValidationError("give either --bins or --edges, not both") }
    for t in tables where !HistTables.names.contains(t) {
      throw ValidationError("--table '\(t)': expected one of \(HistTables.names.joined(separator: ", "))")
    }
    if json && !tables.isEmpty { throw ValidationError("--json prints a summary instead of tables; drop --table") }
    for (flag, path) in [("--npy", npy), ("--per-row", perRow)] where path == "-" {
      throw ValidationError("\(flag) -: standard output carries the tables; give a file path for the binary records")
    }
    if compare == "-" && input == "-" {
      throw ValidationError("--compare -: the main stream already reads standard input; give one of them as a file")
    }
    _ = try parsed()
  }
}
