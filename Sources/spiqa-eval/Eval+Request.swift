import ArgumentParser
import SpiqaCLI
import SpiqaCore
import SpiqaHub
import SpiqaIO
import SpiqaQuant
import SpiqaTaskCLI
import SpiqaTasks

/// The flags as an `EvalRequest`: the shared option groups validate their own flags (docs/cli.md); this checks
/// the ones only evaluation has, with the flag named in every message.
extension Eval {
  mutating func checkFlags() throws {
    if listTasks { return }
    if !merge.isEmpty {
      // Everything else describes a run, and the shards' lines already say how theirs ran.
      let allowed: Set = ["--merge", "--per-example", "--quiet", "-q"]
      if let flag = flagsGiven().first(where: { !allowed.contains($0) }) {
        throw ValidationError(
          "--merge rebuilds a finished run from its shards' files and takes only --per-example and --quiet; "
            + "\(flag) does not apply (the shard lines say how the run was made)")
      }
      try refuseStandardOutput("--per-example", perExample, carries: "the result line", advice: "give a file path")
      try checkDistinctOutputs([("--per-example", perExample)], sparing: merge.map { ("--merge", $0) })
      return
    }
    guard model != nil else { throw ValidationError("Missing expected argument '--model <dir>'") }
    if model == "-" { throw ValidationError("--model takes a folder or a Hub id, not - (standard input)") }
    if taskOptions.data == "-" && replay == "-" {
      throw ValidationError("--data - and --replay - both read standard input; give one of them as a file")
    }
    try refuseStandardOutput("--per-example", perExample, carries: "the result line", advice: "give a file path")
    try checkDistinctOutputs(
      [("--per-example", perExample)],
      sparing: [("--data", try? taskOptions.dataPath()), ("--replay", replay),
                ("--transform-mask", transformSelection.transformMask)])
    try FlagLimits.check("--max-answer-len", maxAnswerLen, atMost: FlagLimits.tokens)
    // Refused where they would do nothing, as --pairs or --data-format are.
    let given = Set(flagsGiven())
    let task = taskOptions.task
    if given.contains("--max-answer-len") && !["squad", "squad_v2"].contains(task) {
      throw ValidationError("--max-answer-len applies to --task squad and squad_v2 only")
    }
    if given.contains("--null-threshold") && task != "squad_v2" {
      throw ValidationError("--null-threshold applies to --task squad_v2 only (SQuAD v1.1 always has an answer)")
    }
    var t = try transform.transform()
    try transformSelection.apply(to: &t)
  }

  /// The flags as an `EvalRequest`.
  /// - Throws: `ValidationError` naming the flag.
  func request() throws -> EvalRequest {
    var r = EvalRequest(task: taskOptions.task, modelDirectory: model ?? "", dataPath: try taskOptions.dataPath())
    let quiet = self.quiet
    r.locateModel = { try resolveModelDirectory($0, quiet: quiet) }
    r.selection = try selection.selection()
    r.shard = try selection.parsedShard()
    r.transform = try transform.transform()
    try transformSelection.apply(to: &r.transform)
    try hidden.apply(to: &r.transform)
    r.replayPath = replay
    r.attentionProduct = try product.kernel()
    r.trimPadding = trimPadding
    let dataPath = r.dataPath
    r.provenance = { folder, weights in
      Provenance.object(tool: "spiqa-eval", modelFolder: folder, weightsFile: weights, dataPath: dataPath)
    }
    taskOptions.apply(to: &r.settings)
    r.settings.maxAnswerLen = maxAnswerLen
    r.settings.nullScoreThreshold = nullThreshold
    return r
  }

  /// `--merge`: the unsharded result line from the shards' per-example files (and their merged lines).
  func runMerge() throws {
    let merged = try EvalMerge.merge(paths: merge)
    let file = try perExample.map { try AtomicFile(path: $0) }
    for line in merged.perExampleLines { try file?.write(Array((line + "\n").utf8)) }
    try StandardOutput.writeLine(JSONValue.object(merged.result).jsonText)
    try file?.commit()
  }
}
