import Foundation
import Testing

@testable import SpiqaTokenizers

/// Every SQuAD v1.1 dev context and question, against the reference ids of
/// scripts/make_tokenizer_fixtures.py (hashes per text; see squad_manifest.json).
@Suite("Tokenizer: SQuAD dev parity")
struct TokenizerSquadParityTests {
  static let available = TokFixtures.squadPath != nil

  /// Compares whole-text tokenization (ids, and offsets where the reference has them).
  static func checkTexts(_ t: any Tokenizer, set: String) throws {
    let (contexts, questions) = try TokFixtures.squadTexts(try #require(TokFixtures.squadPath))
    let texts = contexts + questions
    let records = try TokFixtures.records(set)
    try #require(records.count == texts.count, "\(set): \(records.count) records for \(texts.count) texts")
    var idMismatches: [Int] = []
    var offsetMismatches: [Int] = []
    var withOffsets = 0
    for (i, text) in texts.enumerated() {
      let toks = t.tokenize(text)
      let r = records[i]
      if toks.count != Int(r.count) || TokFixtures.hash(toks.map { UInt32($0.id) }) != r.idsHash {
        idMismatches.append(i)
        continue
      }
      if r.hasOffsets {
        withOffsets += 1
        let h = TokFixtures.hash(toks.flatMap { [UInt32($0.scalarRange.lowerBound), UInt32($0.scalarRange.upperBound)] })
        if h != r.offsetsHash { offsetMismatches.append(i) }
      }
    }
    #expect(idMismatches.isEmpty, "\(set): ids differ for \(idMismatches.count)/\(texts.count) texts, first \(idMismatches.prefix(10)) (show one with: scripts/make_tokenizer_fixtures.py --show \(set) N)")
    #expect(offsetMismatches.isEmpty, "\(set): offsets differ for \(offsetMismatches.count)/\(withOffsets), first \(offsetMismatches.prefix(10))")
    #expect(withOffsets == texts.count, "\(set): offset reference for \(withOffsets)/\(texts.count) texts")
  }

  /// Compares per-word tokenization of every context (SQuAD featurization).
  static func checkWords(_ t: any Tokenizer, set: String) throws {
    let (contexts, _) = try TokFixtures.squadTexts(try #require(TokFixtures.squadPath))
    let records = try TokFixtures.records(set)
    try #require(records.count == contexts.count)
    var mismatches: [Int] = []
    for (i, c) in contexts.enumerated() {
      var values: [UInt32] = []
      var count = 0
      for w in TokFixtures.squadWords(c) {
        let toks = t.tokenize(w)
        values.append(contentsOf: toks.map { UInt32($0.id) })
        values.append(0xFFFF_FFFF)
        count += toks.count
      }
      if count != Int(records[i].count) || TokFixtures.hash(values) != records[i].idsHash { mismatches.append(i) }
    }
    #expect(mismatches.isEmpty, "\(set): ids differ for \(mismatches.count)/\(contexts.count) contexts, first \(mismatches.prefix(10))")
  }

  @Test(.enabled(if: available && TokFixtures.minilm != nil, "needs SQuAD dev (SPIQA_SHARED) and the MiniLM vocab (SPIQA_MODEL)"))
  func wordPieceWholeTexts() throws { try Self.checkTexts(try #require(TokFixtures.minilm), set: "bert_text") }

  @Test(.enabled(if: available && TokFixtures.minilm != nil, "needs SQuAD dev (SPIQA_SHARED) and the MiniLM vocab (SPIQA_MODEL)"))
  func wordPiecePerWord() throws { try Self.checkWords(try #require(TokFixtures.minilm), set: "bert_words") }

  @Test(.enabled(if: available && TokFixtures.roberta != nil, "needs SQuAD dev and roberta-base files (SPIQA_SHARED)"))
  func bpeWholeTexts() throws { try Self.checkTexts(try #require(TokFixtures.roberta), set: "roberta_text") }

  /// Every piece of more than one byte through the heap merge instead of encoder.py's loop.
  @Test(.enabled(if: available && TokFixtures.roberta != nil, "needs SQuAD dev and roberta-base files (SPIQA_SHARED)"))
  func bpeHeapMergeWholeTexts() throws {
    let d = try #require(TokFixtures.robertaDir)
    var o = ByteLevelBPETokenizer.Options()
    o.heapMergeThreshold = 1
    let t = try ByteLevelBPETokenizer(vocabFile: d + "/vocab.json", mergesFile: d + "/merges.txt", options: o)
    try Self.checkTexts(t, set: "roberta_text")
  }

  @Test(.enabled(if: available && TokFixtures.roberta != nil, "needs SQuAD dev and roberta-base files (SPIQA_SHARED)"))
  func bpePerWord() throws { try Self.checkWords(try #require(TokFixtures.roberta), set: "roberta_words") }
}
