import Foundation
import Testing

@testable import SpiqaTokenizers

@Suite("Tokenizer: WordPiece")
struct TokenizerWordPieceTests {
  /// Google tokenization_test.py's vocabulary.
  static let googleVocab = ["[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed", "wa", "un", "runn", "##ing", ","]

  @Test func googleFullTokenizer() throws {
    let t = try WordPieceTokenizer(vocabulary: Self.googleVocab)
    let toks = t.tokenize("UNwant\u{00E9}d,running")
    #expect(toks.map(\.text) == ["un", "##want", "##ed", ",", "runn", "##ing"])
    #expect(toks.map(\.id) == [7, 4, 5, 10, 8, 9])
    // Offsets: scalar spans of the original text ("UNwantéd,running").
    #expect(toks.map(\.scalarRange) == [0..<2, 2..<6, 6..<8, 8..<9, 9..<13, 13..<16])
  }

  @Test func googleWordPieceOnly() throws {
    let t = try WordPieceTokenizer(vocabulary: Self.googleVocab)
    #expect(t.tokenize("").isEmpty)
    #expect(t.tokenize("unwanted running").map(\.text) == ["un", "##want", "##ed", "runn", "##ing"])
    #expect(t.tokenize("unwantedX running").map(\.text) == ["[UNK]", "runn", "##ing"])
    // The [UNK] of a failed word spans the whole word.
    #expect(t.tokenize("unwantedX running")[0].scalarRange == 0..<9)
  }

  @Test func googleBasicTokenizer() throws {
    let vocab = ["[UNK]", "hello", "!", "how", "are", "you", "?", "ah", "\u{535A}", "\u{63A8}", "zz"]
    let lower = try WordPieceTokenizer(vocabulary: vocab)
    #expect(lower.tokenize(" \tHeLLo!how  \n Are yoU?  ").map(\.text) == ["hello", "!", "how", "are", "you", "?"])
    #expect(lower.tokenize("H\u{00E9}llo").map(\.text) == ["hello"])
    #expect(lower.tokenize("ah\u{535A}\u{63A8}zz").map(\.text) == ["ah", "\u{535A}", "\u{63A8}", "zz"])
    var o = WordPieceTokenizer.Options()
    o.doLowerCase = false
    let cased = try WordPieceTokenizer(vocabulary: vocab + ["HeLLo", "Are", "yoU", "H\u{00E9}llo"], options: o)
    #expect(cased.tokenize(" \tHeLLo!how  \n Are yoU?  ").map(\.text) == ["HeLLo", "!", "how", "Are", "yoU", "?"])
    #expect(cased.tokenize("H\u{00E9}llo").map(\.text) == ["H\u{00E9}llo"])
    o.stripAccents = true
    let casedStripped = try WordPieceTokenizer(vocabulary: vocab + ["Hello"], options: o)
    #expect(casedStripped.tokenize("H\u{00E9}llo").map(\.text) == ["Hello"])
  }

  @Test func characterClasses() {
    #expect(PyUnicode.isBertWhitespace(" ") && PyUnicode.isBertWhitespace("\t") && PyUnicode.isBertWhitespace("\u{00A0}"))
    #expect(!PyUnicode.isBertWhitespace("A") && !PyUnicode.isBertWhitespace("-"))
    #expect(PyUnicode.isBertControl("\u{0005}") && PyUnicode.isBertControl("\u{200B}"))
    #expect(!PyUnicode.isBertControl("A") && !PyUnicode.isBertControl(" ") && !PyUnicode.isBertControl("\t"))
    #expect(!PyUnicode.isBertControl("\r") && !PyUnicode.isBertControl("\u{1F4A9}"))
    for c: Unicode.Scalar in ["-", "$", "`", ".", "^", "+", "~", "\u{00BF}", "\u{201C}"] {
      #expect(PyUnicode.isBertPunctuation(c), "\(c)")
    }
    #expect(!PyUnicode.isBertPunctuation("A") && !PyUnicode.isBertPunctuation(" ") && PyUnicode.isBertPunctuation("\u{00A7}"))
    // Python 3.11 (Unicode 14.0) does not know U+1FAE9 (Unicode 16.0): unassigned, so a control.
    #expect(PyUnicode.category(Unicode.Scalar(0x1FAE9)!) == .unassigned)
    #expect(PyUnicode.isBertControl(Unicode.Scalar(0x1FAE9)!))
    #expect(PyUnicode.category(Unicode.Scalar(0x1F600)!) == .otherSymbol)
  }

  @Test func finalSigmaLikePythonLower() throws {
    let vocab = ["[UNK]", "οδος", "οδοσ", "σ", "ς", "ας", "ασ", "."]
    let t = try WordPieceTokenizer(vocabulary: vocab)
    #expect(t.tokenize("ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ").map(\.text) == ["οδος", "οδος", ".", "σ", "ας"])
    var o = WordPieceTokenizer.Options()
    o.finalSigma = false
    let perScalar = try WordPieceTokenizer(vocabulary: vocab, options: o)
    #expect(perScalar.tokenize("ΟΔΟΣ ΟΔΟΣ. Σ ΑΣ").map(\.text) == ["οδοσ", "οδοσ", ".", "σ", "ασ"])
  }

  @Test func longWordsAreUnknownByScalarCount() throws {
    let t = try WordPieceTokenizer(vocabulary: ["[UNK]", "e", "##e"])
    let e100 = String(repeating: "e", count: 100)
    #expect(t.tokenize(e100).count == 100)
    #expect(t.tokenize(e100 + "e").map(\.text) == ["[UNK]"])
    // 101 "é" (each 1 scalar in NFC) → 101 scalars → [UNK], even though accents are stripped later.
    #expect(t.tokenize(String(repeating: "\u{00E9}", count: 101)).map(\.text) == ["[UNK]"])
  }

  @Test func pairEncodingAndTruncation() throws {
    let t = try WordPieceTokenizer(vocabulary: Self.googleVocab + ["[PAD]", "[MASK]"])
    let e = t.encodePair("unwanted", "running")
    #expect(e.ids == [1, 7, 4, 5, 2, 8, 9, 2])
    #expect(e.tokenTypeIds == [0, 0, 0, 0, 0, 1, 1, 1])
    #expect(e.sequenceIds == [nil, 0, 0, 0, nil, 1, 1, nil])
    #expect(e.scalarRanges[5] == 0..<4)
    let single = t.encode("running")
    #expect(single.ids == [1, 8, 9, 2] && single.tokenTypeIds == [0, 0, 0, 0])
    let cut = t.encodePair("unwanted", "running", maxLength: 6)
    #expect(cut.ids == [1, 7, 4, 2, 8, 2])
    var a = [1, 2, 3, 4], b = [5, 6]
    truncatePair(&a, &b, maxLength: 3, strategy: .longestFirst)
    #expect(a == [1, 2] && b == [5])
    a = [1, 2]; b = [5, 6]
    truncatePair(&a, &b, maxLength: 3, strategy: .longestFirst)
    #expect(a == [1, 2] && b == [5])
    a = [1, 2]; b = [5, 6]
    truncatePair(&a, &b, maxLength: 1, strategy: .onlySecond)
    #expect(a == [1, 2] && b.isEmpty)
  }

  /// Lengths kept by `longest_first` against transformers' Python tokenizers (`slow`) and the Rust tokenizers library
  /// (`fast`), for segments of 0–10 tokens and max_length 3–16 (scripts/make_pair_truncation_fixtures.py).
  @Test func pairTruncationMatchesBothHuggingFaceImplementations() throws {
    let fixture = try #require(try JSONSerialization.jsonObject(with: TokFixtures.data("pair_truncation.json")) as? [String: Any])
    let specials = try #require(fixture["specials"] as? Int)
    let rows = try #require(fixture["rows"] as? [[Int]])
    #expect(rows.count == 11 * 11 * 14)
    var differ = 0
    for r in rows {
      let (n1, n2, maxLength) = (r[0], r[1], r[2])
      for (style, want) in [(PairTruncation.slow, (r[3], r[4])), (.fast, (r[5], r[6]))] {
        var a = Array(0..<n1), b = Array(0..<n2)
        truncatePair(&a, &b, maxLength: maxLength - specials, strategy: .longestFirst, style: style)
        #expect(a.count == want.0 && b.count == want.1, "\(style) \(n1), \(n2), max_length \(maxLength)")
        #expect(a == Array(0..<a.count) && b == Array(0..<b.count), "cut from the right")
      }
      if r[3] != r[5] { differ += 1 }
    }
    #expect(differ > 100, "the fixture should hold pairs where the two differ")
  }

  @Test func decodeGluesContinuations() throws {
    let t = try WordPieceTokenizer(vocabulary: Self.googleVocab + ["[PAD]", "[MASK]"])
    let e = t.encodePair("UNwanted,running", "want")
    #expect(t.decode(e.ids) == "unwanted , running want")
    #expect(t.decode(e.ids, skipSpecialTokens: false) == "[CLS] unwanted , running [SEP] want [SEP]")
    #expect(t.decode([0, 9]) == "[UNK]ing" && t.decode([]) == "")
  }

  @Test func specialTokensInTextAreNotSplit() throws {
    let t = try WordPieceTokenizer(vocabulary: Self.googleVocab + ["[PAD]", "[MASK]"])
    let toks = t.tokenize("[CLS]unwanted [MASK]x [mask]")
    #expect(toks.map(\.text).prefix(5) == ["[CLS]", "un", "##want", "##ed", "[MASK]"])
    #expect(toks[4].id == 12 && toks[4].scalarRange == 14..<20)
  }

  @Test func vocabularyFileAndConfig() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try (Self.googleVocab.joined(separator: "\r\n") + "\r\n").write(
      to: dir.appendingPathComponent("vocab.txt"), atomically: false, encoding: .utf8)
    try #"{"do_lower_case": false, "strip_accents": null}"#.write(
      to: dir.appendingPathComponent("tokenizer_config.json"), atomically: false, encoding: .utf8)
    let t = try #require(try AutoTokenizer.load(directory: dir.path) as? WordPieceTokenizer)
    #expect(t.vocabSize == 11 && !t.options.doLowerCase)
    #expect(t.tokenize("unwanted UNwanted").map(\.text) == ["un", "##want", "##ed", "[UNK]"])
    try #"{"do_lower_case": "yes"}"#.write(
      to: dir.appendingPathComponent("tokenizer_config.json"), atomically: false, encoding: .utf8)
    #expect(throws: TokenizerError.self) { try AutoTokenizer.load(directory: dir.path) }
    #expect(throws: TokenizerError.self) { try AutoTokenizer.load(directory: dir.path + "/missing") }
    #expect(throws: TokenizerError.self) { try WordPieceTokenizer(vocabulary: ["a", "b"]) }
  }

  @Test func offsetHelpers() {
    let text = "a😀é b"
    #expect(TokenOffsets.substring(1..<3, in: text) == "😀é")
    #expect(TokenOffsets.utf16Range(1..<3, in: text) == 1..<4)
    #expect(TokenOffsets.stringRange(4..<9, in: text) == nil)
  }

  @Test(.enabled(if: TokFixtures.minilm != nil, "needs the MiniLM vocab (SPIQA_MODEL or models/all-MiniLM-L6-v2)"))
  func edgeCasesMatchPythonSlow() throws {
    let t = try #require(TokFixtures.minilm)
    var o = t.options
    o.finalSigma = false
    let perScalar = try WordPieceTokenizer(vocabFile: TokFixtures.model! + "/vocab.txt", options: o)
    let edge = try TokFixtures.edge()
    for (tok, config) in [(t, "bert"), (perScalar, "bert_per_scalar_lower")] {
      let rows = try #require(edge.configs[config])
      #expect(rows.count == edge.texts.count, "\(config): \(rows.count) reference rows for \(edge.texts.count) texts")
      for (text, row) in zip(edge.texts, rows) {
        let got = tok.tokenize(text)
        #expect(got.map(\.text) == row.tokens, "\(config) \(text.debugDescription)")
        #expect(got.map(\.id) == row.ids, "\(config) \(text.debugDescription)")
        if let offs = row.offsets {
          #expect(got.map { [$0.scalarRange.lowerBound, $0.scalarRange.upperBound] } == offs, "\(text.debugDescription)")
        }
      }
    }
    let r = edge.random
    let n = TokFixtures.expectRows(t, r.texts, r.bert, "random bert")
    #expect(n > 80, "offset references: \(n)")
    TokFixtures.expectRows(perScalar, r.texts, r.bert_per_scalar_lower, "random bert per-scalar lower")
    let p = t.encodePair(edge.pairs.a, edge.pairs.b)
    #expect(p.ids == edge.pairs.bert.ids && p.tokenTypeIds == edge.pairs.bert.token_type_ids)
  }
}
