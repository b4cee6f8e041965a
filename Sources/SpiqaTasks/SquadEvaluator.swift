import Foundation
import SpiqaQuant

/// The outcome of one SQuAD question.
public struct SquadPrediction: Sendable, Equatable {
  public var index: Int
  public var id: String
  /// Predicted answer text ("" when the context has no tokens).
  public var prediction: String
  public var em: Double
  public var f1: Double
  /// Winning span (feature, sequence positions, score) or nil.
  public var span: SquadSpan?
  /// Number of features (windows) of the question.
  public var features: Int
}

/// Scores over a set of SQuAD questions (EM and F1 in percent, like the official script).
public struct SquadEvaluation: Sendable {
  public var n: Int
  public var em: Double
  public var f1: Double
  public var sparsity: SparsityCounter
  public var features: Int
  public var seconds: Double

  /// EM or F1 in percent from the sum of per-question scores (0 for no questions).
  static func percent(_ sum: Double, _ n: Int) -> Double { n > 0 ? 100 * sum / Double(n) : 0 }
}

/// SQuAD v1.1 evaluation exactly as the reference pipeline (§3.2): featurize, run all features of a question as one
/// batch (padded to maxSeqLen, or trimmed: `trimsPadding`) through the model with the attention transform, decode,
/// score. The library face of spiqa-eval's SQuAD run: the same loop (`EvalRunner.runGroups`) and scorer.
public final class SquadEvaluator {
  public let model: TaskModel
  public let tokenizer: TaskTokenizer
  public var featurizer: SquadFeaturizer
  public var decoder: SquadDecoder
  /// What happens to attention and hidden states in every layer (statistics over the whole batch by default).
  public let transform: AttentionTransform
  public let replay: ReplayStore?
  /// With exact attention and no replay (`TaskSettings.evaluationTrimsPadding`), runs each question's features
  /// padded to their longest real length instead of `max_seq_len` (no real token sees a padded one: their attention
  /// weights are exactly 0), and pads the logits back for the decoder, whose softmax spans `max_seq_len` positions.
  /// Scores agree to float rounding, the predictions exactly. Off: the reference's shapes.
  public var trimsPadding = true
  /// With `trimsPadding`, trims under pruning and the quantizers that leave padding 0 too (spiqa-eval
  /// `--trim-padding`).
  public var trimsQuantized = false
  /// How P·V runs under the transform (`AttentionHooks.productKernel`).
  public var productKernel: AttentionProductKernel = .auto
  /// With trimmed padding: features per forward pass, from consecutive questions sorted by length (`FeatureBuckets`,
  /// what spiqa-eval does with `--batch-size`; quantizer statistics stay per question); 1 = one question per pass.
  public var featureBatch = 1

  public init(
    model: TaskModel, tokenizer: TaskTokenizer, featurizer: SquadFeaturizer = SquadFeaturizer(),
    decoder: SquadDecoder = SquadDecoder(), transform: AttentionTransform = .identity,
    replay: ReplayStore? = nil
  ) {
    self.model = model
    self.tokenizer = tokenizer
    self.featurizer = featurizer
    self.decoder = decoder
    self.transform = transform
    self.replay = replay
  }

  /// Evaluate `questions` in the given order (spiqa-eval's loop, `EvalRunner.runGroups`).
  /// - Parameters:
  ///   - progress: called after each question with (done, total).
  ///   - perExample: called with each prediction (e.g. to write a JSON line).
  /// - Throws: `TasksError` (bad parameters, replay mismatches) or the model's errors.
  public func evaluate(
    _ questions: [SquadQuestion], progress: ((Int, Int) -> Void)? = nil,
    perExample: ((SquadPrediction) throws -> Void)? = nil
  ) throws -> SquadEvaluation {
    let started = Date()
    var settings = TaskSettings()
    settings.squad = featurizer
    settings.batchSize = featureBatch
    settings.padQuestionsToMax = !(trimsPadding
      && TaskSettings.evaluationTrimsPadding(transform, replaying: replay != nil, quantized: trimsQuantized))
    let batches = try QuestionData(task: "squad", version: 1, questions: questions)
      .batches(Array(questions.indices), tokenizer: tokenizer, settings: settings, maxPositions: model.maxPositions)
    let pipeline = AttentionHooks(evaluating: model, transform: transform, replay: replay, productKernel: productKernel)
    let scorer = SquadScorer(decoder: decoder)
    scorer.onPrediction = perExample
    try EvalRunner.runGroups(
      0..<batches.count, of: batches, model: model, pipeline: pipeline,
      plan: SquadEvalPlan(settings, transform: transform, padId: tokenizer.padId), padId: tokenizer.padId,
      scorer: scorer, perExample: nil
    ) { progress?($0, questions.count) }
    return SquadEvaluation(
      n: scorer.n, em: SquadEvaluation.percent(scorer.em, scorer.n), f1: SquadEvaluation.percent(scorer.f1, scorer.n),
      sparsity: pipeline.sparsity, features: scorer.features, seconds: Date().timeIntervalSince(started))
  }
}
