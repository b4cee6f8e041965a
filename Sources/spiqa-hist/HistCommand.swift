import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaIO
import SpiqaStats

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

  @Option(help: ArgumentHelp("Custom bin edges: a comma list, or a file of numbers (commas/whitespace).", valueName: "file|list"))
  var edges: String?

  @Option(help: ArgumentHelp("Value offset added (in float32) before binning (default: the preset's, 0 for custom edges).", valueName: "x"))
  var offset: Float?

  @Option(help: ArgumentHelp("Thresholds t for the fraction of values ≤ t (float32 comparison).", valueName: "list"))
  var thresholds: String = "1e-8,1e-4,1e-3,1e-2,1e-1"

  @Option(help: ArgumentHelp("Row sparsity counts values ≤ this (§3.3 sparsity_bar).", valueName: "x"))
  var rowSparsityBar: Float = 1e-8

  @Option(help: ArgumentHelp("Rows of the reference's padded array for the ref_* stats (§3.2: 320); 0 = real tokens only.", valueName: "n"))
  var padRows: Int = 320

  @Option(help: ArgumentHelp("Levels of the per-row histogram spread in --npy.", valueName: "n"))
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

  @Option(help: ArgumentHelp("Threads working on different heads (default: the number of processors). Results do not depend on it.", valueName: "n"))
  var threads: Int?

  @Flag(help: "No progress on standard error.")
  var quiet = false

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
        p.options.edges = try BinEdges(edges: try Self.readEdges(edges), offset: offset ?? 0, name: "custom")
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

  func validate() throws {
    if edges != nil && bins != "log" { throw ValidationError("give either --bins or --edges, not both") }
    for t in tables where !HistTables.names.contains(t) {
      throw ValidationError("--table '\(t)': expected one of \(HistTables.names.joined(separator: ", "))")
    }
    if json && !tables.isEmpty { throw ValidationError("--json prints a summary instead of tables; drop --table") }
    _ = try parsed()
  }

  /// Edges from a comma list or a file of numbers.
  static func readEdges(_ spec: String) throws -> [Double] {
    var text = spec
    if !spec.contains(","), FileManager.default.fileExists(atPath: spec) {
      guard let data = FileManager.default.contents(atPath: spec) else {
        throw StatsError("--edges: cannot read '\(spec)'")
      }
      text = String(decoding: data, as: UTF8.self)
    }
    let items = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
    return try items.map { item in
      guard let v = Double(item) else { throw StatsError("--edges: '\(item)' is not a number") }
      return v
    }
  }

  func run() throws {
    try runTool {
      let p = try parsed()
      let run = HistRun(
        input: input, compare: compare, options: p.options, layers: p.layers, heads: p.heads,
        perRowPath: perRow, quiet: quiet)
      try run.process()
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
      try HistOutputs.writeStdout(out)
    }
  }
}
