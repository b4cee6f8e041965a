import Foundation

/// The best answer span of one feature or one question.
public struct SquadSpan: Sendable, Equatable {
  /// Feature index within the question.
  public var feature: Int
  /// Sequence positions of the first and last answer token.
  public var start: Int
  public var end: Int
  /// `p_start[start] · p_end[end]` in Float.
  public var score: Float
}

/// Span scoring of the HF 3.1 `QuestionAnsweringPipeline` (docs/reference-behaviour.md §3.2 step 4).
public struct SquadDecoder: Sendable {
  /// Longest answer in tokens (`max_answer_len`): end ≤ start + maxAnswerLen − 1.
  public var maxAnswerLen = 15
  /// Logit given to positions that cannot hold an answer.
  public var maskedLogit: Float = -10000

  public init(maxAnswerLen: Int = 15) { self.maxAnswerLen = maxAnswerLen }

  /// numpy's float32 pairwise summation (`pairwise_sum_FLOAT`: 8 accumulators, blocks of 128), as `np.sum` uses.
  public static func pairwiseSum(_ a: UnsafeBufferPointer<Float>) -> Float {
    let n = a.count
    if n < 8 {
      var r: Float = 0
      for v in a { r += v }
      return r
    }
    if n <= 128 {
      var r = (0..<8).map { a[$0] }
      var i = 8
      while i < n - (n % 8) {
        for j in 0..<8 { r[j] += a[i + j] }
        i += 8
      }
      var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
      while i < n {
        res += a[i]
        i += 1
      }
      return res
    }
    var n2 = n / 2
    n2 -= n2 % 8
    return pairwiseSum(UnsafeBufferPointer(rebasing: a[0..<n2]))
      + pairwiseSum(UnsafeBufferPointer(rebasing: a[n2..<n]))
  }

  /// The pipeline's softmax `exp(x − log(Σ exp(x)))` in Float over masked logits, then p[0] = 0.
  /// - Parameters: logits: [T]; allowed: [T] (false → logit −10000).
  public func probabilities(_ logits: [Float], allowed: [Bool]) -> [Float] {
    var x = [Float](repeating: 0, count: logits.count)
    for i in 0..<logits.count {
      x[i] = (i < allowed.count && allowed[i]) ? logits[i] : maskedLogit
    }
    let e = x.map { Foundation.exp($0) }
    let lse = Foundation.log(e.withUnsafeBufferPointer { Self.pairwiseSum($0) })
    var p = x.map { Foundation.exp($0 - lse) }
    if !p.isEmpty { p[0] = 0 }
    return p
  }

  /// Logits of features run with their padding trimmed, padded back to the featurizer's `max_seq_len` (the
  /// `allowed` mask's length) with zeros: the decoders mask every position past the real tokens to −10000 and take
  /// their softmax over all `max_seq_len` positions, whose pairwise sum must see the same number of terms.
  public static func padded(_ logits: [[Float]], like example: SquadExampleFeatures) -> [[Float]] {
    zip(logits, example.features).map { row, feature in
      row.count >= feature.allowed.count ? row : row + [Float](repeating: 0, count: feature.allowed.count - row.count)
    }
  }

  /// `np.argmax` over `np.tril(np.triu(outer(p_start, p_end)), maxAnswerLen − 1)`: the first maximum in row-major
  /// (start, end) order; (0, 0) with score 0 when every candidate is 0.
  public func bestSpan(start ps: [Float], end pe: [Float], feature: Int = 0) -> SquadSpan {
    var best = SquadSpan(feature: feature, start: 0, end: 0, score: ps.isEmpty || pe.isEmpty ? 0 : ps[0] * pe[0])
    let t = min(ps.count, pe.count)
    for s in 0..<t where ps[s] > 0 {
      let last = min(t - 1, s + maxAnswerLen - 1)
      if last < s { continue }
      for e in s...last {
        let v = ps[s] * pe[e]
        if v > best.score {  // row-major scan: strict > keeps the first maximum
          best = SquadSpan(feature: feature, start: s, end: e, score: v)
        }
      }
    }
    return best
  }

  /// The best span of one question: per feature, then the highest score over features (ties: the earlier feature,
  /// as Python's stable sort). `startLogits`/`endLogits`: one [T] array per feature.
  /// Feature rows may be shorter than `max_seq_len` (trimmed padding): they are padded back first (`padded`).
  public func decode(_ example: SquadExampleFeatures, startLogits: [[Float]], endLogits: [[Float]]) -> SquadSpan? {
    let startLogits = Self.padded(startLogits, like: example), endLogits = Self.padded(endLogits, like: example)
    var best: SquadSpan?
    for (f, feature) in example.features.enumerated() where f < startLogits.count && f < endLogits.count {
      let ps = probabilities(startLogits[f], allowed: feature.allowed)
      let pe = probabilities(endLogits[f], allowed: feature.allowed)
      let span = bestSpan(start: ps, end: pe, feature: f)
      if let b = best, span.score <= b.score { continue }
      best = span
    }
    return best
  }

  /// `" ".join(doc_tokens[orig(start) ... orig(end)])`; "" when a position is outside the context (HF would fail).
  public func answerText(_ example: SquadExampleFeatures, span: SquadSpan) -> String {
    guard span.feature < example.features.count else { return "" }
    let f = example.features[span.feature]
    let a = span.start - f.contextStart
    let b = span.end - f.contextStart
    guard a >= 0, b >= a, b < f.tokenToWord.count else { return "" }
    let w0 = f.tokenToWord[a]
    let w1 = f.tokenToWord[b]
    guard w0 <= w1, w1 < example.docTokens.count else { return "" }
    return example.docTokens[w0...w1].joined(separator: " ")
  }
}
