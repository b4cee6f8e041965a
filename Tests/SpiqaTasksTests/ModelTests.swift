import Foundation
import Testing

import SpiqaTasks

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

/// One line of squad_reference_first1000.jsonl (scripts/squad_reference.py).
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

enum Heavy {
  static var squadModel: String? { TestSupport.sharedFile("models/minilm-squad/model.safetensors").map { _ in TestSupport.shared! + "/models/minilm-squad" } }
  static var sst2Model: String? { TestSupport.sharedFile("models/minilm-sst2/model.safetensors").map { _ in TestSupport.shared! + "/models/minilm-sst2" } }
  static var squadData: String? { TestSupport.sharedFile("data/squad/dev-v1.1.json") }
  static var sst2Data: String? { TestSupport.sharedFile("data/glue/SST-2/dev.tsv") }

  static func reference(_ name: String) throws -> [ReferencePrediction] {
    let text = String(decoding: try TestSupport.fixture(name), as: UTF8.self)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(ReferencePrediction.self, from: Data($0.utf8)) }
  }
}

/// The real minilm-squad checkpoint through the evaluator, against the transformers reference predictions.
@Suite(.enabled(if: Heavy.squadModel != nil && Heavy.squadData != nil, "needs ../shared models and data (SPIQA_SHARED)"))
struct SquadModelTests {
  @Test func first20MatchTransformersWithPythonTokens() throws {
    let table = try JSONDecoder().decode([String: [Int]].self, from: TestSupport.fixture("squad_tokens_first20.json"))
    let data = try SquadDataset(path: try #require(Heavy.squadData))
    let qs = Array(data.questions.prefix(20))
    let model = try EncoderTaskModel(directory: try #require(Heavy.squadModel), maxBatch: 4, maxSeqLen: 320)
    var preds: [SquadPrediction] = []
    let res = try SquadEvaluator(model: model, tokenizer: LookupTokenizer(table: table))
      .evaluate(qs, perExample: { preds.append($0) })
    let ref = try Heavy.reference("squad_reference_first1000.jsonl").prefix(20)
    for (p, r) in zip(preds, ref) {
      #expect(p.id == r.id)
      #expect(p.prediction == r.prediction, "question \(r.index)")
      #expect(p.span?.start == r.start && p.span?.end == r.end && p.span?.feature == r.feature, "question \(r.index)")
      #expect(p.features == r.features)
    }
    #expect(abs(res.em - ref.reduce(0) { $0 + $1.em } * 5) < 1e-9)
    #expect(abs(res.f1 - ref.reduce(0) { $0 + $1.f1 } * 5) < 1e-4)
  }
}
