import SpiqaCore
import SpiqaModel
import SpiqaQuant
import SpiqaTokenizers

/// What a task may need besides its data file (the tools map their flags onto this; each task reads what it uses).
public struct TaskSettings: Sendable {
  /// SQuAD featurization (one batch per question) and decoding.
  public var squad = SquadFeaturizer()
  public var maxAnswerLen = 15
  /// SQuAD v2.0: predict "" when `null score − best span score` exceeds this (run_qa's `null_score_diff_threshold`).
  public var nullScoreThreshold = 0.0
  /// Pad every SQuAD feature to `squad.maxSeqLen` (evaluation does unless `evaluationTrimsPadding`; extraction
  /// only for quantizers whose statistics see the padding).
  public var padQuestionsToMax = true

  /// True when SQuAD evaluation pads a question's features to the longest of them instead of `max_seq_len`: SQuAD
  /// v1.1, no replay, and exact attention — a real token's attention to padding is exactly 0, so the scores agree to
  /// float rounding and the predictions exactly (docs/evaluation.md) — or, with `quantized` (spiqa-eval
  /// `--trim-padding`), any transform whose results do not depend on padding (`independentOfPadding`: pruning,
  /// ablation, the element-wise quantizers, binarization, the clamped means, hidden-state options), and
  /// uniform_slog_mean for the questions where padding cannot matter (`evaluationTrimsQuestion`). Those keep
  /// max_seq_len by default because a float-rounding difference can move a value into another bin: on the first
  /// 1,000 dev questions pruning and log-pruned kept every prediction (span scores within 3e-3 relative), but
  /// uniform_slog_clamped_mean changed one. A replay (its records carry the reference's shapes) always keeps
  /// max_seq_len. SQuAD v2.0 never trims: its decoder (run_qa's) takes the 20 largest start and end logits over
  /// every position, padding included, so the logits the model gives padding decide which spans are candidates.
  public static func evaluationTrimsPadding(
    task: String = "squad", _ transform: AttentionTransform, replaying: Bool, quantized: Bool = false
  ) -> Bool {
    guard task != "squad_v2" && !replaying else { return false }
    return transform.isIdentity || (quantized && (transform.independentOfPadding || countsPadding(transform)))
  }

  /// Whether a question whose features are `lengths` tokens long runs trimmed when `evaluationTrimsPadding` holds:
  /// always, except under uniform_slog_mean. Its statistics count every zero of the reference's padding to
  /// `maxSeqLen` (`AttentionHooks.countedPaddingLength` counts them without the padding; `SquadEvalPlan`), and its
  /// first level goes to every zero, padding included, unless more than half the scope is 0. A question runs trimmed
  /// only when its padding alone is more than half of each scope (a feature at `--scope record`, the question's
  /// features otherwise), so 0 keeps level 0 in every layer and the padding never reaches a real token; 83% of the
  /// dev set's questions. The others run padded to `maxSeqLen` (several to a pass, statistics per question).
  public static func evaluationTrimsQuestion(_ transform: AttentionTransform, lengths: [Int], maxSeqLen: Int) -> Bool {
    guard countsPadding(transform) else { return true }
    let full = maxSeqLen * maxSeqLen
    func paddingIsMostOfScope(_ ls: [Int]) -> Bool {
      2 * ls.reduce(0) { $0 + full - min($1, maxSeqLen) * min($1, maxSeqLen) } > ls.count * full
    }
    return transform.scope == .record ? lengths.allSatisfy { paddingIsMostOfScope([$0]) } : paddingIsMostOfScope(lengths)
  }

  /// uniform_slog_mean (not ablated): its statistics count the padding's zeros.
  static func countsPadding(_ transform: AttentionTransform) -> Bool {
    !transform.ablate && (transform.quantizer?.statisticsTakeEveryValue ?? false)
  }

  /// True when SQuAD evaluation, which batches several questions' features whenever it trims (`FeatureBuckets`,
  /// `SquadEvalPlan`), keeps each question's features in one pass: its quantizer's statistics span a question
  /// (`--scope batch` or `example`, taken per question: `AttentionHooks.batchScopePerExample`, the reference's batch
  /// was one question), not one feature (`record`) or none.
  public static func evaluationKeepsQuestionsWhole(_ transform: AttentionTransform) -> Bool {
    !transform.independentOfBatch
  }

  /// Sentence tasks: sequences per batch, and tokens per sequence including the special tokens (nil: the model's
  /// position limit).
  public var batchSize = 20
  public var maxLength: Int?
  /// Sentence pairs: how `longest_first` cuts a pair that does not fit (the Python or the Rust tokenizers).
  public var pairTruncation = PairTruncation.slow
  /// `classify`: the columns (TSV/CSV header names or JSON-lines keys) of the text, the optional second segment
  /// and the optional label.
  public var textColumn: String?
  public var pairColumn: String?
  public var labelColumn: String?
  /// `classify`: the file's format when its name does not say (`--data -`, a pipe); nil: from the extension.
  public var dataFormat: DataTable.Format?
  /// `text`: each line is two tab-separated segments.
  public var pairs = false
  /// `mlm`: tokens per line, special tokens included (a line of n tokens runs as one batch of n − 2 masked copies,
  /// so memory grows with the square of this times the line: 512 needs about 6 GB of attention for 12 heads).
  public var maskedLMLength = 128

  public init() {}
}

/// A benchmark or data layout: how its data is read, featurized and batched, which head runs, and how outputs are
/// scored. Tools look tasks up by `name` in `TaskRegistry` (docs/architecture.md, "A task").
public protocol SpiqaTask: Sendable {
  /// The `--task` name.
  var name: String { get }
  /// One line for `--help`: the data layout and the metric.
  var summary: String { get }
  /// The default data file, relative to the shared data folder (nil: `--data` is required).
  var defaultDataFile: String? { get }
  /// What `--data` should hold, for the message when it is missing.
  var dataHint: String { get }
  /// What one example is called in progress lines ("questions", "sentences").
  var unit: String { get }
  /// A short name for figure titles ("SQuAD v1.1 dev").
  var title: String { get }
  /// The scores of the result line, the headline one first; a key may be absent from a given run (`classify`
  /// reports accuracy or, for regression, Pearson/Spearman). Empty for a task without labels.
  var metrics: [TaskMetric] { get }
  /// Reads `path` (`-` = standard input where the task allows it). Data errors come before any model is loaded.
  /// - Throws: `TasksError` (`.badData` naming the file and line, `.io`, `.usage` for missing settings).
  func load(_ path: String, settings: TaskSettings) throws -> any TaskData
  /// An empty scorer that `EvalMerge` fills from the per-example lines of a sharded run (`TaskScorer.absorb`), so
  /// the merged result line is the one the unsharded run prints. `settings` holds what the shard lines recorded.
  /// - Throws: `TasksError.usage` when shards of this task cannot be merged.
  func mergingScorer(settings: TaskSettings) throws -> TaskScorer
}

/// One score of a task's result line: its key, a display name, how it reads (`scale`) and which way is better.
public struct TaskMetric: Sendable, Equatable {
  /// `percent`: a percentage already (SQuAD's EM/F1); `fraction`: in [0, 1] or [−1, 1] (accuracy, F1 and
  /// correlations of the sequence tasks; plots show it ×100); `value`: a quantity of its own (pseudo-perplexity).
  public enum Scale: String, Sendable { case percent, fraction, value }

  public var key: String
  public var label: String
  public var scale: Scale
  /// True for losses such as pseudo-perplexity: a relative change > 0 is then a loss.
  public var lowerIsBetter: Bool
  public var isPercent: Bool { scale == .percent }

  public init(_ key: String, _ label: String, scale: Scale = .fraction, lowerIsBetter: Bool = false) {
    self.key = key
    self.label = label
    self.scale = scale
    self.lowerIsBetter = lowerIsBetter
  }

  public init(_ key: String, _ label: String, isPercent: Bool) {
    self.init(key, label, scale: isPercent ? .percent : .fraction)
  }
}

extension SpiqaTask {
  public var unit: String { "sentences" }
  public var title: String { name }

  public func mergingScorer(settings: TaskSettings) throws -> TaskScorer {
    throw TasksError.usage("merging shards is not implemented for task \(name); run it unsharded")
  }
}

/// One model batch of a task: the sequences (what extraction records and the hooks see), how many examples it
/// completes, and what the scorer needs besides the token ids (e.g. a question's features; opaque to the runners).
public struct TaskGroup {
  public var sequences: ExtractionGroup
  public var examples: Int
  public var payload: Any?

  public init(sequences: ExtractionGroup, examples: Int, payload: Any? = nil) {
    self.sequences = sequences
    self.examples = examples
    self.payload = payload
  }

  /// The sequences as the model's batch: padded with `padId` to the group's length, token types when any sequence
  /// has them.
  public func batch(padId: Int) -> TaskBatch {
    let seqs = sequences.sequences
    let t = sequences.seqLen
    let ids = seqs.map { $0.ids + Array(repeating: padId, count: t - $0.count) }
    let types: [[Int]]? =
      seqs.contains { $0.tokenTypes != nil }
      ? seqs.map { ($0.tokenTypes ?? Array(repeating: 0, count: $0.count)) + Array(repeating: 0, count: t - $0.count) }
      : nil
    return TaskBatch(inputIds: ids, tokenTypeIds: types, lengths: seqs.map(\.count))
  }
}

/// The selected examples of a task as model batches, featurized when a batch is asked for.
public struct TaskBatches {
  public let count: Int
  /// Examples per batch (the last may hold fewer): 1 question, or `batchSize` sentences.
  public let examplesPerBatch: Int
  private let build: (Int) throws -> TaskGroup

  public init(count: Int, examplesPerBatch: Int, build: @escaping (Int) throws -> TaskGroup) {
    self.count = count
    self.examplesPerBatch = examplesPerBatch
    self.build = build
  }

  /// The `g`-th batch (0 ≤ g < count).
  public func group(_ g: Int) throws -> TaskGroup {
    guard g >= 0, g < count else { throw TasksError.usage("batch \(g) outside 0..<\(count)") }
    return try build(g)
  }
}

/// A task's examples as read from one file.
public protocol TaskData: AnyObject {
  /// Examples in file order (what `--samples`, `--limit` and `--offset` index).
  var count: Int { get }
  /// What one example is called in progress lines ("questions", "sentences").
  var unit: String { get }
  /// The `example_id` of example `index` in the records of its attention (a SQuAD id, `sst2-<row>`, ...).
  func exampleId(_ index: Int) -> String
  /// The `featurization` object of a stream header.
  func featurization(_ settings: TaskSettings, maxPositions: Int) -> JSONObject
  /// Initial model buffers (batch rows, tokens); the model grows them when a batch needs more.
  func capacity(_ settings: TaskSettings, maxPositions: Int) -> (batch: Int, seqLen: Int)
  /// The selected examples (indices into the file order) as model batches.
  /// - Throws: `TasksError.usage` for settings the model cannot honour.
  func batches(
    _ selected: [Int], tokenizer: TaskTokenizer, settings: TaskSettings, maxPositions: Int
  ) throws -> TaskBatches
  /// A scorer for one evaluation run on `model` (checks that the model's head and labels fit the task).
  /// - Throws: `TasksError.usage` when the task has no labels or the checkpoint does not fit it.
  func scorer(model: TaskModel, settings: TaskSettings) throws -> TaskScorer
}

/// Runs the head on a task's batches and accumulates the score.
public protocol TaskScorer: AnyObject {
  /// Runs the head on `group` (the hooks already built for it) and scores its examples.
  /// - Returns: one per-example JSON object per example of the group, in order.
  func score(_ group: TaskGroup, batch: TaskBatch, model: TaskModel, hooks: ForwardHooks) throws -> [JSONObject]
  /// The metric keys of the result line (e.g. `n`, `accuracy`, `em`, `f1`).
  func result() -> JSONObject
  /// Adds one example back from the per-example line `score` wrote for it, as if it had been scored here (what
  /// `EvalMerge` does with the lines of every shard, in run order, so sums come out in the same order and bits).
  /// - Throws: `TasksError.badData` when `line` lacks what the metric needs.
  func absorb(_ line: JSONObject) throws
}

extension TaskScorer {
  /// The error for a per-example line without `keys`.
  func missing(_ keys: String, in line: JSONObject) -> TasksError {
    TasksError.badData("a per-example line without \(keys): \(JSONValue.object(line).jsonText)")
  }
}
