import Foundation
import Testing

@testable import SpiqaTasks

/// How `ExtractionSource` turns data sets into model batches (toy tokenizer, no model).
@Suite struct ExtractionSourceTests {
  let tok = ToyTokenizer()

  @Test func sst2SentencesComeInBatchesWithSpecialTokens() throws {
    let tsv = "sentence\tlabel\n" + (0..<5).map { "sentence number \($0) here\t\($0 % 2)" }.joined(separator: "\n")
    let src = try ExtractionSource(
      sst2: try SST2Dataset(text: tsv), selection: .all, tokenizer: tok, batchSize: 2)
    #expect(src.groupCount == 3)
    #expect(src.datasetCount == 5)
    let sizes = try (0..<3).map { try src.group($0).sequences.count }
    #expect(sizes == [2, 2, 1])
    let last = try src.group(2)
    #expect(last.padTo == nil)
    let s = try #require(last.sequences.first)
    #expect(s.exampleId == "sst2-4")
    #expect(s.exampleIndex == 4)
    #expect(s.feature == 0)
    #expect(s.ids == [1] + tok.ids("sentence number 4 here") + [2])
    #expect(throws: TasksError.self) { try src.group(3) }
  }

  @Test func textLinesKeepTheirLineNumbersAndAreCut() throws {
    let src = try ExtractionSource(
      text: TextLines(text: "first line\n\nthird line with more words\n"), selection: .slice(offset: 1, count: 5),
      tokenizer: tok, batchSize: 8, maxLength: 4)
    #expect(src.selected == [1])
    let g = try src.group(0)
    #expect(g.sequences.map(\.exampleId) == ["text-2"])
    #expect(g.sequences[0].ids.count == 4)
    #expect(g.sequences[0].ids.first == 1 && g.sequences[0].ids.last == 2)
  }

  @Test func squadQuestionsAreOneGroupPaddedTo320OnlyWhenAsked() throws {
    let words = (0..<400).map { "w\($0)" }.joined(separator: " ")
    let json = """
      {"data":[{"paragraphs":[{"context":"\(words)","qas":[{"id":"q0","question":"what is it?","answers":[{"text":"w1"}]},
      {"id":"q1","question":"and this?","answers":[{"text":"w2"}]}]}]}]}
      """
    let data = try SquadDataset(json: Data(json.utf8))
    for padToMax in [false, true] {
      let src = try ExtractionSource(
        squad: data, selection: .sample(count: 2, seed: 123), tokenizer: tok, padToMax: padToMax)
      #expect(src.groupCount == 2)
      let g = try src.group(0)
      let q = data.questions[src.selected[0]]
      let ref = try SquadFeaturizer().featurize(question: q.question, context: q.context, tokenizer: tok)
      #expect(g.sequences.count == ref.features.count)
      #expect(g.sequences.count > 1)
      #expect(g.padTo == (padToMax ? 320 : nil))
      for (f, s) in g.sequences.enumerated() {
        #expect(s.exampleId == q.id && s.feature == f)
        #expect(s.ids == Array(ref.features[f].inputIds.prefix(ref.features[f].length)))
        #expect(s.tokenTypes == Array(ref.features[f].tokenTypeIds.prefix(ref.features[f].length)))
      }
    }
  }

  @Test func samplesCannotBeCombinedWithSlices() {
    #expect(throws: TasksError.self) { try Selection(samples: 3, limit: 2, offset: nil) }
  }

  /// Counts `ids` calls of the toy tokenizer (a reference type, so copies of the tokenizer share the count).
  final class CountingTokenizer: TaskTokenizer, @unchecked Sendable {
    let base = ToyTokenizer()
    var calls = 0
    var clsId: Int { base.clsId }
    var sepId: Int { base.sepId }
    var padId: Int { base.padId }
    var layout: PairLayout { base.layout }
    func ids(_ text: String) -> [Int] {
      calls += 1
      return base.ids(text)
    }
    func tokens(_ ids: [Int]) -> [String]? { nil }
  }

  /// Issue 24 asked whether a text file of very many lines hangs or does quadratic work: neither (about 1 s for
  /// `--list` of 200,000 lines, extraction at a steady rate). This keeps it so by counting work: reading is one
  /// pass, building the source tokenizes nothing, a group tokenizes only its own lines, and the listing each line
  /// once (a regression that re-featurized earlier groups, or rescanned the file per line, fails the counts).
  @Test func manyTextLinesCostWorkInProportion() throws {
    let n = 100_000
    var text = ""
    text.reserveCapacity(n * 12)
    for i in 0..<n { text += i % 7 == 6 ? "\r\n" : "line \(i % 100)\n" }
    let lines = TextLines(text: text)
    let nonEmpty = n - n / 7
    #expect(lines.lines.count == nonEmpty)
    #expect(lines.lines.last?.line == n - 1)  // 99,999 % 7 != 6: the last line has text
    let tok = CountingTokenizer()
    let src = try ExtractionSource(text: lines, selection: .all, tokenizer: tok, batchSize: 20)
    #expect(tok.calls == 0)
    #expect(src.groupCount == (nonEmpty + 19) / 20)
    let last = try src.group(src.groupCount - 1)
    #expect(tok.calls == last.sequences.count)
    tok.calls = 0
    var rows = 0
    try src.listing { _ in rows += 1 }
    #expect(rows == nonEmpty + 1)
    #expect(tok.calls == nonEmpty)
    // A slice near the end and a sample touch only what they select.
    tok.calls = 0
    let tail = try ExtractionSource(text: lines, selection: .slice(offset: nonEmpty - 5, count: nil), tokenizer: tok)
    try tail.listing { _ in }
    #expect(tok.calls == 5)
  }
}
