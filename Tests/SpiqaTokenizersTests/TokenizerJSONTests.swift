import Foundation
import Testing

import SpiqaCore
@testable import SpiqaTokenizers

/// tokenizer.json against transformers.AutoTokenizer (the Rust fast tokenizer), references from
/// scripts/make_tokenizer_json_fixtures.py: a Unicode-heavy line set and a SQuAD dev sample, single and paired.
@Suite("TokenizerJSON")
struct TokenizerJSONTests {
  struct Reference {
    let texts: [String]
    let pairs: [(question: String, context: String)]
    let tokenizers: [String: [String: Any]]

    init() throws {
      let obj = try #require(try JSONSerialization.jsonObject(with: TokFixtures.data("tokenizer_json.json")) as? [String: Any])
      texts = try #require(obj["texts"] as? [String])
      let t = texts
      pairs = try #require(obj["pairs"] as? [[Any]]).map { ($0[0] as! String, t[t.count - 8 + ($0[1] as! Int)]) }
      tokenizers = try #require(obj["tokenizers"] as? [String: [String: Any]])
    }

    func check(_ tok: any Tokenizer, _ name: String) throws {
      let ref = try #require(tokenizers[name])
      let single = try #require(ref["single"] as? [[Int]]), pair = try #require(ref["pair"] as? [[Int]])
      #expect(single.count == texts.count && pair.count == pairs.count)
      var mismatches = 0
      for (text, ids) in zip(texts, single) where tok.encode(text).ids != ids {
        mismatches += 1
        Issue.record("\(name) \(text.debugDescription): \(tok.encode(text).ids) != \(ids)")
      }
      for ((q, c), ids) in zip(pairs, pair) where tok.encodePair(q, c).ids != ids {
        mismatches += 1
        Issue.record("\(name) pair \(q.debugDescription): ids differ")
      }
      print("tokenizer.json \(name): \(texts.count) texts, \(pairs.count) pairs, \(mismatches) mismatches")
    }
  }

  @Test("WordPiece tokenizer.json (all-MiniLM-L6-v2) equals AutoTokenizer",
        .enabled(if: TokFixtures.model.map { FileManager.default.fileExists(atPath: $0 + "/tokenizer.json") } ?? false,
                 "needs models/all-MiniLM-L6-v2 (SPIQA_MODEL) with its tokenizer.json"))
  func wordPiece() throws {
    let tok = try AutoTokenizer.load(directory: try #require(TokFixtures.model))
    #expect(tok.kind == .wordPiece)
    try Reference().check(tok, "wordpiece")
  }

  @Test("byte-level BPE tokenizer.json (RoBERTa processing) equals AutoTokenizer")
  func bytePairs() throws {
    let tok = try TokenizerJSON.load(path: TokFixtures.directory.appendingPathComponent("tiny-bpe-tokenizer.json").path)
    #expect(tok.kind == .byteLevelBPE && tok.specials.clsId == 0 && tok.specials.sepId == 2)
    try Reference().check(tok, "bpe")
  }

  @Test("tokenizer.json is preferred over vocab files; unsupported models are refused in one line")
  func preferenceAndRefusal() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-tokjson-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\n".utf8).write(to: dir.appendingPathComponent("vocab.txt"))
    #expect(try AutoTokenizer.load(directory: dir.path).kind == .wordPiece)
    try FileManager.default.copyItem(at: TokFixtures.directory.appendingPathComponent("tiny-bpe-tokenizer.json"),
                                     to: dir.appendingPathComponent("tokenizer.json"))
    #expect(try AutoTokenizer.load(directory: dir.path).kind == .byteLevelBPE)
    let unigram = #"{"model": {"type": "Unigram", "vocab": [["<unk>", 0.0]], "unk_id": 0}}"#
    try Data(unigram.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
    #expect(try AutoTokenizer.load(directory: dir.path).kind == .unigram)
    let wordLevel = #"{"model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"}}"#
    try Data(wordLevel.utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
    let e = #expect(throws: TokenizerError.self) { try AutoTokenizer.load(directory: dir.path) }
    #expect(e?.kind == .badData && e?.description.contains("WordLevel") == true)
    #expect(e?.description.contains("\n") == false)
    try Data("[1, 2]".utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
    #expect(throws: TokenizerError.self) { try AutoTokenizer.load(directory: dir.path) }
  }
}
