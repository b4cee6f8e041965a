import Foundation
import SpiqaIO
import SpiqaQuant
import Testing

import SpiqaCore
import SpiqaTasks

/// Replay from a real SpiqaIO record stream (written with RecordWriter, read back through ReplayStore).
@Suite struct StreamReplayTests {
  func write(_ records: [ReplayRecord], to path: String, dtype: NPYDType = .float32) throws {
    let w = try RecordWriter(path: path)
    try w.writeHeader(["spiqa": 1, "kind": "stream", "producer": "test"])
    for r in records {
      var meta: JSONObject = [
        "spiqa": 1, "kind": "attention", "feature": .int(r.feature), "n": .int(r.n),
        "shape": JSONValue([r.layers.count, r.heads.count, r.n, r.n]), "layers": JSONValue(r.layers),
        "heads": JSONValue(r.heads), "dtype": .string(dtype.rawValue),
      ]
      if let id = r.exampleId { meta["example_id"] = .string(id) }
      if let i = r.exampleIndex { meta["example_index"] = .int(i) }
      if let t = r.tokenIds { meta["token_ids"] = JSONValue(t) }
      try w.write(meta: ["spiqa": 1, "kind": "hidden_states", "example_id": "skip"], array: NPYArray(float32: [1], shape: [1]))
      let array = dtype == .float16
        ? NPYArray(float16: r.values, shape: [r.layers.count, r.heads.count, r.n, r.n])
        : NPYArray(float32: r.values, shape: [r.layers.count, r.heads.count, r.n, r.n])
      try w.write(meta: meta, array: array)
    }
    try w.close()
  }

  /// Quantized attention through a file replays to the quantized run, not the exact one.
  @Test func roundTripThroughAFile() throws {
    let qs = try EvaluatorTests.questions()
    let t = EvaluatorTests()
    let (exact, _) = try t.run(FakeModel(), qs)
    let live = FakeModel()
    let q = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 2)
    let (quantized, _) = try t.run(live, qs, transform: AttentionTransform(quantizer: q))
    #expect(quantized != exact)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-replay-\(UUID()).spq").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try write(try t.records(live, qs), to: path)
    let replayed = FakeModel()
    let (preds, _) = try t.run(replayed, qs, replay: try ReplayStore(streamPath: path))
    #expect(preds == quantized)
    #expect(replayed.seen == live.seen)
  }

  /// Two records for one feature would make which one replays arbitrary; a layer listed twice likewise.
  @Test func duplicatesAreRefused() throws {
    let r = ReplayRecord(exampleId: "a", exampleIndex: 0, feature: 0, n: 2, layers: [0], heads: [0],
                         tokenIds: nil, values: [0.5, 0.5, 0.5, 0.5], origin: "t")
    var other = r
    other.exampleId = "b"
    other.exampleIndex = 1
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-replay-\(UUID()).spq").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try write([r, r, other], to: path)
    let store = try ReplayStore(streamPath: path)
    _ = try store.record(for: RecordKey(exampleId: "a", exampleIndex: 0, feature: 0))
    let e = try #require(throws: TasksError.self) {
      try store.record(for: RecordKey(exampleId: "b", exampleIndex: 1, feature: 0))
    }
    #expect(e.description.contains("a second attention record for id a, feature 0"), "\(e.description)")
    let meta: JSONObject = ["kind": "attention", "example_id": "x", "n": 1, "layers": [0, 0], "heads": [0]]
    #expect(throws: TasksError.self) {
      try ReplayRecord(meta: meta, array: NPYArray(float32: [1, 1], shape: [2, 1, 1, 1]), origin: "t")
    }
  }

  /// A store restricted to a run's examples holds none of the others' records: the shard's own record is served
  /// after reading past them, another's is not there.
  @Test func restrictedStoreKeepsOnlyTheRunsRecords() throws {
    let records = (0..<4).map { (i: Int) in
      ReplayRecord(exampleId: "e\(i)", exampleIndex: i, feature: 0, n: 1, layers: [0], heads: [0], tokenIds: nil,
                   values: [1], origin: "t")
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-replay-\(UUID()).spq").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try write(records, to: path)
    let store = try ReplayStore(streamPath: path)
    store.restrict(toExampleIds: ["e3"], indices: [3])
    #expect(try store.streamTransform() != nil)
    #expect(try store.record(for: RecordKey(exampleId: "e3", exampleIndex: 3, feature: 0)).exampleIndex == 3)
    #expect(throws: TasksError.self) { try store.record(for: RecordKey(exampleId: "e1", exampleIndex: 1, feature: 0)) }
  }

  @Test func shapeDisagreesWithMetadata() throws {
    let meta: JSONObject = ["spiqa": 1, "kind": "attention", "example_id": "x", "n": 3, "layers": [0], "heads": [0, 1]]
    #expect(throws: TasksError.self) {
      try ReplayRecord(meta: meta, array: NPYArray(float32: [Float](repeating: 0, count: 9), shape: [1, 1, 3, 3]), origin: "t")
    }
    #expect(throws: TasksError.self) {
      try ReplayRecord(meta: ["kind": "attention", "n": 1], array: NPYArray(float32: [0], shape: [1, 1, 1, 1]), origin: "t")
    }
  }
}
