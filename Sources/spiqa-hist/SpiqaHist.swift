import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaIO
import SpiqaStats

/// `spiqa-hist`: distributions, sparsity and per-row statistics of an attention stream (TSV on stdout).
@main
struct SpiqaHist: SpiqaTool {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-hist",
    abstract: "Histograms, sparsity and per-row statistics of an attention stream.",
    discussion: "Reads attention records ([layers, heads, n, n]; f4, f2 or codes) from a file or standard input and "
      + "prints one TSV table per --table (default: heads). Definitions follow the reference (§3.2–3.6); see "
      + "docs/hist.md. Memory stays bounded whatever the stream length; raw per-row arrays only with --per-row.",
    version: SpiqaVersion.line("spiqa-hist"))

  @Argument(help: ArgumentHelp("Attention stream (plain or gzip); - or absent = standard input.", valueName: "stream"), completion: .file())
  var input: String = "-"

  @OptionGroup var histogram: HistogramOptions

  @OptionGroup var selected: LayerHeadOptions

  @Option(help: ArgumentHelp("Second stream (e.g. quantized) for per-row Jensen–Shannon distances (§3.6); records matched in order and checked by example_id + feature.", valueName: "stream"))
  var compare: String?

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

  @OptionGroup var threads: ThreadsOption

  @OptionGroup var hs: HiddenStateHistogramOptions

  @OptionGroup var verbosity: QuietOption
  var quiet: Bool { verbosity.quiet }

  func run() throws {
    try runTool {
      if hs.hiddenStates { return try runHiddenStates() }
      let options = try histogram.statsOptions(
        perRowStatistics: !noRowStats, threads: threads.threads ?? ProcessInfo.processInfo.activeProcessorCount)
      let run = try HistRun(
        input: input, compare: compare, options: options, layers: selected.layerIndices(),
        heads: selected.headIndices(), perRowPath: perRow)
      // Opened before the run (a path that cannot be written fails at once), committed after the tables.
      let arrays = try npy.map { try RecordWriter(path: $0, compression: .none) }
      var progress = SpiqaCLI.Progress(label: "spiqa-hist", unit: "records", enabled: !quiet)
      do {
        try run.process { progress.advance(fraction: $0) }
      } catch let e as SelectionError {
        let what = e.axis.rawValue
        throw CLIError.usage(
          "--\(what)s asks for \(what) \(e.index), but \(e.source) has \(what)s \(e.availableList)")
      }
      progress.finish()
      if run.skipped > 0 && !quiet { printError("spiqa-hist: skipped \(run.skipped) non-attention records") }
      guard let stats = run.stats else { throw StatsError("\(run.sourceName): no attention records in the stream") }
      let tables = HistTables(stats: stats, layers: run.layerIndices, heads: run.headIndices, compared: compare != nil)
      if let arrays { try HistOutputs.writeArrays(tables, to: arrays, input: input) }
      let names = self.tables.isEmpty ? ["heads"] : self.tables
      let provenance = Provenance.object(tool: "spiqa-hist", input: input)
      try StandardOutput.write(
        json ? HistOutputs.summary(tables, input: input, provenance: provenance).jsonText + "\n"
          : names.map { try tables.table(named: $0) }.joined(separator: "\n"))
      try run.commitRows()
      try arrays?.close()
    }
  }

  /// `--hidden-states`: the hidden_states records binned per token (SpiqaStats `HiddenStateRun`).
  func runHiddenStates() throws {
    let run = HiddenStateRun(input: input, options: try hs.options(layers: selected.layerIndices()))
    let arrays = try npy.map { try RecordWriter(path: $0, compression: .none) }
    var progress = SpiqaCLI.Progress(label: "spiqa-hist", unit: "records", enabled: !quiet)
    do {
      try run.process { progress.advance(fraction: $0) }
    } catch let e as SelectionError {
      throw CLIError.usage(
        "--layers asks for hidden-state layer \(e.index), but \(e.source) has layers \(e.availableList)")
    }
    progress.finish()
    if run.skipped > 0 && !quiet { printError("spiqa-hist: skipped \(run.skipped) records that are not hidden states") }
    guard let stats = run.stats else { throw StatsError("\(run.sourceName): no hidden_states records in the stream") }
    if let arrays { try stats.writeArrays(to: arrays, input: input) }
    let names = tables.isEmpty ? ["layers"] : tables
    try StandardOutput.write(try names.map { try stats.table(named: $0) }.joined(separator: "\n"))
    try arrays?.close()
  }
}
