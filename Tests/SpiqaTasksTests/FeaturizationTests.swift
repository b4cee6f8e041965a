import Foundation
import Testing

import SpiqaTasks

/// The deterministic tokenizer of scripts/make_tasks_fixtures.py (pieces of ≤ 3 code points).
struct ToyTokenizer: TaskTokenizer {
  var clsId: Int { 1 }
  var sepId: Int { 2 }
  var padId: Int { 0 }
  var layout: PairLayout { .bert }

  func ids(_ text: String) -> [Int] {
    var out: [Int] = []
    for word in SquadMetric.pythonSplit(Array(text.unicodeScalars)) {
      let w = Array(word.lowercased().unicodeScalars)
      var i = 0
      while i < w.count {
        let piece = w[i..<min(w.count, i + 3)]
        out.append(10 + (piece.reduce(0) { $0 + Int($1.value) } * 7) % 997)
        i += 3
      }
    }
    return out
  }

  func tokens(_ ids: [Int]) -> [String]? { nil }
}

/// SQuAD featurization against squad_reference.py's re-implementation of HF 3.1 (toy tokenizer fixture).
@Suite struct FeaturizationTests {
  struct Case: Decodable {
    struct Feature: Decodable {
      var input_ids: [Int]
      var token_type_ids: [Int]
      var n: Int
      var orig_map: [[Int]]
      var allowed: [Int]
    }
    var context: String
    var question: String
    var max_seq_len: Int
    var doc_stride: Int
    var max_query_len: Int
    var doc_tokens: [String]
    var features: [Feature]
  }

  @Test func matchesPythonReference() throws {
    let cases = try JSONDecoder().decode([Case].self, from: TestSupport.fixture("squad_features_toy.json"))
    #expect(cases.count == 8)
    #expect(cases.contains { $0.features.count >= 5 })
    for (ci, c) in cases.enumerated() {
      let fz = SquadFeaturizer(maxSeqLen: c.max_seq_len, docStride: c.doc_stride, maxQueryLen: c.max_query_len)
      let ex = try fz.featurize(question: c.question, context: c.context, tokenizer: ToyTokenizer())
      #expect(ex.docTokens == c.doc_tokens, "case \(ci)")
      #expect(ex.features.count == c.features.count, "case \(ci)")
      for (k, (got, want)) in zip(ex.features, c.features).enumerated() {
        #expect(got.length == want.n, "case \(ci) feature \(k)")
        #expect(Array(got.inputIds.prefix(got.length)) == want.input_ids, "case \(ci) feature \(k)")
        #expect(got.inputIds.count == c.max_seq_len)
        #expect(got.inputIds.dropFirst(got.length).allSatisfy { $0 == 0 })
        #expect(Array(got.tokenTypeIds.prefix(got.length)) == want.token_type_ids, "case \(ci) feature \(k)")
        let map = got.tokenToWord.enumerated().map { [got.contextStart + $0.offset, $0.element] }
        #expect(map == want.orig_map, "case \(ci) feature \(k)")
        #expect(got.allowed.indices.filter { got.allowed[$0] } == want.allowed, "case \(ci) feature \(k)")
        #expect(got.spanStart == k * c.doc_stride)
      }
    }
  }

  @Test func whitespaceRule() {
    #expect(SquadFeaturizer.docTokens(" a\u{202F}b\u{00A0}c\td\r\ne  ") == ["a", "b\u{00A0}c", "d", "e"])
    #expect(SquadFeaturizer.docTokens("") == [])
  }

  @Test func badParameters() {
    #expect(throws: TasksError.self) {
      try SquadFeaturizer(maxSeqLen: 10, docStride: 4, maxQueryLen: 64)
        .featurize(question: String(repeating: "abc ", count: 20), context: "x y", tokenizer: ToyTokenizer())
    }
    #expect(throws: TasksError.self) {
      try SquadFeaturizer(maxSeqLen: 64, docStride: 100, maxQueryLen: 8)
        .featurize(question: "q", context: "x y", tokenizer: ToyTokenizer())
    }
  }
}

/// Span scoring: softmax masking, the upper-triangular band and argmax order.
@Suite struct DecodingTests {
  @Test func pairwiseSumMatchesNaiveForSmall() {
    let a: [Float] = [1, 2, 3, 4, 5]
    #expect(a.withUnsafeBufferPointer { SquadDecoder.pairwiseSum($0) } == 15)
    let b = (0..<1000).map { Float($0) * 0.5 }
    #expect(b.withUnsafeBufferPointer { SquadDecoder.pairwiseSum($0) } == 249_750)
  }

  @Test func probabilitiesMaskAndZeroCLS() {
    let d = SquadDecoder()
    let p = d.probabilities([5, 1, 2, 100], allowed: [true, true, true, false])
    #expect(p[0] == 0)
    #expect(p[3] == 0)
    // [CLS] stays in the denominator: p1 + p2 + p_cls == 1.
    let z = Foundation.exp(Float(5)) + Foundation.exp(Float(1)) + Foundation.exp(Float(2))
    #expect(abs(p[1] - Foundation.exp(Float(1)) / z) < 1e-6)
  }

  @Test func bandAndFirstMaximum() {
    var d = SquadDecoder(maxAnswerLen: 2)
    // e must be in s...s+1; the global max of the outer product (s=1, e=4) is outside the band.
    let ps: [Float] = [0, 0.5, 0.1, 0.4, 0]
    let pe: [Float] = [0, 0.1, 0.2, 0.2, 0.5]
    let best = d.bestSpan(start: ps, end: pe)
    #expect(best.start == 3 && best.end == 4)
    d.maxAnswerLen = 15
    #expect(d.bestSpan(start: ps, end: pe).start == 1)
    #expect(d.bestSpan(start: ps, end: pe).end == 4)
    // Ties keep the first in row-major order.
    let tie = d.bestSpan(start: [0, 0.5, 0.5], end: [0, 0.5, 0.5])
    #expect(tie.start == 1 && tie.end == 1)
    let zero = d.bestSpan(start: [0, 0], end: [0, 0])
    #expect(zero.start == 0 && zero.end == 0 && zero.score == 0)
  }

  @Test func acrossFeaturesAndAnswerText() throws {
    let fz = SquadFeaturizer(maxSeqLen: 24, docStride: 4, maxQueryLen: 4)
    let ex = try fz.featurize(
      question: "q", context: String(repeating: "one two three four five six seven eight ", count: 4),
      tokenizer: ToyTokenizer())
    #expect(ex.features.count >= 2)
    let t = 24
    var starts = [[Float]](repeating: [Float](repeating: 0, count: t), count: ex.features.count)
    var ends = starts
    // Feature 1: strongest start at its first context token, end two tokens later.
    let f1 = ex.features[1]
    starts[1][f1.contextStart] = 9
    ends[1][f1.contextStart + 2] = 9
    let span = try #require(SquadDecoder().decode(ex, startLogits: starts, endLogits: ends))
    #expect(span.feature == 1)
    let w0 = f1.tokenToWord[0]
    let w1 = f1.tokenToWord[2]
    #expect(SquadDecoder().answerText(ex, span: span) == ex.docTokens[w0...w1].joined(separator: " "))
  }
}
