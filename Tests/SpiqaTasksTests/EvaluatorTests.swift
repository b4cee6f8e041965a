import Foundation
import SpiqaQuant
import Testing

import SpiqaTasks

/// Evaluator plumbing with a stand-in model: pruning, on-the-fly quantization, sparsity, replay round trips.
@Suite struct EvaluatorTests {
  static func questions() throws -> [SquadQuestion] {
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    var paragraphs: [String] = []
    for p in 0..<3 {
      let context = (0..<(18 + 9 * p)).map { words[($0 * 7 + p) % words.count] }.joined(separator: " ")
      paragraphs.append(
        """
        {"context": "\(context)", "qas": [{"id": "p\(p)a", "question": "what gamma \(p)?", "answers": [{"text": "gamma"}]},
        {"id": "p\(p)b", "question": "which zeta?", "answers": [{"text": "zeta eta"}]}]}
        """)
    }
    let json = "{\"data\": [{\"paragraphs\": [\(paragraphs.joined(separator: ","))]}]}"
    return try SquadDataset(json: Data(json.utf8)).questions
  }

  static let featurizer = SquadFeaturizer(maxSeqLen: 40, docStride: 12, maxQueryLen: 8)

  func run(
    _ model: FakeModel, _ qs: [SquadQuestion], transform: AttentionTransform = .identity,
    replay: ReplayStore? = nil
  ) throws -> ([SquadPrediction], SquadEvaluation) {
    var preds: [SquadPrediction] = []
    let ev = SquadEvaluator(
      model: model, tokenizer: ToyTokenizer(), featurizer: Self.featurizer, transform: transform, replay: replay)
    let result = try ev.evaluate(qs, perExample: { preds.append($0) })
    return (preds, result)
  }

  /// Replay records of every call of `model`, in evaluation order.
  func records(_ model: FakeModel, _ qs: [SquadQuestion], transform: (inout [Float]) throws -> Void = { _ in })
    throws -> [ReplayRecord]
  {
    var out: [ReplayRecord] = []
    for (call, q) in qs.enumerated() {
      let keys = model.calls[call].lengths.indices.map { RecordKey(exampleId: q.id, exampleIndex: q.index, feature: $0) }
      for var r in model.records(call: call, keys: keys) {
        try transform(&r.values)
        out.append(r)
      }
    }
    return out
  }

  func store(_ records: [ReplayRecord]) -> ReplayStore {
    var it = records.makeIterator()
    return ReplayStore(source: "test") { it.next() }
  }

  @Test func exactAndMultiFeature() throws {
    let qs = try Self.questions()
    let model = FakeModel()
    let (preds, result) = try run(model, qs)
    #expect(preds.count == 6)
    #expect(result.n == 6)
    #expect(preds.contains { $0.features > 1 })
    #expect(result.features == preds.reduce(0) { $0 + $1.features })
    #expect(result.sparsity.overall == 0)  // the stand-in's attention has no exact zeros
    let em = preds.reduce(0) { $0 + $1.em } / 6 * 100
    #expect(abs(result.em - em) < 1e-9)
  }

  @Test func pruningCountsZeros() throws {
    let qs = try Self.questions()
    let model = FakeModel()
    let (_, result) = try run(model, qs, transform: AttentionTransform(threshold: 0.05))
    // Recount from what the model actually used.
    var zeros = 0
    var total = 0
    for (call, layers) in model.seen.enumerated() {
      let c = model.calls[call]
      for l in layers {
        for (row, n) in c.lengths.enumerated() {
          for h in 0..<model.headCount {
            for r in 0..<n {
              for k in 0..<n {
                total += 1
                if l[((row * model.headCount + h) * c.t + r) * c.t + k] == 0 { zeros += 1 }
                #expect(l[((row * model.headCount + h) * c.t + r) * c.t + k] == 0
                  || l[((row * model.headCount + h) * c.t + r) * c.t + k] > 0.05)
              }
            }
          }
        }
      }
    }
    #expect(zeros > 0)
    #expect(abs(result.sparsity.overall - Double(zeros) / Double(total)) < 1e-12)
  }

  /// Attention recorded while pruning, replayed into a run that prunes nothing, gives the pruned run (not the exact
  /// one the model would compute).
  @Test func replayOfPrunedAttentionGivesThePrunedRun() throws {
    let qs = try Self.questions()
    let (exact, _) = try run(FakeModel(), qs)
    let live = FakeModel()
    let (pruned, prunedResult) = try run(live, qs, transform: AttentionTransform(threshold: 0.05))
    #expect(pruned != exact)
    let replayed = FakeModel()
    let (preds, result) = try run(replayed, qs, replay: store(try records(live, qs)))
    #expect(preds == pruned)
    #expect(replayed.seen == live.seen)
    #expect(result.sparsity.overall == prunedResult.sparsity.overall)
    // Any order of records works.
    let shuffled = FakeModel()
    let (preds2, _) = try run(shuffled, qs, replay: store(try records(live, qs).reversed()))
    #expect(preds2 == pruned)
  }

  @Test(arguments: [QuantMethod.linearSlogClampedMidval, .linearSlinear, .linearSlogMidval])
  func replayOfOfflineQuantizationEqualsOnTheFly(method: QuantMethod) throws {
    let qs = try Self.questions()
    let q = try AttentionQuantizer(method: method, bits: 3)
    let onTheFly = FakeModel()
    let (live, _) = try run(onTheFly, qs, transform: AttentionTransform(quantizer: q))
    let base = FakeModel()
    _ = try run(base, qs)
    let quantized = try records(base, qs) { try q.apply(&$0) }
    let replayed = FakeModel()
    let (preds, _) = try run(replayed, qs, replay: store(quantized))
    #expect(preds == live)
    #expect(replayed.seen == onTheFly.seen)
  }

  @Test func replayMismatches() throws {
    let qs = try Self.questions()
    let base = FakeModel()
    _ = try run(base, qs)
    var recs = try records(base, qs)
    recs[0].n += 1
    #expect(throws: TasksError.self) { try run(FakeModel(), qs, replay: store(recs)) }
    recs = try records(base, qs)
    recs[0].values.removeLast()
    #expect(throws: TasksError.self) { try run(FakeModel(), qs, replay: store(recs)) }
    recs = try records(base, qs)
    recs[0].tokenIds?[1] += 1
    #expect(throws: TasksError.self) { try run(FakeModel(), qs, replay: store(recs)) }
    recs = try records(base, qs)
    recs[0].layers = [0, 7]
    #expect(throws: TasksError.self) { try run(FakeModel(), qs, replay: store(recs)) }
    recs = try records(base, qs)
    recs.removeLast()
    do {
      _ = try run(FakeModel(), qs, replay: store(recs))
      Issue.record("a missing record must fail")
    } catch let e as TasksError {
      #expect(e.exitCode == 65)
      #expect(e.description.contains(qs[5].id))
    }
  }

  @Test func sst2BatchesAndReplay() throws {
    let ds = try SST2Dataset(
      text: "sentence\tlabel\n" + (0..<7).map { "word\($0) alpha beta\(String(repeating: " gamma", count: $0))\t\($0 % 2)" }
        .joined(separator: "\n"))
    let model = FakeModel()
    var preds: [SST2Prediction] = []
    let pruning = AttentionTransform(threshold: 0.1)
    let ev = SST2Evaluator(model: model, tokenizer: ToyTokenizer(), transform: pruning, batchSize: 3)
    let result = try ev.evaluate(ds.examples, perExample: { preds.append($0) })
    var exact: [SST2Prediction] = []
    _ = try SST2Evaluator(model: FakeModel(), tokenizer: ToyTokenizer(), batchSize: 3)
      .evaluate(ds.examples, perExample: { exact.append($0) })
    #expect(exact != preds)
    #expect(model.calls.map { $0.lengths.count } == [3, 3, 1])
    #expect(model.calls[0].t == model.calls[0].lengths.max())
    #expect(result.n == 7)
    #expect(result.correct == preds.filter { $0.label == $0.prediction }.count)
    var recs: [ReplayRecord] = []
    for (call, c) in model.calls.enumerated() {
      let keys = c.lengths.indices.map { i -> RecordKey in
        let idx = call * 3 + i
        return RecordKey(exampleId: "sst2-\(idx)", exampleIndex: idx, feature: 0)
      }
      recs += model.records(call: call, keys: keys)
    }
    var it = recs.makeIterator()
    let replayed = FakeModel()
    var preds2: [SST2Prediction] = []
    _ = try SST2Evaluator(
      model: replayed, tokenizer: ToyTokenizer(), replay: ReplayStore(source: "t") { it.next() }, batchSize: 3
    ).evaluate(ds.examples, perExample: { preds2.append($0) })
    #expect(preds2 == preds)  // the pruned run's logits, from an evaluator that prunes nothing
    #expect(replayed.seen == model.seen)
  }

  @Test func hiddenStateHooks() throws {
    let qs = try Self.questions()
    let model = FakeModel()
    _ = try run(model, Array(qs.prefix(1)), transform: AttentionTransform(hsThreshold: 0.1, hsBits: 8))
    #expect(model.hiddenCalls == model.layerCount)
  }
}
