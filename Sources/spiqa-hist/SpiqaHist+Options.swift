import ArgumentParser
import SpiqaCLI
import SpiqaStats

/// The checks that span option groups, with the flag named in every message (each group checks its own flags).
extension SpiqaHist {
  func checkFlags() throws {
    if hs.hiddenStates {
      let unused = [("--compare", compare != nil), ("--per-row", perRow != nil), ("--json", json),
                    ("--heads", selected.heads != nil)].filter(\.1).map(\.0) + histogram.changed
      if let flag = unused.first {
        throw ValidationError("\(flag) does not apply to --hidden-states (bins: --hs-bins, --hs-range)")
      }
      for t in tables where !HiddenStateStatistics.tableNames.contains(t) {
        throw ValidationError(
          "--table '\(t)' with --hidden-states: expected one of \(HiddenStateStatistics.tableNames.joined(separator: ", "))")
      }
      try refuseStandardOutput("--npy", npy, carries: "the tables", advice: "give a file path")
      try checkDistinctOutputs([("--npy", npy)], sparing: [("the input stream", input)])
      return
    }
    for t in tables where !HistTables.names.contains(t) {
      throw ValidationError("--table '\(t)': expected one of \(HistTables.names.joined(separator: ", "))")
    }
    if json && !tables.isEmpty { throw ValidationError("--json prints a summary instead of tables; drop --table") }
    for (flag, path) in [("--npy", npy), ("--per-row", perRow)] {
      try refuseStandardOutput(flag, path, carries: "the tables", advice: "give a file path for the binary records")
    }
    try checkDistinctOutputs(
      [("--npy", npy), ("--per-row", perRow)], sparing: [("the input stream", input), ("the --compare stream", compare)])
    if compare == "-" && input == "-" {
      throw ValidationError("--compare -: the main stream already reads standard input; give one of them as a file")
    }
    _ = try histogram.statsOptions(perRowStatistics: !noRowStats, threads: 1, readingFiles: false)
  }
}
