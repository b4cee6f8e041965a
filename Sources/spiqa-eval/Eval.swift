import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaCore
import SpiqaHub
import SpiqaIO
import SpiqaModel
import SpiqaQuant
import SpiqaTaskCLI
import SpiqaTasks
import SpiqaTokenizers

/// `spiqa-eval`: score a checkpoint on a task of `TaskRegistry` (SQuAD v1.1/v2.0, GLUE, your own data) with exact,
/// pruned, quantized or replayed attention, the way the paper's analyzers did (docs/evaluation.md).
@main
struct Eval: SpiqaTool {
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

  @Option(help: ArgumentHelp("Hugging Face checkpoint folder (QA head for squad, classifier for the others).", valueName: "dir"),
    completion: .directory)
  var model: String?

  @OptionGroup var taskOptions: TaskOptions
  @OptionGroup var transform: TransformOptions
  @OptionGroup var transformSelection: TransformSelectionOptions
  @OptionGroup var hidden: HiddenStateOptions

  @Option(help: ArgumentHelp("Replace each layer's attention with the records of this stream (- = stdin).", valueName: "stream"),
    completion: .file())
  var replay: String?

  @OptionGroup var selection: SelectionOptions

  @Option(help: ArgumentHelp("Write one JSON line per question / sentence to this file.", valueName: "path"))
  var perExample: String?

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp("Print the result line of the whole run from its shards' --per-example files (no model is run; --per-example writes the merged lines).", valueName: "files"))
  var merge: [String] = []

  @Option(parsing: .unconditional, help: ArgumentHelp("SQuAD: longest answer in tokens.", valueName: "n"))
  var maxAnswerLen: Int = 15
  @Option(parsing: .unconditional, help: ArgumentHelp(
    "SQuAD v2.0: predict no answer when null score - best span score exceeds this (run_qa's default 0).", valueName: "x"))
  var nullThreshold: Double = 0

  @OptionGroup var product: AttentionProductOption

  @Flag(help: "SQuAD v1.1: with pruning or a quantizer, pad a question's features to their longest and run several questions per pass, as for exact attention, statistics still per question (uniform_slog_mean: only questions whose padding is over half the scope; default: --max-seq-len, one question per pass, as the reference). Faster; scores move by float rounding, which a quantizer can turn into another bin.")
  var trimPadding = false

  @Flag(help: "Print the task registry as JSON lines (name, title, unit, metrics, default data) and exit.")
  var listTasks = false

  @OptionGroup var verbosity: QuietOption
  var quiet: Bool { verbosity.quiet }

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    try runTool {
      if listTasks {
        for line in TaskRegistry.jsonLines { try StandardOutput.writeLine(line) }
        return
      }
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
              label: "spiqa-eval", total: total, unit: unit, enabled: !quiet)
          }
          let seen = progress?.count ?? 0
          progress?.advance(by: done - seen)
        })
      progress?.finish()
      if let note = EvalRunner.replayedOtherWeights(result) { printError("spiqa-eval: note: \(note)") }
      // The result line first: when standard output fails (a full disk), --per-example is not left behind.
      try StandardOutput.writeLine(JSONValue.object(result).jsonText)
      try lines?.commit()
    }
  }
}
