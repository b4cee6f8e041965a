import ArgumentParser
import SpiqaCLI
import SpiqaTasks
import SpiqaTokenizers

/// What spiqa-extract and spiqa-eval run on: `--task`, `--data`, the data columns, SQuAD featurization and
/// `--batch-size`, mapped onto `TaskSettings`. `--model` stays with each tool (eval needs a checkpoint with the
/// task's head; extract has a default).
public struct TaskOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp("Task (see the list below): \(TaskRegistry.names.joined(separator: ", ")).", valueName: "task"),
    completion: .list(TaskRegistry.names))
  public var task: String = "squad"

  @Option(
    help: ArgumentHelp(
      "Data file in the task's layout (default: the task's file under $SPIQA_SHARED or ../shared; - = standard input).",
      valueName: "path"),
    completion: .file())
  public var data: String?

  @OptionGroup public var columns: DataColumnOptions

  @OptionGroup public var squad: SquadFeatureOptions

  @Option(parsing: .unconditional, help: ArgumentHelp(
      "Sentence tasks: sentences per batch (padded to the longest). spiqa-eval of squad with exact attention or --trim-padding: features per forward pass, from consecutive questions sorted by length.",
      valueName: "n"))
  public var batchSize: Int = 20

  @Option(
    help: ArgumentHelp(
      "Sentence pairs that do not fit: longest_first as transformers' Python tokenizers cut it (slow, the default) or as the Rust tokenizers behind AutoTokenizer do (fast); they differ by a token per segment when both are cut and the room left is odd.",
      valueName: "slow|fast"),
    completion: .list(PairTruncation.allCases.map(\.rawValue)))
  public var pairTruncation: PairTruncation = .slow

  @Option(
    parsing: .unconditional,
    help: ArgumentHelp(
      "mlm: tokens per line, special tokens included (longer lines are cut; a line is one batch of one copy per token).",
      valueName: "n"))
  public var mlmLength: Int = 128

  public init() {}

  public func validate() throws {
    guard TaskRegistry.names.contains(task) else {
      throw ValidationError("--task must be one of \(TaskRegistry.names.joined(separator: ", ")), got '\(task)'")
    }
    try columns.validate(task: task)
    if pairTruncation == .fast && !hasPairs {
      throw ValidationError(
        "--pair-truncation applies to sentence pairs, and --task \(task) has none here (pairs: the GLUE pair tasks, "
          + "classify --pair-column, text --pairs)")
    }
    try FlagLimits.check("--batch-size", batchSize, atMost: FlagLimits.batchSize)
    try FlagLimits.check("--mlm-length", mlmLength, atMost: FlagLimits.tokens)
    guard mlmLength >= 3 else { throw ValidationError("--mlm-length must be at least 3 (one token and two special), got \(mlmLength)") }
  }

  /// True when the task reads sentence pairs as these flags set it up.
  var hasPairs: Bool {
    switch task {
    case "classify": return columns.pairColumn != nil
    case "text": return columns.pairs
    default: return ((try? TaskRegistry.task(named: task)) as? GLUETask)?.pair != nil
    }
  }

  /// The task `--task` names. - Throws: `TasksError.usage` for an unknown name.
  public func resolvedTask() throws -> any SpiqaTask { try TaskRegistry.task(named: task) }

  /// `--data`, else the task's default file (not checked for existence).
  public func dataPath() throws -> String {
    let t = try resolvedTask()
    return try DefaultPaths.dataPath(data, task: task, defaultFile: t.defaultDataFile, hint: t.dataHint)
  }

  /// `--data`, else the task's default file, checked to exist (74 when missing).
  public func resolvedData() throws -> String {
    let t = try resolvedTask()
    return try DefaultPaths.resolveData(data, task: t.name, defaultFile: t.defaultDataFile, hint: t.dataHint)
  }

  /// Sets the featurization, batching and column fields of `settings`.
  public func apply(to settings: inout TaskSettings) {
    settings.squad = squad.featurizer
    settings.batchSize = batchSize
    settings.pairTruncation = pairTruncation
    settings.maskedLMLength = mlmLength
    settings.textColumn = columns.textColumn
    settings.pairColumn = columns.pairColumn
    settings.labelColumn = columns.labelColumn
    settings.dataFormat = columns.dataFormat.flatMap(DataTable.Format.init(rawValue:))
    settings.pairs = columns.pairs
  }
}

extension PairTruncation: ExpressibleByArgument {}
