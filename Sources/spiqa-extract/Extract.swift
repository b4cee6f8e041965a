import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaIO
import SpiqaModel
import SpiqaQuant
import SpiqaTasks
import SpiqaTokenizers

/// `spiqa-extract`: run a BERT/RoBERTa model over a task's data (SQuAD, GLUE, your own file, text lines) and stream
/// its attention.
@main
struct Extract: ParsableCommand {
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

  @Option(help: ArgumentHelp("Hugging Face checkpoint folder (default: models/all-MiniLM-L6-v2 from make setup).", valueName: "dir"))
  var model: String?

  @Option(help: ArgumentHelp("What to run on (see the list below), e.g. squad, sst2, mnli, classify, text.", valueName: "task"))
  var task: String = "squad"

  @Option(help: ArgumentHelp("Data file (default: the task's file under $SPIQA_SHARED or ../shared; - = stdin for text).", valueName: "path"))
  var data: String?

  @OptionGroup var columns: DataColumnOptions

  @Option(name: [.customLong("samples"), .customLong("sa", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Python-compatible random.seed(SEED); random.sample of N examples (the paper's -sa).", valueName: "n"))
  var samples: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Seed of --samples.", valueName: "s"))
  var seed: Int = 123

  @Option(parsing: .unconditional, help: ArgumentHelp("Run at most N examples (from --offset).", valueName: "n"))
  var limit: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Skip the first N examples.", valueName: "n"))
  var offset: Int?

  @Option(help: ArgumentHelp("Run part I of N of the selection (0 ≤ I < N); only part 0 writes the stream header, so cat of the parts is the whole stream (docs/scaling.md).", valueName: "I/N"))
  var shard: String?

  @Option(help: ArgumentHelp("Layers to record, e.g. 0,3-5 (default: all).", valueName: "list"))
  var layers: String?

  @Option(help: ArgumentHelp("Heads to record, e.g. 0-3 (default: all).", valueName: "list"))
  var heads: String?

  @Option(help: ArgumentHelp("Payload type: f32 or f16.", valueName: "type"))
  var dtype: String = "f32"

  @Option(name: [.long, .customLong("at", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Prune attention in every layer: p > T kept, the rest 0 (0 = off).", valueName: "t"))
  var threshold: Double = 0

  @Option(help: ArgumentHelp("Attention quantizer (reference name or alias such as log-pruned; default with --bits: log-pruned).", valueName: "name"))
  var method: String?

  @Option(name: [.long, .customLong("aq", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Quantize attention in every layer to B bits (1-16).", valueName: "b"))
  var bits: Int?

  @Option(help: ArgumentHelp("Statistics scope of data-dependent quantizers: batch (reference), example or record.", valueName: "scope"))
  var scope: String = "batch"

  @Option(help: ArgumentHelp("Quantizer variant: reference (quirks included) or corrected.", valueName: "variant"))
  var variant: String = "reference"

  @Option(name: [.customLong("hs-threshold"), .customLong("ht", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Hidden-state threshold on each layer's output: |h| <= T becomes 0 (0 = off).", valueName: "t"))
  var hsThreshold: Double = 0

  @Option(name: [.customLong("hs-bits"), .customLong("hq", withSingleDash: true)],
          parsing: .unconditional, help: ArgumentHelp("Fixed-point hidden-state bits on each layer's input (>= 7; 0 = off).", valueName: "b"))
  var hsBits: Int = 0

  @Flag(help: "Also write hidden_states records [layers + 1, n, hidden] after each attention record.")
  var hiddenStates = false

  @Flag(help: "Add tokens and token_ids to each record's metadata.")
  var tokens = false

  @Flag(name: [.customLong("list"), .customLong("dry-run")],
        help: "Print the selected examples and features (TSV) without running the model.")
  var list = false

  @Option(parsing: .unconditional, help: ArgumentHelp("Sentences per batch for sst2 and text.", valueName: "n"))
  var batchSize: Int = 20

  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: tokens per feature (the reference: 320).", valueName: "n"))
  var maxSeqLen: Int = 320

  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: context tokens between feature starts.", valueName: "n"))
  var docStride: Int = 128

  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: question tokens kept.", valueName: "n"))
  var maxQueryLen: Int = 64

  @Option(parsing: .unconditional, help: ArgumentHelp("sst2/text: tokens per sequence including [CLS]/[SEP] (default: the model's limit).", valueName: "n"))
  var maxLength: Int?

  @Option(parsing: .unconditional, help: ArgumentHelp("Compute threads (default: all cores).", valueName: "n"))
  var threads: Int?

  @Flag(name: [.short, .long], help: "No progress on standard error.")
  var quiet = false

  @OptionGroup var output: OutputOptions

  func run() throws {
    // OpenBLAS 0.3.21 falls back to its slow generic kernel on CPUs newer than it knows: restart with the right one.
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    try runTool {
      let task = try TaskRegistry.task(named: self.task)
      // Open the output first: an unwritable path fails before any work.
      let writer = list ? nil : try output.makeWriter()
      var r = ExtractionRequest(
        task: task.name, modelPath: try DefaultPaths.resolveModel(model, quiet: quiet),
        dataPath: try DefaultPaths.resolveData(
          data, task: task.name, defaultFile: task.defaultDataFile, hint: task.dataHint))
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
