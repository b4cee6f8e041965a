import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaStats

/// The flag strings as statistics options, with the flag named in every message.
extension SpiqaHist {
  /// Turns the flag strings into statistics options; `ValidationError` (64) on bad values. (`--layers` and
  /// `--heads` are `LayerHeadOptions`.)
  func statsOptions() throws -> StatsOptions {
    var o = StatsOptions()
    do {
      if let edges {
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
    o.perRowStatistics = !noRowStats
    o.threads = threads.threads ?? ProcessInfo.processInfo.activeProcessorCount
    return o
  }

  func validate() throws {
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
    _ = try statsOptions()
  }
}
