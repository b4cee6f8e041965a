import ArgumentParser
import SpiqaCLI
import SpiqaIO
import SpiqaQuant

#if canImport(Glibc)
import Glibc
#endif

/// `spiqa-quantize`: prune and quantize the attention records of a stream, offline.
@main
struct SpiqaQuantize: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-quantize",
    abstract: "Prune (p > threshold kept) and quantize attention records of a spiqa stream.",
    discussion: """
      Reads a record stream (file or -, plain or gzip), applies pruning then quantization to every attention \
      record exactly as the reference code (float32), and writes a stream. Other records pass through.
      Methods: \(QuantMethod.validNames).
      Data-dependent methods (uniform_*, binarization) take statistics over one layer of one record \
      (--scope record) or of all consecutive records with the same example_id (--scope example, ≈ the \
      reference's batch). See docs/quantizers.md.
      """, version: SpiqaVersion.line("spiqa-quantize"))

  @Argument(help: ArgumentHelp("Input stream (default: standard input).", valueName: "input"))
  var input: String?

  @Option(name: [.long, .customLong("at", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Prune: keep values strictly above T, zero the rest (0 = off).", valueName: "T"))
  var threshold: Double = 0

  @Option(help: ArgumentHelp("Quantizer: a reference name or paper alias (linear, linear-pruned, log, log-pruned, boolean, ...).", valueName: "name"))
  var method: String?

  @Option(name: [.long, .customLong("aq", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Bits (1-16). With -aq/--bits but no --method: linear_slog_clamped_midval, the reference's active quantizer.", valueName: "B"))
  var bits: String?

  @Option(help: ArgumentHelp("reference (quirks included) or corrected.", valueName: "variant"))
  var variant: String = "reference"

  @Option(help: ArgumentHelp("f32, f16, or codes (u1/u2 indices + levels in the metadata).", valueName: "type"))
  var outputDtype: String = "f32"

  @Option(help: ArgumentHelp("Statistics scope of data-dependent methods: record or example.", valueName: "scope"))
  var scope: String = "example"

  @Option(help: ArgumentHelp("Write the report as JSON to this file (- = standard output, with --output FILE; the summary on stderr is kept).", valueName: "path"))
  var report: String?

  @Flag(help: "Also compute the Jensen–Shannon distance between original and quantized rows (reference §3.6).")
  var js = false

  @Flag(name: .shortAndLong, help: "No summary on standard error.")
  var quiet = false

  @OptionGroup var outputOptions: OutputOptions

  /// The parsed settings (valid after `validate()`).
  func settings() throws -> QuantizeSettings {
    guard threshold.isFinite, threshold >= 0 else {
      throw ValidationError("--threshold must be a number >= 0, got \(threshold)")
    }
    guard let v = QuantVariant(rawValue: variant) else {
      throw ValidationError("--variant must be one of: \(QuantVariant.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard let out = QuantizeSettings.Output(rawValue: outputDtype) else {
      throw ValidationError("--output-dtype must be one of: \(QuantizeSettings.Output.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard let sc = QuantScope(rawValue: scope), QuantizeSettings.scopes.contains(sc) else {
      throw ValidationError("--scope must be one of: \(QuantizeSettings.scopes.map(\.rawValue).joined(separator: ", "))")
    }
    var quantizer: AttentionQuantizer?
    if method != nil || bits != nil {
      let m: QuantMethod
      if let name = method {
        guard let parsed = QuantMethod(name: name) else {
          throw ValidationError("unknown --method '\(name)'; valid: \(QuantMethod.validNames)")
        }
        m = parsed
      } else {
        m = .linearSlogClampedMidval
      }
      guard let text = bits else { throw ValidationError("--method needs --bits (1-16)") }
      guard let d = Double(text), d == d.rounded(), let b = Int(exactly: d), supportedBits.contains(b) else {
        throw ValidationError("--bits must be a whole number in 1-16 (3 or 3.0), got '\(text)'; valid methods: \(QuantMethod.validNames)")
      }
      do {
        quantizer = try AttentionQuantizer(method: m, bits: b, variant: v)
      } catch let e as QuantError {
        throw ValidationError(e.description)
      }
    }
    if out == .codes && quantizer == nil {
      throw ValidationError("--output-dtype codes needs --method/--bits")
    }
    let transform = AttentionTransform(threshold: threshold, quantizer: quantizer, scope: sc)
    return QuantizeSettings(transform: transform, output: out, js: js)
  }

  func validate() throws {
    _ = try settings()
    let streamToStdout = outputOptions.output == nil || outputOptions.output == "-"
    if report == "-" && streamToStdout {
      throw ValidationError("--report -: standard output carries the stream; give --output FILE or a report path")
    }
    if streamToStdout, isatty(1) != 0 {
      throw ValidationError("refusing to write a binary stream to a terminal; use --output FILE or a pipe")
    }
  }

  func run() throws {
    try runTool {
      let s = try settings()
      let reader = try RecordReader(path: input)
      let writer = try outputOptions.makeWriter()
      let stream = QuantizeStream(settings: s, reader: reader, writer: writer)
      try stream.run()
      try writer.close()
      let summary = QuantizeReport(report: stream.report, settings: s)
      if let path = report { try summary.writeJSON(to: path) }
      if !quiet { printError(summary.line) }
    }
  }
}
