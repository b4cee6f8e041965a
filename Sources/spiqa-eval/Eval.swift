import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaHub
import SpiqaIO
import SpiqaModel
import SpiqaQuant
import SpiqaTasks
import SpiqaTokenizers

/// `spiqa-eval`: score a checkpoint on a task of `TaskRegistry` (SQuAD v1.1/v2.0, GLUE, your own data) with exact,
/// pruned, quantized or replayed attention, the way the paper's analyzers did (docs/evaluation.md).
@main
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-eval",
    abstract: "Score a model on SQuAD, GLUE or your own data with exact, pruned, quantized or replayed attention.",
    discussion: """
      Prints one JSON line (task, model, n, the task's metrics, sparsity, threshold, method, bits, seconds) on \
      standard output; progress goes to standard error. Data defaults to the task's file under $SPIQA_SHARED \
      (else ../shared), e.g. data/squad/dev-v1.1.json, data/glue/SST-2/dev.tsv. The analyzer's spellings -at, -aq, \
      -ht, -hq and -sa are accepted; -aq alone selects the paper's quantizer (linear_slog_clamped_midval).

      Tasks:
      \(TaskRegistry.helpText)
      """, version: SpiqaVersion.line("spiqa-eval"))

  @Option(help: ArgumentHelp("Hugging Face checkpoint folder (QA head for squad, classifier for the others).", valueName: "dir"))
  var model: String?

  @Option(help: ArgumentHelp("Task (see the list below): \(TaskRegistry.names.joined(separator: ", ")).", valueName: "name"))
  var task: String = "squad"

  @Option(help: ArgumentHelp("Data file in the task's layout (default: the task's file in the shared folder).", valueName: "path"))
  var data: String?

  @OptionGroup var columns: DataColumnOptions

  @Option(
    name: [.long, .customLong("at", withSingleDash: true)],
    parsing: .unconditional, help: "Prune attention probabilities: p > T is kept, the rest becomes 0 (0 = off).")
  var threshold: Double = 0

  @Option(help: ArgumentHelp("Attention quantizer applied on the fly (\(QuantMethod.validNames)).", valueName: "name"))
  var method: String?

  @Option(
    name: [.long, .customLong("aq", withSingleDash: true)],
    parsing: .unconditional, help: ArgumentHelp("Bits of the attention quantizer (-aq 3.0 is accepted).", valueName: "b"))
  var bits: String?

  @Option(help: "Quantizer variant: reference (the paper's code, quirks included) or corrected.")
  var variant: String = "reference"

  @Option(help: ArgumentHelp("Replace each layer's attention with the records of this stream (- = stdin).", valueName: "stream"))
  var replay: String?

  @Option(
    name: [.customLong("hs-threshold"), .customLong("ht", withSingleDash: true)],
    parsing: .unconditional, help: "Zero hidden-state values with |h| <= T after every layer (0 = off).")
  var hsThreshold: Double = 0

  @Option(
    name: [.customLong("hs-bits"), .customLong("hq", withSingleDash: true)],
    parsing: .unconditional, help: ArgumentHelp("Fixed-point hidden-state bits on every layer's input (needs >= 7; 0 = off).", valueName: "b"))
  var hsBits: String?

  @Option(
    name: [.long, .customLong("sa", withSingleDash: true)],
    parsing: .unconditional, help: "Evaluate Python's random.seed(SEED); random.sample(items, N) (-1 = all; the paper: -sa 100).")
  var samples: Int?

  @Option(parsing: .unconditional, help: "Seed of --samples.")
  var seed: Int = 123

  @Option(parsing: .unconditional, help: "Evaluate at most this many items (contiguous, from --offset).")
  var limit: Int?

  @Option(parsing: .unconditional, help: "Skip this many items first.")
  var offset: Int?

  @Option(help: ArgumentHelp("Write one JSON line per question / sentence to this file.", valueName: "path"))
  var perExample: String?

  @Option(help: ArgumentHelp("Evaluate part I of N of the selection; --per-example then ends with a shard line for --merge (docs/scaling.md).", valueName: "I/N"))
  var shard: String?

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp("Print the result line of the whole run from its shards' --per-example files (no model is run; --per-example writes the merged lines).", valueName: "files"))
  var merge: [String] = []

  @Option(parsing: .unconditional, help: "SQuAD: tokens per feature (padding included).")
  var maxSeqLen: Int = 320
  @Option(parsing: .unconditional, help: "SQuAD: context tokens between the starts of consecutive features.")
  var docStride: Int = 128
  @Option(parsing: .unconditional, help: "SQuAD: question tokens kept.")
  var maxQueryLen: Int = 64
  @Option(parsing: .unconditional, help: "SQuAD: longest answer in tokens.")
  var maxAnswerLen: Int = 15
  @Option(help: "SQuAD v2.0: predict no answer when null score - best span score exceeds this (run_qa's default 0).")
  var nullThreshold: Double = 0
  @Option(parsing: .unconditional, help: "Sentence tasks: sentences per batch (padded to the longest).")
  var batchSize: Int = 20

  @Flag(name: [.short, .long], help: "No progress on standard error.")
  var quiet = false

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    try runTool {
      if !merge.isEmpty { return try runMerge() }
      let r = try request()
      let unit = try TaskRegistry.task(named: r.task).unit
      let lines = try perExample.map { try AtomicFile(path: $0) }
      var progress: SpiqaCLI.Progress?
      let result = try EvalRunner.run(
        r,
        perExample: { obj in try lines?.write(Array((JSONValue.object(obj).jsonText + "\n").utf8)) },
        progress: { done, total in
          if progress == nil {
            progress = SpiqaCLI.Progress(
              label: "eval", total: total, unit: unit, enabled: !quiet)
          }
          let seen = progress?.count ?? 0
          progress?.advance(by: done - seen)
        })
      progress?.finish()
      try lines?.commit()
      try StandardOutput.writeLine(JSONValue.object(result).jsonText)
    }
  }
}
