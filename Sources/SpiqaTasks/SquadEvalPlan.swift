import SpiqaQuant

/// How SQuAD v1.1 evaluation runs its questions when it trims padding (`TaskSettings.evaluationTrimsPadding`), in
/// one place for `EvalRunner.runGroups` (spiqa-eval and `SquadEvaluator`; spiqa-extract's uniform_slog_mean with
/// `--trim-padding` takes its `group`, `ExtractionSource.trimPlan`): each question padded to its longest
/// feature, or to `max_seq_len` where `evaluationTrimsQuestion` says no; one question per forward pass or several in
/// length-sorted batches (`FeatureBuckets`); and what the attention hooks must then know. Without a plan, every
/// question runs padded to `max_seq_len`, one per pass: the reference's shapes.
struct SquadEvalPlan {
  let transform: AttentionTransform
  /// Several questions' features per forward pass, or nil for one question per pass.
  let buckets: FeatureBuckets?
  let maxSeqLen: Int

  /// The plan of a run with `settings`, or nil when its questions run padded to `max_seq_len` (`padQuestionsToMax`).
  /// Questions share passes when `settings.batchSize` (features per pass, `--batch-size`) is above 1.
  init?(_ settings: TaskSettings, transform: AttentionTransform, padId: Int) {
    guard !settings.padQuestionsToMax else { return nil }
    self.transform = transform
    maxSeqLen = settings.squad.maxSeqLen
    // Statistics over a question keep its features in one pass.
    buckets = settings.batchSize > 1
      ? FeatureBuckets(
        batchSize: settings.batchSize, padId: padId,
        keepsGroupsWhole: TaskSettings.evaluationKeepsQuestionsWhole(transform))
      : nil
  }

  /// Sets up the hooks for the plan: `--scope batch` statistics per question when questions share a pass, and
  /// uniform_slog_mean's count of the padding trimmed away.
  func configure(_ hooks: AttentionHooks) {
    hooks.batchScopePerExample = buckets != nil
    hooks.countedPaddingLength = TaskSettings.countsPadding(transform) ? maxSeqLen : nil
  }

  /// True when a question whose features are `lengths` tokens long runs trimmed.
  func trims(lengths: [Int]) -> Bool {
    TaskSettings.evaluationTrimsQuestion(transform, lengths: lengths, maxSeqLen: maxSeqLen)
  }

  /// A question's group as it runs: as it is, or padded to `maxSeqLen` where `trims(lengths:)` says no.
  func group(_ group: TaskGroup) -> TaskGroup {
    guard group.sequences.padTo == nil, !trims(lengths: group.sequences.sequences.map(\.count)) else { return group }
    var padded = group
    padded.sequences.padTo = maxSeqLen
    return padded
  }
}
