import SpiqaCore
import SpiqaModel

/// SQuAD v2.0 scoring: `SquadV2Decoder` (run_qa's null-score rule) and the official v2.0 evaluation
/// (`evaluate-v2.0.py`, the `squad_v2` metric run_qa calls): EM/F1 over all questions and over the answerable
/// (`HasAns`) and unanswerable (`NoAns`) ones, and the best EM/F1 over no-answer thresholds with run_qa's
/// `no_answer_probability` of 0 for every question. Percentages like the official script.
final class SquadV2Scorer: TaskScorer {
  let decoder: SquadV2Decoder
  let nullThreshold: Double
  private var features = 0
  /// Per question, in run order: has an answer, predicted text non-empty, EM, F1.
  private var rows: [(hasAnswer: Bool, answered: Bool, em: Double, f1: Double)] = []

  init(decoder: SquadV2Decoder, nullThreshold: Double) {
    self.decoder = decoder
    self.nullThreshold = nullThreshold
  }

  func score(_ group: TaskGroup, batch: TaskBatch, model: TaskModel, hooks: ForwardHooks) throws -> [JSONObject] {
    guard let (q, ex) = group.payload as? (SquadQuestion, SquadExampleFeatures) else { return [] }
    var answer = SquadV2Answer(text: "", span: nil, bestText: "", scoreDiff: 0)
    if !ex.features.isEmpty {
      let out = try model.questionAnswering(batch, hooks: hooks)
      answer = decoder.decode(ex, startLogits: out.start, endLogits: out.end, threshold: nullThreshold)
    }
    let s = SquadMetric.score(prediction: answer.text, golds: q.answers)
    features += ex.features.count
    rows.append((q.hasAnswer, !answer.text.isEmpty, s.em, s.f1))
    var o: JSONObject = [
      "index": .int(q.index), "id": .string(q.id), "prediction": .string(answer.text), "em": .double(s.em),
      "f1": .double(s.f1), "features": .int(ex.features.count), "has_answer": .bool(q.hasAnswer),
      "score_diff": .double(Double(answer.scoreDiff)), "best_text": .string(answer.bestText),
    ]
    if let span = answer.span {
      o["feature"] = .int(span.feature)
      o["start"] = .int(span.start)
      o["end"] = .int(span.end)
    }
    return [o]
  }

  func absorb(_ line: JSONObject) throws {
    guard let has = line["has_answer"]?.boolValue, let text = line["prediction"]?.stringValue,
      let em = line["em"]?.doubleValue, let f1 = line["f1"]?.doubleValue, let k = line["features"]?.intValue
    else { throw missing("has_answer, prediction, em, f1 and features", in: line) }
    features += k
    rows.append((has, !text.isEmpty, em, f1))
  }

  func result() -> JSONObject {
    func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : 100 * v.reduce(0, +) / Double(v.count) }
    let has = rows.filter(\.hasAnswer), no = rows.filter { !$0.hasAnswer }
    var o: JSONObject = [
      "n": .int(rows.count), "em": rows.isEmpty ? .null : .double(mean(rows.map(\.em))),
      "f1": rows.isEmpty ? .null : .double(mean(rows.map(\.f1))),
      "has_ans_n": .int(has.count), "no_ans_n": .int(no.count), "features": .int(features),
      "null_threshold": .double(nullThreshold),
    ]
    if !has.isEmpty {
      o["has_ans_em"] = .double(mean(has.map(\.em)))
      o["has_ans_f1"] = .double(mean(has.map(\.f1)))
    }
    if !no.isEmpty {
      o["no_ans_em"] = .double(mean(no.map(\.em)))
      o["no_ans_f1"] = .double(mean(no.map(\.f1)))
    }
    let em = bestThreshold(rows.map(\.em)), f1 = bestThreshold(rows.map(\.f1))
    o["best_em"] = .double(em.score)
    o["best_em_thresh"] = .double(em.threshold)
    o["best_f1"] = .double(f1.score)
    o["best_f1_thresh"] = .double(f1.threshold)
    return o
  }

  /// The official `find_best_thresh` with every no-answer probability 0 (run_qa): start from "answer nothing"
  /// (the unanswerable count), walk the questions in order adding each one's score (−1 for a wrong answer to an
  /// unanswerable question), keep the best; the threshold is then always 0.
  func bestThreshold(_ scores: [Double]) -> (score: Double, threshold: Double) {
    var cur = Double(rows.filter { !$0.hasAnswer }.count)
    var best = cur
    for (r, s) in zip(rows, scores) {
      cur += r.hasAnswer ? s : (r.answered ? -1 : 0)
      if cur > best { best = cur }
    }
    return (rows.isEmpty ? 0 : 100 * best / Double(rows.count), 0)
  }
}
