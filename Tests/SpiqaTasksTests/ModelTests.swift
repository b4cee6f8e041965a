import Foundation
import SpiqaIO
import SpiqaQuant
import SpiqaTasks
import Testing

/// A tokenizer that looks texts up in a table made by the slow Python BertTokenizer (squad_tokens_first20.json).
struct LookupTokenizer: TaskTokenizer {
  let table: [String: [Int]]
  var clsId: Int { 101 }
  var sepId: Int { 102 }
  var padId: Int { 0 }
  var layout: PairLayout { .bert }
  func ids(_ text: String) -> [Int] { table[text] ?? [100] }
  func tokens(_ ids: [Int]) -> [String]? { nil }
}

/// One line of squad_reference_*.jsonl (scripts/squad_reference.py).
struct ReferencePrediction: Decodable {
  var index: Int
  var id: String
  var prediction: String
  var em: Double
  var f1: Double
  var feature: Int
  var start: Int
  var end: Int
  var features: Int
}

/// One line of sst2_reference_predictions.jsonl (scripts/sst2_reference.py).
struct ReferenceSST2: Decodable {
  var index: Int
  var label: Int
  var prediction: Int
  var logits: [Float]
}

/// Paths of the shared checkpoints and data; the heavy suites are skipped without them.
enum Heavy {
  static func sharedDir(_ rel: String, file: String) -> String? {
    guard let s = TestSupport.shared, TestSupport.sharedFile(rel + "/" + file) != nil else { return nil }
    return s + "/" + rel
  }
  static var squadModel: String? { sharedDir("models/minilm-squad", file: "model.safetensors") }
  static var sst2Model: String? { sharedDir("models/minilm-sst2", file: "model.safetensors") }
  static var squadData: String? { TestSupport.sharedFile("data/squad/dev-v1.1.json") }
  static var sst2Data: String? { TestSupport.sharedFile("data/glue/SST-2/dev.tsv") }
  static var squadReady: Bool { squadModel != nil && squadData != nil }
  static var sst2Ready: Bool { sst2Model != nil && sst2Data != nil }

  static func lines<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
    let text = String(decoding: try TestSupport.fixture(name), as: UTF8.self)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
  }

  /// Run SQuAD questions and compare every prediction with the transformers reference.
  static func checkSquad(_ qs: [SquadQuestion], tokenizer: TaskTokenizer, reference: [ReferencePrediction]) throws {
    let model = try EncoderTaskModel(directory: try #require(squadModel), maxBatch: 4, maxSeqLen: 320)
    var preds: [SquadPrediction] = []
    let res = try SquadEvaluator(model: model, tokenizer: tokenizer).evaluate(qs, perExample: { preds.append($0) })
    let byId = Dictionary(uniqueKeysWithValues: reference.map { ($0.id, $0) })
    var em = 0.0
    var f1 = 0.0
    for p in preds {
      let r = try #require(byId[p.id])
      #expect(p.prediction == r.prediction, "question \(r.index)")
      #expect(p.span?.start == r.start && p.span?.end == r.end && p.span?.feature == r.feature, "question \(r.index)")
      #expect(p.features == r.features, "question \(r.index)")
      em += r.em
      f1 += r.f1
    }
    #expect(preds.count == qs.count)
    #expect(abs(res.em - 100 * em / Double(qs.count)) < 1e-9)
    #expect(abs(res.f1 - 100 * f1 / Double(qs.count)) < 1e-3)
  }
}

/// The real minilm-squad checkpoint through the evaluator, against the transformers reference predictions.
@Suite(.enabled(if: Heavy.squadReady, "needs ../shared models and data (SPIQA_SHARED)"))
struct SquadModelTests {
  @Test func first20WithPythonTokens() throws {
    let table = try JSONDecoder().decode([String: [Int]].self, from: TestSupport.fixture("squad_tokens_first20.json"))
    let data = try SquadDataset(path: try #require(Heavy.squadData))
    try Heavy.checkSquad(
      Array(data.questions.prefix(20)), tokenizer: LookupTokenizer(table: table),
      reference: Heavy.lines("squad_reference_first1000.jsonl", as: ReferencePrediction.self))
  }

  @Test func first20WithOurTokenizer() throws {
    let data = try SquadDataset(path: try #require(Heavy.squadData))
    try Heavy.checkSquad(
      Array(data.questions.prefix(20)), tokenizer: loadTaskTokenizer(directory: try #require(Heavy.squadModel)),
      reference: Heavy.lines("squad_reference_first1000.jsonl", as: ReferencePrediction.self))
  }

  /// Ten of the paper's 100 questions: other articles, and all four whose contexts need several features.
  @Test func paperSampleSubset() throws {
    let data = try SquadDataset(path: try #require(Heavy.squadData))
    let idx = try Selection(samples: 100, limit: nil, offset: nil).indices(count: data.questions.count)
    let ref = try Heavy.lines("squad_reference_paper100.jsonl", as: ReferencePrediction.self)
    #expect(ref.map(\.index) == idx)
    let chosen = Array(idx.prefix(6)) + [57, 68, 79, 86].map { idx[$0] }
    try Heavy.checkSquad(
      chosen.map { data.questions[$0] }, tokenizer: loadTaskTokenizer(directory: try #require(Heavy.squadModel)),
      reference: ref)
  }
}

/// The real minilm-sst2 checkpoint against transformers (predictions and logits of the first 40 sentences).
@Suite(.enabled(if: Heavy.sst2Ready, "needs ../shared models and data (SPIQA_SHARED)"))
struct SST2ModelTests {
  @Test func first40() throws {
    let dir = try #require(Heavy.sst2Model)
    let data = try SST2Dataset(path: try #require(Heavy.sst2Data))
    let model = try EncoderTaskModel(directory: dir, maxBatch: 20, maxSeqLen: 128)
    var preds: [SST2Prediction] = []
    let res = try SST2Evaluator(model: model, tokenizer: loadTaskTokenizer(directory: dir))
      .evaluate(Array(data.examples.prefix(40)), perExample: { preds.append($0) })
    let ref = try Heavy.lines("sst2_reference_predictions.jsonl", as: ReferenceSST2.self).prefix(40)
    #expect(preds.count == ref.count)
    for (p, r) in zip(preds, ref) {
      #expect(p.prediction == r.prediction, "sentence \(r.index)")
      #expect(p.logits.count == r.logits.count, "sentence \(r.index)")
      for (a, b) in zip(p.logits, r.logits) { #expect(abs(a - b) < 1e-3, "sentence \(r.index)") }
    }
    #expect(res.correct == ref.filter { $0.prediction == $0.label }.count)
  }
}
