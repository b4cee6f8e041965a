import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaQuant
import SpiqaModel
import SpiqaTasks
import Testing

/// Wraps a task model and keeps the attention each layer actually used (after the evaluation's own hooks),
/// trimmed to the real n×n block per row: what spiqa-extract records.
final class RecordingModel: TaskModel {
  let inner: TaskModel
  /// Per call: per row: [layers, heads, n, n] values, and the row's length and ids.
  var calls: [[(n: Int, ids: [Int], values: [Float])]] = []

  init(_ inner: TaskModel) { self.inner = inner }
  var layerCount: Int { inner.layerCount }
  var headCount: Int { inner.headCount }
  var maxPositions: Int { inner.maxPositions }

  func wrap(_ batch: TaskBatch, _ hooks: ForwardHooks) -> ForwardHooks {
    var rows = batch.lengths.indices.map { (n: batch.lengths[$0], ids: Array(batch.inputIds[$0].prefix(batch.lengths[$0])), values: [Float]()) }
    calls.append([])
    let call = calls.count - 1
    var h = hooks
    let original = hooks.attention
    h.attention = { [unowned self] layer, probs, d in
      try original?(layer, probs, d)
      for b in 0..<d.batch {
        let n = d.lengths[b]
        for head in 0..<d.heads {
          let base = (b * d.heads + head) * d.seqLen * d.seqLen
          for r in 0..<n { rows[b].values += probs[(base + r * d.seqLen)..<(base + r * d.seqLen + n)] }
        }
      }
      if layer == self.layerCount - 1 { self.calls[call] = rows }
    }
    return h
  }

  func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]]) {
    try inner.questionAnswering(batch, hooks: wrap(batch, hooks))
  }
  func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] {
    try inner.classify(batch, hooks: wrap(batch, hooks))
  }

  /// Write the recorded attention of SQuAD `questions` (one call each) as a SpiqaIO stream, optionally transformed;
  /// `recordedWith` is the transform the recording ran under, written into each record as spiqa-extract does (a
  /// transformed record replays through the row-groups kernel like the run that recorded it).
  func writeStream(
    questions: [SquadQuestion], to path: String, dtype: NPYDType = .float32, recordedWith: AttentionTransform? = nil,
    transform: (inout [Float]) throws -> Void = { _ in }
  ) throws {
    let w = try RecordWriter(path: path, compression: .fast)
    try w.writeHeader(["spiqa": 1, "kind": "stream", "producer": "ReplayModelTests"])
    #expect(questions.count == calls.count, "one recorded call per question")
    for (q, rows) in zip(questions, calls) {
      for (f, row) in rows.enumerated() {
        var values = row.values
        try transform(&values)
        let shape = [layerCount, headCount, row.n, row.n]
        var meta: JSONObject = [
          "spiqa": 1, "kind": "attention", "example_id": .string(q.id), "example_index": .int(q.index),
          "feature": .int(f), "n": .int(row.n), "shape": JSONValue(shape), "layers": JSONValue(Array(0..<layerCount)),
          "heads": JSONValue(Array(0..<headCount)), "dtype": .string(dtype.rawValue), "token_ids": JSONValue(row.ids),
        ]
        if let recordedWith { TransformMetadata.extractedRecord.write(recordedWith, into: &meta) }
        try w.write(
          meta: meta,
          array: dtype == .float16 ? NPYArray(float16: values, shape: shape) : NPYArray(float32: values, shape: shape))
      }
    }
    try w.close()
  }
}

/// Extract → replay with the real checkpoint. Every replayed stream holds attention the exact model does not compute
/// (pruned or quantized on the fly), so a replay that did nothing would give the exact scores and fail.
@Suite(.enabled(if: Heavy.squadReady, "needs ../shared models and data (SPIQA_SHARED)"))
struct ReplayModelTests {
  static func setup() throws -> (questions: [SquadQuestion], tokenizer: TaskTokenizer, dir: String) {
    let dir = try #require(Heavy.squadModel)
    let data = try SquadDataset(path: try #require(Heavy.squadData))
    // Two short questions and one whose context needs three features (answer in the third; paper sample).
    let qs = [data.questions[0], data.questions[857], data.questions[4290]]
    return (qs, try loadTaskTokenizer(directory: dir), dir)
  }

  func evaluate(_ dir: String, _ qs: [SquadQuestion], _ tok: TaskTokenizer, transform: AttentionTransform = .identity,
                replay: ReplayStore? = nil, record: Bool = false) throws -> ([SquadPrediction], RecordingModel)
  {
    let model = RecordingModel(try EncoderTaskModel(directory: dir, maxBatch: 4, maxSeqLen: 320))
    var preds: [SquadPrediction] = []
    _ = try SquadEvaluator(model: model, tokenizer: tok, transform: transform, replay: replay)
      .evaluate(qs, perExample: { preds.append($0) })
    return (preds, model)
  }

  func tempPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-tasks-\(UUID()).spq.gz").path
  }

  /// Attention recorded while pruning on the fly, replayed into a run that prunes nothing: the model uses the
  /// replayed attention in every layer, so the scores are the pruned run's, not the exact ones.
  @Test func replayedPrunedAttentionGivesThePrunedRun() throws {
    let (qs, tok, dir) = try Self.setup()
    let (exact, _) = try evaluate(dir, qs, tok)
    let (pruned, prunedRec) = try evaluate(dir, qs, tok, transform: AttentionTransform(threshold: 0.05))
    #expect(exact.contains { $0.features > 1 })
    #expect(pruned != exact)
    let path = tempPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    try prunedRec.writeStream(questions: qs, to: path, recordedWith: AttentionTransform(threshold: 0.05))
    let (replayed, replayedRec) = try evaluate(dir, qs, tok, replay: try ReplayStore(streamPath: path))
    #expect(replayed == pruned)  // same spans and bit-identical scores
    #expect(replayed != exact)
    // What the model used is the recording, value for value (the recorder sees it after the hooks).
    #expect(replayedRec.calls.map { $0.map(\.values) } == prunedRec.calls.map { $0.map(\.values) })
  }

  /// Offline quantization of exact attention equals on-the-fly quantization only where the inputs agree: layer 0.
  /// Later layers differ because on the fly they see hidden states computed from quantized attention upstream, so
  /// the replay that reproduces on-the-fly scores is the one of attention recorded while quantizing on the fly.
  @Test func quantizedRecordingReplaysOnTheFlyExactly() throws {
    let (qs, tok, dir) = try Self.setup()
    let q = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    let (live, liveRec) = try evaluate(dir, qs, tok, transform: AttentionTransform(quantizer: q))
    let (exact, exactRec) = try evaluate(dir, qs, tok)
    #expect(live != exact)
    // Layer 0: offline quantization of the exact record == what the on-the-fly run used, bit for bit.
    for (c, call) in exactRec.calls.enumerated() {
      for (r, row) in call.enumerated() {
        let layer0 = row.n * row.n * exactRec.headCount
        var offline = Array(row.values.prefix(layer0))
        try q.apply(&offline)
        #expect(offline == Array(liveRec.calls[c][r].values.prefix(layer0)))
      }
    }
    // The attention recorded on the fly (spiqa-extract --method) replays to the on-the-fly scores exactly.
    let path = tempPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    try liveRec.writeStream(questions: qs, to: path, recordedWith: AttentionTransform(quantizer: q))
    let (replayed, _) = try evaluate(dir, qs, tok, replay: try ReplayStore(streamPath: path))
    #expect(replayed == live)
    #expect(replayed != exact)
    // Re-quantizing that stream offline changes nothing (the log-pruned levels are fixed points).
    let path2 = tempPath()
    defer { try? FileManager.default.removeItem(atPath: path2) }
    try liveRec.writeStream(questions: qs, to: path2, recordedWith: AttentionTransform(quantizer: q)) { try q.apply(&$0) }
    let (requantized, _) = try evaluate(dir, qs, tok, replay: try ReplayStore(streamPath: path2))
    #expect(requantized == live)
    // Replay comes before the transform: the live recording replayed with the quantizer on again is a fixed point.
    let (again, _) = try evaluate(
      dir, qs, tok, transform: AttentionTransform(quantizer: q), replay: try ReplayStore(streamPath: path))
    #expect(again == live)
  }

  @Test func mismatchedStreamIsRejected() throws {
    let (qs, tok, dir) = try Self.setup()
    let (_, rec) = try evaluate(dir, Array(qs.prefix(1)), tok)
    let path = tempPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    // Records of question 0 presented as question 857: token count / ids differ.
    try rec.writeStream(questions: [qs[1]], to: path)
    #expect(throws: TasksError.self) {
      _ = try evaluate(dir, [qs[1]], tok, replay: try ReplayStore(streamPath: path))
    }
  }
}
