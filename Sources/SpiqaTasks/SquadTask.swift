import SpiqaCore
import SpiqaModel

/// SQuAD extractive QA: v1.1 scored like the paper (HF 3.1 pipeline decoding, official EM/F1), v2.0 with
/// unanswerable questions (run_qa's null-score rule, official v2 EM/F1). Both featurize with `SquadFeaturizer` and
/// run all features of one question as one batch.
public struct SquadTask: SpiqaTask {
  /// 1 (SQuAD v1.1) or 2 (SQuAD v2.0).
  public let version: Int

  public init(version: Int) { self.version = version }

  public var name: String { version == 2 ? "squad_v2" : "squad" }
  public var summary: String {
    version == 2
      ? "SQuAD v2.0 JSON (EM/F1, HasAns/NoAns; run_qa's null threshold)"
      : "SQuAD v1.1 JSON (EM/F1; the paper's pipeline decoding)"
  }
  public var defaultDataFile: String? { version == 2 ? "data/squad/dev-v2.0.json" : "data/squad/dev-v1.1.json" }
  public var dataHint: String { version == 2 ? "SQuAD v2.0 JSON" : "SQuAD v1.1 JSON" }
  public var unit: String { "questions" }
  public var title: String { version == 2 ? "SQuAD v2.0 dev" : "SQuAD v1.1 dev" }
  public var metrics: [TaskMetric] {
    let em = TaskMetric("em", "EM", isPercent: true), f1 = TaskMetric("f1", "F1", isPercent: true)
    return version == 2 ? [f1, em] : [em, f1]
  }

  public func mergingScorer(settings: TaskSettings) throws -> TaskScorer {
    version == 2
      ? SquadV2Scorer(
        decoder: SquadV2Decoder(maxAnswerLen: settings.maxAnswerLen), nullThreshold: settings.nullScoreThreshold)
      : SquadScorer(decoder: SquadDecoder(maxAnswerLen: settings.maxAnswerLen))
  }

  public func load(_ path: String, settings: TaskSettings) throws -> any TaskData {
    QuestionData(task: name, version: version, questions: try SquadDataset(path: path).questions)
  }
}

/// The questions of a SQuAD file: one batch per question (all its features), padded to `max_seq_len` when asked.
public final class QuestionData: TaskData {
  public let task: String
  public let version: Int
  public let questions: [SquadQuestion]
  public var count: Int { questions.count }
  public var unit: String { "questions" }
  public func exampleId(_ index: Int) -> String { questions[index].id }

  public init(task: String, version: Int, questions: [SquadQuestion]) {
    self.task = task
    self.version = version
    self.questions = questions
  }

  public func featurization(_ settings: TaskSettings, maxPositions: Int) -> JSONObject {
    let f = settings.squad
    return [
      "max_seq_len": .int(f.maxSeqLen), "doc_stride": .int(f.docStride), "max_query_len": .int(f.maxQueryLen),
      "padding": settings.padQuestionsToMax ? "max_seq_len" : "longest",
    ]
  }

  public func capacity(_ settings: TaskSettings, maxPositions: Int) -> (batch: Int, seqLen: Int) {
    (settings.padQuestionsToMax ? 4 : 1, settings.squad.maxSeqLen)
  }

  public func batches(
    _ selected: [Int], tokenizer: TaskTokenizer, settings: TaskSettings, maxPositions: Int
  ) throws -> TaskBatches {
    let featurizer = settings.squad
    guard featurizer.maxSeqLen <= maxPositions else {
      throw TasksError.usage(
        "SQuAD features of \(featurizer.maxSeqLen) tokens (max_seq_len) exceed the model's \(maxPositions) positions")
    }
    let questions = self.questions
    let bert = tokenizer.layout == .bert
    let padTo = settings.padQuestionsToMax ? featurizer.maxSeqLen : nil
    return TaskBatches(count: selected.count, examplesPerBatch: 1) { g in
      let q = questions[selected[g]]
      let ex = try featurizer.featurize(question: q.question, context: q.context, tokenizer: tokenizer)
      let seqs = ex.sequences(of: q, tokenTypes: bert)
      return TaskGroup(sequences: ExtractionGroup(sequences: seqs, padTo: padTo), examples: 1, payload: (q, ex))
    }
  }

  public func scorer(model: TaskModel, settings: TaskSettings) throws -> TaskScorer {
    version == 2
      ? SquadV2Scorer(
        decoder: SquadV2Decoder(maxAnswerLen: settings.maxAnswerLen), nullThreshold: settings.nullScoreThreshold)
      : SquadScorer(decoder: SquadDecoder(maxAnswerLen: settings.maxAnswerLen))
  }
}

extension SquadExampleFeatures {
  /// The features of question `q` as model sequences: real tokens only (no padding), with token types when the
  /// tokenizer's layout has them (BERT).
  func sequences(of q: SquadQuestion, tokenTypes: Bool) -> [ExtractionSequence] {
    features.enumerated().map { f, feat in
      ExtractionSequence(
        exampleId: q.id, exampleIndex: q.index, feature: f, ids: Array(feat.inputIds.prefix(feat.length)),
        tokenTypes: tokenTypes ? Array(feat.tokenTypeIds.prefix(feat.length)) : nil)
    }
  }
}

/// SQuAD v1.1 scoring: the paper's decoding (`SquadDecoder`) and the official EM/F1 (`SquadMetric`).
final class SquadScorer: TaskScorer {
  let decoder: SquadDecoder
  /// Receives each question's prediction as it is scored (`SquadEvaluator`).
  var onPrediction: ((SquadPrediction) throws -> Void)?
  /// Questions and features scored, and the sums of their EM and F1 (0 or 1, and in [0, 1]).
  private(set) var n = 0, features = 0
  private(set) var em = 0.0, f1 = 0.0

  init(decoder: SquadDecoder) { self.decoder = decoder }

  func score(_ group: TaskGroup, batch: TaskBatch, model: TaskModel, hooks: ForwardHooks) throws -> [JSONObject] {
    guard let (q, ex) = group.payload as? (SquadQuestion, SquadExampleFeatures) else { return [] }
    var span: SquadSpan?
    if !ex.features.isEmpty {
      let out = try model.questionAnswering(batch, hooks: hooks)
      span = decoder.decode(ex, startLogits: out.start, endLogits: out.end)
    }
    let text = span.map { decoder.answerText(ex, span: $0) } ?? ""
    let s = SquadMetric.score(prediction: text, golds: q.answers)
    n += 1
    features += ex.features.count
    em += s.em
    f1 += s.f1
    let p = SquadPrediction(
      index: q.index, id: q.id, prediction: text, em: s.em, f1: s.f1, span: span, features: ex.features.count)
    try onPrediction?(p)
    return [p.json]
  }

  func absorb(_ line: JSONObject) throws {
    guard let e = line["em"]?.doubleValue, let f = line["f1"]?.doubleValue, let k = line["features"]?.intValue else {
      throw missing("em, f1 and features", in: line)
    }
    n += 1
    features += k
    em += e
    f1 += f
  }

  func result() -> JSONObject {
    // No questions: no score (null), rather than a made-up 0.
    [
      "n": .int(n), "em": n > 0 ? .double(SquadEvaluation.percent(em, n)) : .null,
      "f1": n > 0 ? .double(SquadEvaluation.percent(f1, n)) : .null, "features": .int(features),
    ]
  }
}
