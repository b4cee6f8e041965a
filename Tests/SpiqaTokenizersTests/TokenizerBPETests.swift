import Foundation
import Testing

import SpiqaCore
@testable import SpiqaTokenizers

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
    let vocab = JSONValue.object(Dictionary(uniqueKeysWithValues: toyVocab.enumerated().map { ($1, .int($0)) }))
    try Data(vocab.jsonBytes).write(to: dir.appendingPathComponent("vocab.json"))
    try toyMerges.joined(separator: "\n").write(to: dir.appendingPathComponent("merges.txt"), atomically: false, encoding: .utf8)
    try "{\"add_prefix_space\": \(prefix)}".write(
      to: dir.appendingPathComponent("tokenizer_config.json"), atomically: false, encoding: .utf8)
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
    try "#version: 0.2\n".write(to: m, atomically: false, encoding: .utf8)
    try "[1, 2]".write(to: v, atomically: false, encoding: .utf8)
    #expect(throws: TokenizerError.self) { try ByteLevelBPETokenizer(vocabFile: v.path, mergesFile: m.path) }
    try "{\"a\": \"x\"}".write(to: v, atomically: false, encoding: .utf8)
    #expect(throws: TokenizerError.self) { try ByteLevelBPETokenizer(vocabFile: v.path, mergesFile: m.path) }
    try "{\"a\": 0}".write(to: v, atomically: false, encoding: .utf8)  // no <unk>
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
    // Per-call prefix space (transformers 4.x SQuAD featurization) vs the 3.1 default.
    #expect(t.tokenize("the", addPrefixSpace: true).map(\.id) == [5] && t.tokenize("the").map(\.id) == [627])
    #expect(t.tokenize("the", addPrefixSpace: true)[0].scalarRange == 0..<3)
    let p = t.encodePair("a b", "c")
    #expect(p.ids == [0, 102, 741, 2, 2, 438, 2] && p.tokenTypeIds.allSatisfy { $0 == 0 })
    #expect(t.numSpecialTokensToAdd(pair: true) == 4 && t.vocabSize == 50265)
    // Bytes of one scalar split over two tokens: both tokens cover that scalar.
    let e = t.tokenize("a😀b")
    #expect(e.map(\.text) == ["a", "ðŁĺ", "Ģ", "b"] && e.map(\.id) == [102, 18636, 7471, 428])
    #expect(e.map(\.scalarRange) == [0..<1, 1..<2, 1..<2, 2..<3])
  }

  @Test(.enabled(if: TokFixtures.shared.map { FileManager.default.fileExists(atPath: $0 + "/data/gpt2/vocab.bpe") } ?? false,
    "needs ../shared/data/gpt2 (SPIQA_SHARED)"))
  func gpt2FilesWithExplicitPaths() throws {
    let d = TokFixtures.shared! + "/data/gpt2"
    var o = ByteLevelBPETokenizer.Options()
    o.bosToken = "<|endoftext|>"; o.eosToken = "<|endoftext|>"; o.unkToken = "<|endoftext|>"
    let t = try ByteLevelBPETokenizer(vocabFile: d + "/encoder.json", mergesFile: d + "/vocab.bpe", options: o)
    #expect(t.tokenize("Hello world!").map(\.id) == [15496, 995, 0])
    #expect(t.specials.padId == 50256 && t.vocabSize == 50257)
    #expect(t.tokenize("<|endoftext|> x").map(\.id) == [50256, 2124])
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
      #expect(rows.count == edge.texts.count, "\(config): \(rows.count) reference rows for \(edge.texts.count) texts")
      for (text, row) in zip(edge.texts, rows) {
        let got = tok.tokenize(text)
        #expect(got.map(\.text) == row.tokens, "\(config) \(text.debugDescription)")
        #expect(got.map(\.id) == row.ids, "\(config) \(text.debugDescription)")
        if let offs = row.offsets {
          #expect(got.map { [$0.scalarRange.lowerBound, $0.scalarRange.upperBound] } == offs, "\(config) \(text.debugDescription)")
        }
      }
    }
    let r = edge.random
    #expect(TokFixtures.expectRows(t, r.texts, r.roberta, "random roberta") > 350)
    #expect(TokFixtures.expectRows(prefixed, r.texts, r.roberta_prefix_space, "random roberta prefix") > 250)
    #expect(t.encodePair(edge.pairs.a, edge.pairs.b).ids == edge.pairs.roberta.ids)
  }

  @Test(.enabled(if: TokFixtures.roberta != nil, "needs ../shared/data/roberta-base (SPIQA_SHARED)"))
  func heapMergeEqualsReferenceLoop() throws {
    let t = try #require(TokFixtures.roberta)
    var rng = SplitMix64(seed: 7)
    let alphabets: [[UInt8]] = [
      Array("a".utf8), Array("ab".utf8), Array("aeinrst".utf8), Array("ĠthequickbrownfoxÃ©".utf8),
      (0..<256).map(UInt8.init),
    ]
    for k in 0..<300 {
      let alphabet = alphabets[k % alphabets.count]
      let n = 2 + Int(rng.next() % 300)
      let bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
      let initial = bytes.map { t.byteSymbolForTesting($0) }
      let a = t.merger.mergeQuadratic(initial), b = t.merger.mergeHeap(initial)
      #expect(a.symbols == b.symbols && a.lengths == b.lengths, "case \(k), \(n) bytes")
    }
    // A 200,000-letter "word" stays fast (the quadratic loop would take minutes).
    let start = Date()
    let long = t.tokenize(String(repeating: "abcd", count: 50_000))
    #expect(long.count > 1000 && Date().timeIntervalSince(start) < 20)
  }

  /// Scalar-wise substring test (String.contains works on Characters, and "<pad>" followed by a
  /// combining mark is not a Character match).
  static func containsScalars(_ text: String, _ part: String) -> Bool {
    let t = Array(text.unicodeScalars), p = Array(part.unicodeScalars)
    guard !p.isEmpty, t.count >= p.count else { return false }
    return (0...(t.count - p.count)).contains { i in t[i..<(i + p.count)].elementsEqual(p) }
  }

  @Test(.enabled(if: TokFixtures.roberta != nil, "needs ../shared/data/roberta-base (SPIQA_SHARED)"))
  func decodeIsLossless() throws {
    let t = try #require(TokFixtures.roberta)
    let edge = try TokFixtures.edge()
    let specials = ["<s>", "</s>", "<pad>", "<unk>", "<mask>"]
    var checked = 0
    for text in edge.texts + edge.random.texts
    where !specials.contains(where: { Self.containsScalars(text, $0) })
      && !text.unicodeScalars.allSatisfy(PyUnicode.isPythonSpace)
    {
      #expect(t.decode(t.tokenize(text).map(\.id)) == text, "\(text.debugDescription)")
      checked += 1
    }
    #expect(checked > 250)
    #expect(t.decode(t.encode("Hi <mask>!").ids) == "Hi!")
    #expect(t.decode(t.encode("Hi <mask>!").ids, skipSpecialTokens: false) == "<s>Hi<mask>!</s>")
    #expect(t.decode([18636]) == "\u{FFFD}")  // a partial UTF-8 sequence
  }

  @Test(.enabled(if: TokFixtures.roberta != nil, "needs ../shared/data/roberta-base (SPIQA_SHARED)"))
  func concurrentUseSharesTheCacheSafely() throws {
    let d = TokFixtures.robertaDir!
    let fresh = try ByteLevelBPETokenizer(vocabFile: d + "/vocab.json", mergesFile: d + "/merges.txt")
    let texts = try TokFixtures.edge().texts
    let expected = texts.map { TokFixtures.roberta!.tokenize($0) }
    let results = TokResultBox(count: texts.count * 8)
    DispatchQueue.concurrentPerform(iterations: texts.count * 8) { k in
      results.set(k, fresh.tokenize(texts[k % texts.count]))
    }
    for k in 0..<(texts.count * 8) { #expect(results.get(k) == expected[k % texts.count]) }
  }
}

/// Lock-protected result slots for the concurrency test.
final class TokResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [[Token]]
  init(count: Int) { slots = Array(repeating: [], count: count) }
  func set(_ i: Int, _ v: [Token]) { lock.lock(); slots[i] = v; lock.unlock() }
  func get(_ i: Int) -> [Token] { lock.lock(); defer { lock.unlock() }; return slots[i] }
}

