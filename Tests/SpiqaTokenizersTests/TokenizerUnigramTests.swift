import Foundation
import Testing

import SpiqaCore
@testable import SpiqaTokenizers

/// SentencePiece Unigram from tokenizer.json against transformers.AutoTokenizer (Rust), on the two models
/// scripts/make_tokenizer_json_fixtures.py trains and converts (ALBERT- and XLM-R-shaped, nmt_nfkc charsmap).
@Suite("Unigram tokenizer.json")
struct TokenizerUnigramTests {
  static func load(_ kind: String) throws -> UnigramTokenizer {
    let url = try TokFixtures.gunzipped("tiny-\(kind)-tokenizer.json.gz")
    defer { try? FileManager.default.removeItem(at: url) }
    return try #require(try TokenizerJSON.load(path: url.path) as? UnigramTokenizer)
  }

  /// Token types of pairs and the SQuAD featurization (each context word tokenized alone).
  func checkExtras(_ tok: UnigramTokenizer, _ name: String) throws {
    let ref = try TokenizerJSONTests.Reference()
    let r = try #require(ref.tokenizers[name])
    let types = try #require(r["pair_types"] as? [[Int]]), words = try #require(r["words"] as? [[Int]])
    var mismatches = 0
    for ((q, c), t) in zip(ref.pairs, types) where tok.encodePair(q, c).tokenTypeIds != t {
      mismatches += 1
      Issue.record("\(name) pair \(q.debugDescription): token types differ")
    }
    let contexts = ref.texts.suffix(8)
    for (c, ids) in zip(contexts, words) {
      let w = c.split(whereSeparator: { $0.unicodeScalars.allSatisfy(\.properties.isWhitespace) }).map(String.init)
      if tok.tokenizeWords(w).tokens.map(\.id) != ids {
        mismatches += 1
        Issue.record("\(name) context words \(c.prefix(40).debugDescription): ids differ")
      }
    }
    print("tokenizer.json \(name): \(types.count) pair type lists, \(words.count) contexts word by word, \(mismatches) mismatches")
  }

  @Test("ALBERT-shaped Unigram ([CLS] A [SEP] B [SEP], lower-cased, NFKD + accents stripped) equals AutoTokenizer")
  func albert() throws {
    let tok = try Self.load("albert")
    #expect(tok.kind == .unigram && !tok.doubleSeparator && tok.numSpecialTokensToAdd(pair: true) == 3)
    #expect(tok.specials.cls == "[CLS]" && tok.specials.clsId == 2 && tok.specials.sepId == 3)
    #expect(tok.specials.unk == "<unk>" && tok.specials.unkId == 1 && tok.specials.padId == 0 && tok.specials.maskId == 4)
    try TokenizerJSONTests.Reference().check(tok, "albert")
    try checkExtras(tok, "albert")
  }

  @Test("XLM-R-shaped Unigram (<s> A </s></s> B </s>) equals AutoTokenizer")
  func xlmr() throws {
    let tok = try Self.load("xlmr")
    #expect(tok.kind == .unigram && tok.doubleSeparator && tok.numSpecialTokensToAdd(pair: true) == 4)
    #expect(tok.specials.clsId == 0 && tok.specials.padId == 1 && tok.specials.sepId == 2 && tok.specials.unkId == 3)
    #expect(tok.specials.mask == "<mask>" && tok.specials.maskId == tok.vocabSize - 1)
    try TokenizerJSONTests.Reference().check(tok, "xlmr")
    try checkExtras(tok, "xlmr")
  }

  @Test("all of SQuAD dev and the edge-case texts, whole and context words alone, equal AutoTokenizer",
        .enabled(if: ProcessInfo.processInfo.environment["SPIQA_UNIGRAM_SQUAD"] != nil,
                 "set SPIQA_UNIGRAM_SQUAD to the output of scripts/unigram_squad_reference.py"))
  func squadDev() throws {
    let path = try #require(ProcessInfo.processInfo.environment["SPIQA_UNIGRAM_SQUAD"])
    // SpiqaCore's parser: Foundation's JSONSerialization drops a U+FEFF that follows an escape sequence.
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let parsed = try JSONValue(parsing: bytes)
    let ref = try #require(parsed.objectValue)
    let texts = (ref["texts"]?.arrayValue ?? []).compactMap { $0.stringValue }
    let nContexts = try #require(ref["contexts"]?.intValue)
    func lists(_ v: JSONValue?) -> [[Int]] { (v?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.intValue) ?? [] } }
    for kind in ["albert", "xlmr"] {
      let tok = try Self.load(kind)
      let r = try #require(ref[kind]?.objectValue)
      let ids = lists(r["texts"]), words = lists(r["words"]), offsets = lists(r["offsets"])
      #expect(!texts.isEmpty && ids.count == texts.count && words.count == nContexts)
      var textMismatches = 0, wordMismatches = 0, count = 0, sameOffsets = 0
      for (k, (t, want)) in zip(texts, ids).enumerated() {
        let tokens = tok.tokenize(t)
        let got = tokens.map(\.id)
        if k < offsets.count && tokens.flatMap({ [$0.scalarRange.lowerBound, $0.scalarRange.upperBound] }) == offsets[k] {
          sameOffsets += 1
        }
        count += got.count
        if got != want {
          textMismatches += 1
          if textMismatches <= 3 {
            Issue.record("\(kind) \(t.prefix(60).debugDescription): \(tok.tokenize(t).map { ($0.text, $0.scalarRange) }) != \(want)")
          }
        }
      }
      for (c, want) in zip(texts.prefix(nContexts), words) {
        let w = c.unicodeScalars.split { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0.value == 0x202F }
          .map { String(String.UnicodeScalarView($0)) }
        if tok.tokenizeWords(w).tokens.map(\.id) != want {
          wordMismatches += 1
          if wordMismatches <= 3 { Issue.record("\(kind) context words \(c.prefix(60).debugDescription): ids differ") }
        }
      }
      print("unigram \(kind) SQuAD dev: \(texts.count) texts (\(count) ids), \(textMismatches) mismatches, "
            + "\(sameOffsets) with offsets identical to HF offset_mapping; "
            + "\(words.count) contexts word by word, \(wordMismatches) mismatches")
      #expect(textMismatches == 0 && wordMismatches == 0)
    }
  }

  @Test("offsets cover the original text; decode inverts Metaspace")
  func offsetsAndDecode() throws {
    let tok = try Self.load("xlmr")
    let text = "The  Broncos\u{00A0}won ﬁnal Super Bowl 50."
    let tokens = tok.tokenize(text)
    var last = 0
    for t in tokens {
      #expect(t.scalarRange.lowerBound >= last && t.scalarRange.upperBound <= text.unicodeScalars.count)
      last = t.scalarRange.lowerBound
    }
    let pieces = tokens.map { TokenOffsets.substring($0.scalarRange, in: text).map(String.init) ?? "?" }.joined(separator: "|")
    #expect(!pieces.contains("?") && pieces.replacingOccurrences(of: "|", with: "").count <= text.count)
    #expect(tok.decode(tok.encode("The Broncos won Super Bowl 50.").ids) == "The Broncos won Super Bowl 50.")
    // The Metaspace decoder drops the space of the first token only, here <s> (as transformers does).
    #expect(tok.decode(tok.encode("a b").ids, skipSpecialTokens: false) == "<s> a b</s>")
    let albert = try Self.load("albert")
    #expect(albert.decode(albert.encode("Who WON the game").ids) == "who won the game")
    // An unknown character is one <unk> that covers it.
    let unk = tok.tokenize("a\u{2603}\u{2603}b").filter { $0.id == tok.specials.unkId }
    #expect(unk.count == 1 && unk.first?.scalarRange == 1..<3, "\(tok.tokenize("a\u{2603}\u{2603}b"))")
  }

  @Test("a SentencePiece-only folder and corrupt Unigram tokenizer.json files are refused in one line")
  func refusals() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-unigram-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data([0x0A, 0x02]).write(to: dir.appendingPathComponent("spiece.model"))
    let spm = #expect(throws: TokenizerError.self) { try AutoTokenizer.load(directory: dir.path) }
    #expect(spm?.kind.exitCode == 65 && spm?.description.contains("tokenizer.json") == true)
    #expect(spm?.description.contains("\n") == false)

    let path = dir.appendingPathComponent("tokenizer.json").path
    let vocab = #""vocab": [["<unk>", 0.0], ["\u2581a", -1.0], ["a", -2.0]]"#
    func refused(_ json: String, _ needle: String) {
      _ = FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
      let e = #expect(throws: TokenizerError.self) { try TokenizerJSON.load(path: path) }
      #expect(e?.kind == .badData && e?.description.contains("\n") == false, "\(String(describing: e))")
      #expect(e?.description.contains(needle) == true, "\(String(describing: e)) lacks \(needle)")
    }
    func charsmap(_ base64: String) -> String {
      #"{"normalizer": {"type": "Precompiled", "precompiled_charsmap": "\#(base64)"}, "model": {"type": "Unigram", "unk_id": 0, \#(vocab)}}"#
    }
    refused(charsmap("not base64!"), "base64")
    refused(charsmap(Data([0x10, 0, 0, 0, 1, 2]).base64EncodedString()), "truncated")
    refused(charsmap(Data([0x01]).base64EncodedString()), "truncated")
    refused(charsmap(Data([0x04, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE]).base64EncodedString()), "UTF-8")
    refused(#"{"model": {"type": "Unigram", \#(vocab)}}"#, "unk_id")
    refused(#"{"model": {"type": "Unigram", "unk_id": 7, \#(vocab)}}"#, "unk_id")
    refused(#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["a"]]}}"#, "vocab entry 0")
    refused(#"{"model": {"type": "Unigram", "unk_id": 0, "vocab": []}}"#, "empty vocab")
    refused(#"{"normalizer": {"type": "Replace", "pattern": {"Regex": "\\s+$"}, "content": ""}, "model": {"type": "Unigram", "unk_id": 0, \#(vocab)}}"#, "Replace")
    refused(#"{"pre_tokenizer": {"type": "Whitespace"}, "model": {"type": "Unigram", "unk_id": 0, \#(vocab)}}"#, "Whitespace")
    // Replace steps that multiply the text (3 × "a" → 1,000 "a"s asked for 2 GB a character); a FIFO or folder.
    let grow = #"{"type": "Replace", "pattern": {"String": "a"}, "content": "\#(String(repeating: "a", count: 1000))"}"#
    refused(#"{"normalizer": {"type": "Sequence", "normalizers": [\#(grow), \#(grow), \#(grow)]}, "model": {"type": "Unigram", "unk_id": 0, \#(vocab)}}"#,
            "the Replace normalizers can lengthen a text 1000000000 times; at most 16")
    try FileManager.default.removeItem(atPath: path)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    let folder = #expect(throws: TokenizerError.self) { try TokenizerJSON.load(path: path) }
    #expect(folder?.kind == .badData && folder?.description.contains("is a directory, not a regular file") == true)
    try FileManager.default.removeItem(atPath: path)

    // An added token past the pieces counts in vocabSize and is cut out of text.
    let extra = #"{"added_tokens": [{"id": 5, "content": "<x>", "special": true}], "model": {"type": "Unigram", "unk_id": 0, \#(vocab)}}"#
    _ = FileManager.default.createFile(atPath: path, contents: Data(extra.utf8))
    let withExtra = try TokenizerJSON.load(path: path)
    #expect(withExtra.vocabSize == 6 && withExtra.id(forToken: "<x>") == 5 && withExtra.id(forToken: "\u{2581}a") == 1)
    #expect(withExtra.tokenize("a<x>a").map(\.id) == [2, 5, 2])  // no Metaspace here: no ▁ prefix

    // A charsmap whose trie points outside itself loads and normalizes without crashing.
    let bogus = Data([0x08, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x61, 0x01, 0, 0, 0x62, 0]).base64EncodedString()
    _ = FileManager.default.createFile(atPath: path, contents: Data(charsmap(bogus).utf8))
    let tok = try TokenizerJSON.load(path: path)
    #expect(tok.tokenize("aa \u{00E9}").count >= 1)
  }
}
