/// The answer of one SQuAD v2.0 question.
public struct SquadV2Answer: Sendable, Equatable {
  /// The predicted text: "" when the null score wins.
  public var text: String
  /// The best non-null span (nil when no feature had a valid one; its text is then "empty", as run_qa's).
  public var span: SquadSpan?
  /// The best non-null span's text.
  public var bestText: String
  /// `null score − (start logit + end logit)` of the best non-null span (run_qa's `scores_diff_json`).
  public var scoreDiff: Float
}

/// transformers' `run_qa` post-processing with `version_2_with_negative` (`postprocess_qa_predictions`), on the
/// features of `SquadFeaturizer`: logits, not probabilities; the null score is the smallest `start[0] + end[0]`
/// over the features; candidates are the `nBest` largest start × end logits of each feature whose positions are
/// context tokens with `start ≤ end < start + maxAnswerLen`, scored `start + end`; the answer is "" when
/// `null − best > threshold`. The text is the span's whitespace words (as v1.1), not character offsets.
public struct SquadV2Decoder: Sendable {
  public var maxAnswerLen = 15
  public var nBest = 20

  public init(maxAnswerLen: Int = 15, nBest: Int = 20) {
    self.maxAnswerLen = maxAnswerLen
    self.nBest = nBest
  }

  private struct Candidate {
    var span: SquadSpan?  // nil: the null prediction
    var start: Float
    var end: Float
    var score: Float
  }

  /// Indices of the `k` largest values, largest first (`np.argsort(x)[-1:-k-1:-1]`; ties: the later index first).
  static func top(_ x: [Float], _ k: Int) -> [Int] {
    Array(x.indices.sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 > $1) }.prefix(k))
  }

  /// - Parameters: startLogits, endLogits: one [T] array per feature of `example`.
  public func decode(
    _ example: SquadExampleFeatures, startLogits: [[Float]], endLogits: [[Float]], threshold: Double
  ) -> SquadV2Answer {
    // Rows of trimmed features are padded back to `max_seq_len` first, as `SquadDecoder.decode` does.
    let startLogits = SquadDecoder.padded(startLogits, like: example)
    let endLogits = SquadDecoder.padded(endLogits, like: example)
    var prelim: [Candidate] = []
    var null: Candidate?
    for (f, feature) in example.features.enumerated() where f < startLogits.count && f < endLogits.count {
      let s = startLogits[f], e = endLogits[f]
      let nullScore = s[0] + e[0]
      if null == nil || null!.score > nullScore { null = Candidate(span: nil, start: s[0], end: e[0], score: nullScore) }
      let valid = { (i: Int) in i > 0 && i < feature.allowed.count && feature.allowed[i] }
      for a in Self.top(s, nBest) where valid(a) {
        for b in Self.top(e, nBest) where valid(b) && b >= a && b - a + 1 <= maxAnswerLen {
          prelim.append(
            Candidate(span: SquadSpan(feature: f, start: a, end: b, score: s[a] + e[b]), start: s[a], end: e[b],
                      score: s[a] + e[b]))
        }
      }
    }
    if let null { prelim.append(null) }
    // Python's sorted(reverse=True) is stable: equal scores keep their order.
    var preds = Array(
      prelim.enumerated().sorted { $0.element.score > $1.element.score || ($0.element.score == $1.element.score && $0.offset < $1.offset) }
        .map(\.element).prefix(nBest))
    if let null, !preds.contains(where: { $0.span == nil }) { preds.append(null) }
    let text = { (c: Candidate) in c.span.map { SquadDecoder().answerText(example, span: $0) } ?? "" }
    if preds.isEmpty || (preds.count == 1 && text(preds[0]).isEmpty) {
      preds.insert(Candidate(span: nil, start: 0, end: 0, score: 0), at: 0)
      let best = preds[0]
      return finish(best: best, bestText: "empty", null: null, threshold: threshold)
    }
    guard let best = preds.first(where: { !text($0).isEmpty }) else {
      return SquadV2Answer(text: "", span: nil, bestText: "", scoreDiff: 0)
    }
    return finish(best: best, bestText: text(best), null: null, threshold: threshold)
  }

  private func finish(best: Candidate, bestText: String, null: Candidate?, threshold: Double) -> SquadV2Answer {
    let diff = (null?.score ?? 0) - best.start - best.end
    return SquadV2Answer(
      text: Double(diff) > threshold ? "" : bestText, span: best.span, bestText: bestText, scoreDiff: diff)
  }
}
