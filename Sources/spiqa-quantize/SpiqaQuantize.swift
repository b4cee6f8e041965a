import ArgumentParser
import SpiqaCLI
import SpiqaIO
import SpiqaQuant

#if canImport(Glibc)
import Glibc
#endif

/// `spiqa-quantize`: prune and quantize the attention records of a stream, offline.
@main
struct SpiqaQuantize: SpiqaTool {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-quantize",
    abstract: "Prune (p > threshold kept) and quantize attention records of a spiqa stream.",
    discussion: """
      Reads a record stream (file or -, plain or gzip), applies pruning then quantization to every attention \
      record exactly as the reference code (float32), and writes a stream. Other records pass through.
      Methods: \(QuantMethod.validNames).
      Data-dependent methods (uniform_*, binarization) take statistics over one layer of one record \
      (--scope record) or of all consecutive records with the same example_id (--scope example, the default: \
      a stream has no batches, and an example is ≈ the reference's batch). See docs/quantizers.md and docs/cli.md.
      """, version: SpiqaVersion.line("spiqa-quantize"))

  @Argument(help: ArgumentHelp("Input stream (default: standard input).", valueName: "input"), completion: .file())
  var input: String?

  @OptionGroup var transform: TransformOptions
  @OptionGroup var transformSelection: TransformSelectionOptions

  @Option(help: ArgumentHelp("Payload type: f32, f16, or codes (u1/u2 indices + levels in the metadata).", valueName: "type"),
    completion: .list(["f32", "f16", "codes"]))
  var dtype: String = "f32"

  /// The name this flag had before the tools agreed on `--dtype` (docs/cli.md); still accepted.
  @Option(name: .customLong("output-dtype"), help: .hidden)
  var legacyDtype: String?

  @Option(help: ArgumentHelp("Write the report as JSON to this file (- = standard output, with --output FILE; the summary on stderr is kept).", valueName: "path"))
  var report: String?

  @Flag(help: "Also compute the Jensen–Shannon distance between original and quantized rows (reference §3.6).")
  var js = false

  @OptionGroup var verbosity: QuietOption

  @OptionGroup var outputOptions: OutputOptions

  /// The parsed settings (valid after `checkFlags()`).
  func settings() throws -> QuantizeSettings {
    guard let out = QuantizeSettings.Output(rawValue: legacyDtype ?? dtype) else {
      throw ValidationError("--dtype must be one of: \(QuantizeSettings.Output.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    var t = try transform.transform(defaultScope: .example)
    try transformSelection.apply(to: &t)
    guard QuantizeSettings.scopes.contains(t.scope) else {
      throw ValidationError("--scope \(t.scope.rawValue): a stream has no batches; use example (≈ the reference's batch) or record")
    }
    if out == .codes && t.quantizer == nil {
      throw ValidationError("--dtype codes needs --method/--bits")
    }
    var settings = QuantizeSettings(transform: t, output: out, js: js)
    settings.provenance = Provenance.object(tool: "spiqa-quantize", input: input)
    return settings
  }

  func checkFlags() throws {
    _ = try settings()
    let streamToStdout = outputOptions.output == nil || namesStandardOutput(outputOptions.output)
    if streamToStdout {
      try refuseStandardOutput("--report", report, carries: "the stream", advice: "give --output FILE or a report path")
    }
    try checkDistinctOutputs(
      [("--output", outputOptions.output), ("--report", report)],
      sparing: [("the input stream", input ?? "-"), ("--transform-mask", transformSelection.transformMask)])
    if streamToStdout, isatty(1) != 0 {
      throw ValidationError("refusing to write a binary stream to a terminal; use --output FILE or a pipe")
    }
  }

  func run() throws {
    try runTool {
      let s = try settings()
      let reader = try RecordReader(path: input)
      // Both outputs are opened before any work and committed only when both are written: a report that cannot
      // be written leaves the old stream (docs/robustness.md).
      let reportFile = try report.map { try AtomicFile(path: $0) }
      let writer = try outputOptions.makeWriter()
      let stream = QuantizeStream(settings: s, reader: reader, writer: writer)
      var progress = SpiqaCLI.Progress(label: "spiqa-quantize", unit: "records", enabled: !verbosity.quiet)
      try stream.run { progress.advance(fraction: $0) }
      let summary = QuantizeReport(report: stream.report, settings: s)
      try reportFile.map { try summary.writeJSON(to: $0) }
      try writer.close()
      try reportFile?.commit()
      progress.finish()
      if !verbosity.quiet { printError(summary.line) }
    }
  }
}
