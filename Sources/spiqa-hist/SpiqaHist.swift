import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaIO
import SpiqaStats

/// A flag that does not fit the stream (e.g. `--layers` naming a layer it lacks): a usage error (64), one line.
struct HistUsageError: SpiqaError {
  var description: String
  var kind: SpiqaErrorKind { .usage }
}

/// `spiqa-hist`: distributions, sparsity and per-row statistics of an attention stream (TSV on stdout).
@main
struct SpiqaHist: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-hist",
    abstract: "Histograms, sparsity and per-row statistics of an attention stream.",
    discussion: "Reads attention records ([layers, heads, n, n]; f4, f2 or codes) from a file or standard input and "
      + "prints one TSV table per --table (default: heads). Definitions follow the reference (§3.2–3.6); see "
      + "docs/hist.md. Memory stays bounded whatever the stream length; raw per-row arrays only with --per-row.")

  @Argument(help: ArgumentHelp("Attention stream (plain or gzip); - or absent = standard input.", valueName: "stream"))
  var input: String = "-"

  @Option(help: ArgumentHelp("Bins: log (§3.3, default), log20 (§3.4 plot_dist), js (§3.6), linear, NAME:COUNT, or a comma list of edges.", valueName: "spec"))
  var bins: String = "log"

  @Option(parsing: .unconditional, help: ArgumentHelp("Custom bin edges: a comma list, or a file of numbers (commas/whitespace).", valueName: "file|list"))
  var edges: String?

  @Option(parsing: .unconditional, help: ArgumentHelp("Value offset added (in float32) before binning (default: the preset's, 0 for custom edges).", valueName: "x"))
  var offset: Float?

  @Option(help: ArgumentHelp("Thresholds t for the fraction of values ≤ t (float32 comparison).", valueName: "list"))
  var thresholds: String = "1e-8,1e-4,1e-3,1e-2,1e-1"

  @Option(parsing: .unconditional, help: ArgumentHelp("Row sparsity counts values ≤ this (§3.3 sparsity_bar).", valueName: "x"))
  var rowSparsityBar: Float = 1e-8

  @Option(parsing: .unconditional, help: ArgumentHelp("Rows of the reference's padded array for the ref_* stats (§3.2: 320); 0 = real tokens only.", valueName: "n"))
  var padRows: Int = 320

  @Option(parsing: .unconditional, help: ArgumentHelp("Levels of the per-row histogram spread in --npy.", valueName: "n"))
  var levels: Int = 50

  @Option(help: ArgumentHelp("Model layers to keep, e.g. 0,3-5 (default: all in the stream).", valueName: "list"))
  var layers: String?

  @Option(help: ArgumentHelp("Heads to keep, e.g. 0,3-5 (default: all).", valueName: "list"))
  var heads: String?

  @Option(help: ArgumentHelp("Second stream (e.g. quantized) for per-row Jensen–Shannon distances (§3.6); records matched in order and checked by example_id + feature.", valueName: "stream"))
  var compare: String?

  @Option(help: ArgumentHelp("Bins of the Jensen–Shannon row histograms (default js: §3.6).", valueName: "spec"))
  var jsBins: String = "js"

  @Option(name: .customLong("table"), help: ArgumentHelp("Table(s) to print: heads, layers, hist, rows, ref-stats (repeatable).", valueName: "name"))
  var tables: [String] = []

  @Flag(help: "Print a JSON summary instead of tables.")
  var json = false

  @Option(help: ArgumentHelp("Write the arrays (histograms, spreads, moments) as named .npy records (plain stream).", valueName: "file"))
  var npy: String?

  @Option(help: ArgumentHelp("Write raw per-row arrays per record (row histograms, sparsity, tokens-to-majority, median bin, JS).", valueName: "file"))
  var perRow: String?

  @Flag(help: "Skip the per-row statistics (tokens-to-majority, median bin, row sparsity, spreads): histograms, thresholds and moments only, faster.")
  var noRowStats = false

  @Option(parsing: .unconditional, help: ArgumentHelp("Threads working on different heads (default: the number of processors). Results do not depend on it.", valueName: "n"))
  var threads: Int?

  @Flag(help: "Histogram the hidden_states records instead (reference §3.6 -hs: per token, 100 linear bins over [-5, 5]); tables layers (default) and hist, --npy; --layers picks hidden-state indices (0 = embeddings).")
  var hiddenStates = false

  @Option(parsing: .unconditional, help: ArgumentHelp("Linear bins of --hidden-states.", valueName: "n"))
  var hsBins: Int = 100

  @Option(parsing: .unconditional, help: ArgumentHelp("Range of the --hidden-states bins.", valueName: "lo,hi"))
  var hsRange: String = "-5,5"

  @Option(parsing: .unconditional, help: ArgumentHelp("With --hidden-states: first apply the reference's -hs log quantizer with B bits (its int(-hq); 0 = its default, which maps most values to ±1: docs/hist.md).", valueName: "B"))
  var hsLogBits: Int?

  @Flag(help: "No progress on standard error.")
  var quiet = false

  func run() throws {
    try runTool {
      if hiddenStates { return try runHiddenStates() }
      let p = try parsed()
      let run = HistRun(
        input: input, compare: compare, options: p.options, layers: p.layers, heads: p.heads, perRowPath: perRow)
      var progress = SpiqaCLI.Progress(label: "spiqa-hist", unit: "records", enabled: !quiet)
      do {
        try run.process { progress.advance() }
      } catch let e as SelectionError {
        let what = e.axis.rawValue
        throw HistUsageError(
          description: "--\(what)s asks for \(what) \(e.index), but \(e.source) has \(what)s \(e.availableList)")
      }
      progress.finish()
      if run.skipped > 0 && !quiet { printError("spiqa-hist: skipped \(run.skipped) non-attention records") }
      guard let stats = run.stats else { throw StatsError("\(run.sourceName): no attention records in the stream") }
      let tables = HistTables(stats: stats, layers: run.layerIndices, heads: run.headIndices, compared: compare != nil)
      if let npy { try HistOutputs.writeArrays(tables, path: npy, input: input) }
      var out = ""
      if json {
        out = HistOutputs.summary(tables, input: input).jsonText + "\n"
      } else {
        let names = self.tables.isEmpty ? ["heads"] : self.tables
        out = try names.map { try tables.table(named: $0) }.joined(separator: "\n")
      }
      try StandardOutput.write(out)
    }
  }

  /// `--hidden-states`: the hidden_states records binned per token (SpiqaStats `HiddenStateRun`).
  func runHiddenStates() throws {
    let run = HiddenStateRun(input: input, options: try hiddenStateOptions())
    var progress = SpiqaCLI.Progress(label: "spiqa-hist", unit: "records", enabled: !quiet)
    do {
      try run.process { progress.advance() }
    } catch let e as SelectionError {
      throw HistUsageError(
        description: "--layers asks for hidden-state layer \(e.index), but \(e.source) has layers \(e.availableList)")
    }
    progress.finish()
    if run.skipped > 0 && !quiet { printError("spiqa-hist: skipped \(run.skipped) records that are not hidden states") }
    guard let stats = run.stats else { throw StatsError("\(run.sourceName): no hidden_states records in the stream") }
    if let npy { try stats.writeArrays(path: npy, input: input) }
    let names = tables.isEmpty ? ["layers"] : tables
    try StandardOutput.write(try names.map { try stats.table(named: $0) }.joined(separator: "\n"))
  }
}
