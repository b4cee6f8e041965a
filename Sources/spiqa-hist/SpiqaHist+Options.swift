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
    p.options.threads = threads.threads ?? ProcessInfo.processInfo.activeProcessorCount
    p.layers = try selected.layerIndices()
    p.heads = try selected.headIndices()
    return p
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
    _ = try parsed()
  }
}
