import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaIO
import SpiqaModel
import SpiqaQuant
import SpiqaTaskCLI
import SpiqaTasks
import SpiqaTokenizers

/// `spiqa-extract`: run a BERT/RoBERTa model over a task's data (SQuAD, GLUE, your own file, text lines) and stream
/// its attention.
@main
struct Extract: SpiqaTool {
  static let version = "0.1.0"
  static let configuration = CommandConfiguration(
    commandName: "spiqa-extract",
    abstract: "Stream attention (and hidden states) out of a BERT/RoBERTa model over SQuAD, GLUE, your data or text.",
    discussion: """
      Writes one record per sequence (SQuAD feature, sentence or pair, text line): attention [layers, heads, n, n] \
      for the n real tokens, after any pruning/quantization applied on the fly (what the model used). The stream \
      format is in docs/stream-format.md; usage in docs/extract.md.

      Tasks:
      \(TaskRegistry.helpText)
      """,
    version: SpiqaVersion.line("spiqa-extract"))

  @Option(help: ArgumentHelp("Hugging Face checkpoint folder (default: models/all-MiniLM-L6-v2 from make setup).", valueName: "dir"),
    completion: .directory)
  var model: String?

  @OptionGroup var taskOptions: TaskOptions
  @OptionGroup var selection: SelectionOptions
  @OptionGroup var recorded: LayerHeadOptions

  @Option(help: ArgumentHelp("Payload type: f32 or f16.", valueName: "type"), completion: .list(["f32", "f16"]))
  var dtype: String = "f32"

  @OptionGroup var transform: TransformOptions
  @OptionGroup var transformSelection: TransformSelectionOptions
  @OptionGroup var hidden: HiddenStateOptions
  @OptionGroup var product: AttentionProductOption

  @Flag(help: "SQuAD: under a data-dependent quantizer, pad a question's features to their longest instead of --max-seq-len, as without one (uniform_slog_mean: only where the padding is most of the scope, its zeros counted without it). Faster; values move by float rounding, which a quantizer can turn into another bin.")
  var trimPadding = false

  @Flag(help: "Also write hidden_states records [layers + 1, n, hidden] after each attention record.")
  var hiddenStates = false

  @Flag(help: "Add tokens and token_ids to each record's metadata.")
  var tokens = false

  @Flag(name: [.customLong("list"), .customLong("dry-run")],
        help: "Print the selected examples and features (TSV) without running the model.")
  var list = false

  @Option(parsing: .unconditional, help: ArgumentHelp("Sentence tasks (sst2, GLUE, classify, text): tokens per sequence including [CLS]/[SEP] (default: the model's limit).", valueName: "n"))
  var maxLength: Int?

  @OptionGroup var threads: ThreadsOption

  @OptionGroup var verbosity: QuietOption
  var quiet: Bool { verbosity.quiet }

  @OptionGroup var output: OutputOptions

  func run() throws {
    // OpenBLAS 0.3.21 falls back to its slow generic kernel on CPUs newer than it knows: restart with the right one.
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    try runTool {
      let task = try taskOptions.resolvedTask()
      // Open the output first: an unwritable path fails before any work.
      let writer = list ? nil : try output.makeWriter()
      var r = ExtractionRequest(
        task: task.name, modelPath: try DefaultPaths.resolveModel(model, quiet: quiet),
        dataPath: try taskOptions.resolvedData())
      try configure(&r)
      try namingFlags {
        guard let writer else { return try ExtractionRunner.list(r) { try StandardOutput.writeLine($0) } }
        var progress: SpiqaCLI.Progress?
        try ExtractionRunner.run(r, into: writer) { done, total in
          if progress == nil {
            progress = SpiqaCLI.Progress(
              label: "spiqa-extract", total: total, unit: task.unit, enabled: !quiet)
          }
          let seen = progress?.count ?? 0
          if done > seen { progress?.advance(by: done - seen) }
        }
        try writer.close()
        progress?.finish()
      }
    }
  }
}
