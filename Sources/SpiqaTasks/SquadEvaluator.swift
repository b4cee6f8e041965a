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
/// batch (padded to maxSeqLen) through the model with the attention transform, decode, score.
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

  /// Evaluate `questions` in the given order.
  /// - Parameters:
  ///   - progress: called after each question with (done, total).
  ///   - perExample: called with each prediction (e.g. to write a JSON line).
  /// - Throws: `TasksError` (bad parameters, replay mismatches) or the model's errors.
  public func evaluate(
    _ questions: [SquadQuestion], progress: ((Int, Int) -> Void)? = nil,
    perExample: ((SquadPrediction) throws -> Void)? = nil
  ) throws -> SquadEvaluation {
    guard featurizer.maxSeqLen <= model.maxPositions else {
      throw TasksError.usage("max_seq_len \(featurizer.maxSeqLen) exceeds the model's \(model.maxPositions) positions")
    }
    let started = Date()
    let pipeline = AttentionHooks(evaluating: model, transform: transform, replay: replay, productKernel: productKernel)
    let plan = SquadEvalPlan(
      transform: transform,
      trims: trimsPadding
        && TaskSettings.evaluationTrimsPadding(transform, replaying: replay != nil, quantized: trimsQuantized),
      batchSize: featureBatch, padId: tokenizer.padId, maxSeqLen: featurizer.maxSeqLen)
    plan.configure(pipeline)
    let buckets = plan.buckets
    var emSum = 0.0
    var f1Sum = 0.0
    var featureCount = 0
    let bert = tokenizer.layout == .bert
    var done = 0
    while done < questions.count {
      let window = Array(questions[done..<min(done + (buckets?.window ?? 1), questions.count)])
      let featurized = try window.map { try featurizer.featurize(question: $0.question, context: $0.context, tokenizer: tokenizer) }
      let answers = try buckets?.run(
        zip(window, featurized).map { q, ex in
          plan.group(TaskGroup(sequences: ExtractionGroup(sequences: ex.sequences(of: q, tokenTypes: bert)), examples: 1))
        }, model: model
      ) { seqs, batch in try pipeline.hooks(keys: seqs.map(\.recordKey), inputIds: batch.inputIds) }
      for (k, (q, ex)) in zip(window, featurized).enumerated() {
        featureCount += ex.features.count
        var span: SquadSpan?
        if let answers, !ex.features.isEmpty {
          span = decoder.decode(ex, startLogits: answers[k].map(\.start), endLogits: answers[k].map(\.end))
        } else if !ex.features.isEmpty {
          // Trimmed: the longest real feature, so dense layers skip the padding (~30% of a 320-token feature).
          let lengths = ex.features.map(\.length)
          let width = plan.trims(lengths: lengths) ? (lengths.max() ?? 0) : featurizer.maxSeqLen
          let batch = TaskBatch(
            inputIds: ex.features.map { Array($0.inputIds.prefix(width)) },
            tokenTypeIds: bert ? ex.features.map { Array($0.tokenTypeIds.prefix(width)) } : nil,
            lengths: ex.features.map(\.length))
          let keys = ex.features.indices.map { RecordKey(exampleId: q.id, exampleIndex: q.index, feature: $0) }
          let hooks = try pipeline.hooks(keys: keys, inputIds: batch.inputIds)
          let out = try model.questionAnswering(batch, hooks: hooks)
          span = decoder.decode(ex, startLogits: out.start, endLogits: out.end)
        }
        let text = span.map { decoder.answerText(ex, span: $0) } ?? ""
        let s = SquadMetric.score(prediction: text, golds: q.answers)
        emSum += s.em
        f1Sum += s.f1
        try perExample?(
          SquadPrediction(
            index: q.index, id: q.id, prediction: text, em: s.em, f1: s.f1, span: span, features: ex.features.count))
        progress?(done + k + 1, questions.count)
      }
      done += window.count
    }
    let n = questions.count
    return SquadEvaluation(
      n: n, em: SquadEvaluation.percent(emSum, n), f1: SquadEvaluation.percent(f1Sum, n),
      sparsity: pipeline.sparsity, features: featureCount, seconds: Date().timeIntervalSince(started))
  }
}
