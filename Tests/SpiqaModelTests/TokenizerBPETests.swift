import Foundation
import Testing

@testable import SpiqaModel

@Suite("Tokenizer: byte-level BPE")
struct TokenizerBPETests {
  /// Hugging Face test_tokenization_roberta.py's toy vocabulary and merges.
  static let toyVocab = [
    "l", "o", "w", "e", "r", "s", "t", "i", "d", "n", "\u{0120}", "\u{0120}l", "\u{0120}n", "\u{0120}lo",
    "\u{0120}low", "er", "\u{0120}lowest", "\u{0120}newer", "\u{0120}wider", "<unk>",
  ]
  static let toyMerges = ["#version: 0.2", "\u{0120} l", "\u{0120}l o", "\u{0120}lo w", "e r", ""]

  static func toy(prefix: Bool) throws -> ByteLevelBPETokenizer {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-bpe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let vocab = Dictionary(uniqueKeysWithValues: toyVocab.enumerated().map { ($1, $0) })
    try JSONSerialization.data(withJSONObject: vocab).write(to: dir.appendingPathComponent("vocab.json"))
    try toyMerges.joined(separator: "\n").write(to: dir.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
    try "{\"add_prefix_space\": \(prefix)}".write(
      to: dir.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
    return try #require(try AutoTokenizer.load(directory: dir.path) as? ByteLevelBPETokenizer)
  }

  @Test func huggingFaceToyVocabulary() throws {
    let t = try Self.toy(prefix: true)
    let toks = t.tokenize("lower newer")
    #expect(toks.map(\.text) == ["\u{0120}low", "er", "\u{0120}", "n", "e", "w", "er"])
    #expect(toks.map(\.id) + [t.specials.unkId] == [14, 15, 10, 9, 3, 2, 15, 19])
    // Offsets exclude the absorbed space; the whitespace-only "Ġ" is empty at its end.
    #expect(toks.map(\.scalarRange) == [0..<3, 3..<5, 6..<6, 6..<7, 7..<8, 8..<9, 9..<11])
    let noPrefix = try Self.toy(prefix: false)
    #expect(noPrefix.tokenize("lower").map(\.text) == ["l", "o", "w", "er"])
  }

  @Test func bytesToUnicode() {
    let m = ByteLevelBPETokenizer.byteToUnicode
    #expect(m[Int(UInt8(ascii: "!"))] == "!" && m[0x20] == "\u{0120}" && m[0x0A] == "\u{010A}")
    #expect(m[0] == "\u{0100}" && m[0xAD] == "\u{0143}" && m[0xA1] == "\u{00A1}" && m[0xFF] == "\u{00FF}")
    #expect(Set(m).count == 256)
  }

  /// Pre-token strings of the GPT-2 regex.
  static func pieces(_ text: String) -> [String] {
    let s = Array(text.unicodeScalars)
    return GPT2PreTokenizer.split(s, 0..<s.count).map { String(String.UnicodeScalarView(s[$0])) }
  }

  @Test func gpt2RegexSemantics() {
    #expect(Self.pieces("I'm don't it's IT'S") == ["I", "'m", " don", "'t", " it", "'s", " IT", "'", "S"])
    #expect(Self.pieces("a  b   c  ") == ["a", " ", " b", "  ", " c", "  "])
    #expect(Self.pieces("x\n y\n\nz") == ["x", "\n", " y", "\n", "\n", "z"])
    #expect(Self.pieces("\u{00A0}a \u{00A0}b") == ["\u{00A0}", "a", " ", "\u{00A0}", "b"])
    #expect(Self.pieces(" 's !!'s 123abc 4½") == [" '", "s", " !!'", "s", " 123", "abc", " 4½"])
    #expect(Self.pieces("'ll've're 'x") == ["'ll", "'ve", "'re", " '", "x"])
    #expect(Self.pieces("") == [] && Self.pieces(" ") == [" "] && Self.pieces("'") == ["'"])
  }

  @Test func loadingErrors() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-bpe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let v = dir.appendingPathComponent("vocab.json"), m = dir.appendingPathComponent("merges.txt")
    try "#version: 0.2\n".write(to: m, atomically: true, encoding: .utf8)
    try "[1, 2]".write(to: v, atomically: true, encoding: .utf8)
    #expect(throws: TokenizerError.self) { try ByteLevelBPETokenizer(vocabFile: v.path, mergesFile: m.path) }
    try "{\"a\": \"x\"}".write(to: v, atomically: true, encoding: .utf8)
    #expect(throws: TokenizerError.self) { try ByteLevelBPETokenizer(vocabFile: v.path, mergesFile: m.path) }
    try "{\"a\": 0}".write(to: v, atomically: true, encoding: .utf8)  // no <unk>
    #expect(throws: TokenizerError.self) { try ByteLevelBPETokenizer(vocabFile: v.path, mergesFile: m.path) }
    #expect(throws: TokenizerError.self) {
      try ByteLevelBPETokenizer(vocabFile: v.path, mergesFile: dir.appendingPathComponent("none").path)
    }
  }

  @Test(.enabled(if: TokFixtures.roberta != nil, "needs ../shared/data/roberta-base (SPIQA_SHARED)"))
  func robertaBasePublicVectors() throws {
    let t = try #require(TokFixtures.roberta)
    #expect(t.encode("Hello world!").ids == [0, 31414, 232, 328, 2])
    #expect(t.encode("Hello world! cécé herlolip").ids == [0, 31414, 232, 328, 740, 1140, 12695, 69, 46078, 1588, 2])
    #expect(t.encode("Hello world! cécé herlolip 418").ids.suffix(3) == [1588, 42928, 2])
    let p = t.encodePair("a b", "c")
    #expect(p.ids == [0, 102, 741, 2, 2, 438, 2] && p.tokenTypeIds.allSatisfy { $0 == 0 })
    #expect(t.numSpecialTokensToAdd(pair: true) == 4 && t.vocabSize == 50265)
    // Bytes of one scalar split over two tokens: both tokens cover that scalar.
    let e = t.tokenize("a😀b")
    #expect(e.map(\.text) == ["a", "ðŁĺ", "Ģ", "b"] && e.map(\.id) == [102, 18636, 7471, 428])
    #expect(e.map(\.scalarRange) == [0..<1, 1..<2, 1..<2, 2..<3])
  }

  @Test(.enabled(if: TokFixtures.roberta != nil, "needs ../shared/data/roberta-base (SPIQA_SHARED)"))
  func edgeCasesMatchSlowRoberta() throws {
    let t = try #require(TokFixtures.roberta)
    let d = TokFixtures.robertaDir!
    var o = ByteLevelBPETokenizer.Options()
    o.addPrefixSpace = true
    let prefixed = try ByteLevelBPETokenizer(vocabFile: d + "/vocab.json", mergesFile: d + "/merges.txt", options: o)
    let edge = try TokFixtures.edge()
    for (tok, config) in [(t, "roberta"), (prefixed, "roberta_prefix_space")] {
      let rows = try #require(edge.configs[config])
      for (text, row) in zip(edge.texts, rows) {
        let got = tok.tokenize(text)
        #expect(got.map(\.text) == row.tokens, "\(config) \(text.debugDescription)")
        #expect(got.map(\.id) == row.ids, "\(config) \(text.debugDescription)")
        if let offs = row.offsets {
          #expect(got.map { [$0.scalarRange.lowerBound, $0.scalarRange.upperBound] } == offs, "\(config) \(text.debugDescription)")
        }
      }
    }
    #expect(t.encodePair(edge.pairs.a, edge.pairs.b).ids == edge.pairs.roberta.ids)
  }
}
