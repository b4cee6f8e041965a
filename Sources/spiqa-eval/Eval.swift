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

extension EvalTask: ExpressibleByArgument {}

/// `spiqa-eval`: score a checkpoint on SQuAD v1.1 (EM/F1) or SST-2 (accuracy) with exact, pruned, quantized or
/// replayed attention, the way the paper's analyzers did (docs/evaluation.md).
@main
struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "spiqa-eval",
    abstract: "Score a model on SQuAD v1.1 or SST-2 with exact, pruned, quantized or replayed attention.",
    discussion: """
      Prints one JSON line (task, model, n, em/f1 or accuracy, sparsity, threshold, method, bits, seconds) on \
      standard output; progress goes to standard error. Data defaults to $SPIQA_SHARED (else ../shared): \
      data/squad/dev-v1.1.json or data/glue/SST-2/dev.tsv. The analyzer's spellings -at, -aq, -ht, -hq and -sa are \
      accepted; -aq alone selects the paper's quantizer (linear_slog_clamped_midval).
      """)

  @Option(help: ArgumentHelp("Hugging Face checkpoint folder (QA head for squad, classifier for sst2).", valueName: "dir"))
  var model: String?

  @Option(help: "Benchmark: squad or sst2.")
  var task: EvalTask = .squad

  @Option(help: ArgumentHelp("Data file (SQuAD v1.1 JSON or GLUE SST-2 TSV).", valueName: "path"))
  var data: String?

  @Option(
    name: [.long, .customLong("at", withSingleDash: true)],
    help: "Prune attention probabilities: p > T is kept, the rest becomes 0 (0 = off).")
  var threshold: Double = 0

  @Option(help: ArgumentHelp("Attention quantizer applied on the fly (\(QuantMethod.validNames)).", valueName: "name"))
  var method: String?

  @Option(
    name: [.long, .customLong("aq", withSingleDash: true)],
    help: ArgumentHelp("Bits of the attention quantizer (-aq 3.0 is accepted).", valueName: "b"))
  var bits: String?

  @Option(help: "Quantizer variant: reference (the paper's code, quirks included) or corrected.")
  var variant: String = "reference"

  @Option(help: ArgumentHelp("Replace each layer's attention with the records of this stream (- = stdin).", valueName: "stream"))
  var replay: String?

  @Option(
    name: [.customLong("hs-threshold"), .customLong("ht", withSingleDash: true)],
    help: "Zero hidden-state values with |h| <= T after every layer (0 = off).")
  var hsThreshold: Double = 0

  @Option(
    name: [.customLong("hs-bits"), .customLong("hq", withSingleDash: true)],
    help: ArgumentHelp("Fixed-point hidden-state bits on every layer's input (needs >= 7; 0 = off).", valueName: "b"))
  var hsBits: String?

  @Option(
    name: [.long, .customLong("sa", withSingleDash: true)],
    help: "Evaluate Python's random.seed(SEED); random.sample(items, N) (-1 = all; the paper: -sa 100).")
  var samples: Int?

  @Option(help: "Seed of --samples.")
  var seed: Int = 123

  @Option(help: "Evaluate at most this many items (contiguous, from --offset).")
  var limit: Int?

  @Option(help: "Skip this many items first.")
  var offset: Int?

  @Option(help: ArgumentHelp("Write one JSON line per question / sentence to this file.", valueName: "path"))
  var perExample: String?

  @Option(help: ArgumentHelp("Evaluate part I of N of the selection; --per-example then ends with a shard line for --merge (docs/scaling.md).", valueName: "I/N"))
  var shard: String?

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp("Print the result line of the whole run from its shards' --per-example files (no model is run; --per-example writes the merged lines).", valueName: "files"))
  var merge: [String] = []

  @Option(help: "SQuAD: tokens per feature (padding included).")
  var maxSeqLen: Int = 320
  @Option(help: "SQuAD: context tokens between the starts of consecutive features.")
  var docStride: Int = 128
  @Option(help: "SQuAD: question tokens kept.")
  var maxQueryLen: Int = 64
  @Option(help: "SQuAD: longest answer in tokens.")
  var maxAnswerLen: Int = 15
  @Option(help: "SST-2: sentences per batch (padded to the longest).")
  var batchSize: Int = 20

  @Flag(help: "No progress on standard error.")
  var quiet = false

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    try runTool {
      if !merge.isEmpty { return try runMerge() }
      let r = try request()
      let lines = try perExample.map { try AtomicFile(path: $0) }
      var progress: SpiqaCLI.Progress?
      let result = try EvalRunner.run(
        r,
        perExample: { obj in try lines?.write(Array((JSONValue.object(obj).jsonText + "\n").utf8)) },
        progress: { done, total in
          if progress == nil {
            progress = SpiqaCLI.Progress(
              label: "eval", total: total, unit: r.task == .squad ? "questions" : "sentences", enabled: !quiet)
          }
          let seen = progress?.count ?? 0
          progress?.advance(by: done - seen)
        })
      progress?.finish()
      try lines?.commit()
      print(JSONValue.object(result).jsonText)
    }
  }
}
