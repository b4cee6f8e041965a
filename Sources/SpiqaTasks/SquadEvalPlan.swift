import SpiqaQuant

/// How SQuAD v1.1 evaluation runs its questions under a transform, in one place for `EvalRunner` (spiqa-eval) and
/// `SquadEvaluator`: padded to each question's longest feature or to `max_seq_len`
/// (`TaskSettings.evaluationTrimsPadding`, per question `evaluationTrimsQuestion`), one question per forward pass or
/// several in length-sorted batches (`FeatureBuckets`), and what the attention hooks must then know.
struct SquadEvalPlan {
  let transform: AttentionTransform
  /// Features run padded to their question's longest, not `maxSeqLen` (uniform_slog_mean: only some questions).
  let trims: Bool
  /// Several questions' features per forward pass, or nil for one question per pass.
  let buckets: FeatureBuckets?
  let maxSeqLen: Int

  /// - Parameters:
  ///   - trims: `TaskSettings.evaluationTrimsPadding` held for this run.
  ///   - batchSize: features per pass when questions are batched (`--batch-size`); 1 keeps one question per pass.
  init(transform: AttentionTransform, trims: Bool, batchSize: Int, padId: Int, maxSeqLen: Int) {
    self.transform = transform
    self.trims = trims
    self.maxSeqLen = maxSeqLen
    // Trimmed runs batch questions; statistics over a question keep its features in one pass.
    buckets = trims && batchSize > 1
      ? FeatureBuckets(
        batchSize: batchSize, padId: padId, keepsGroupsWhole: TaskSettings.evaluationKeepsQuestionsWhole(transform))
      : nil
  }

  /// Sets up the hooks for the plan: `--scope batch` statistics per question when questions share a pass, and
  /// uniform_slog_mean's count of the padding trimmed away.
  func configure(_ hooks: AttentionHooks) {
    hooks.batchScopePerExample = buckets != nil
    hooks.countedPaddingLength = trims && TaskSettings.countsPadding(transform) ? maxSeqLen : nil
  }

  /// True when a question whose features are `lengths` tokens long runs trimmed.
  func trims(lengths: [Int]) -> Bool {
    trims && TaskSettings.evaluationTrimsQuestion(transform, lengths: lengths, maxSeqLen: maxSeqLen)
  }

  /// A trimmed question's group as it runs: as it is, or padded to `maxSeqLen` where `trims(lengths:)` says no.
  func group(_ group: TaskGroup) -> TaskGroup {
    guard group.sequences.padTo == nil, !trims(lengths: group.sequences.sequences.map(\.count)) else { return group }
    var padded = group
    padded.sequences.padTo = maxSeqLen
    return padded
  }
}
