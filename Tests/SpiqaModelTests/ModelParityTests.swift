import Foundation
import Testing

import SpiqaCore
import SpiqaModel

/// Parity with Hugging Face transformers (eager attention), references from scripts/make_model_fixtures.py.
/// Tolerances (docs/runtime.md): attention ≤ 1e-5 absolute; hidden states and logits ≤ 1e-4 relative
/// (|a − b| ≤ 1e-4 · max(|b|, 1)).
@Suite("ModelParity")
struct ModelParityTests {
  struct Deviations {
    var attention = Deviation()
    var hidden = Deviation()
    var logits = Deviation()
    var paddedNonZero = 0

    func check(_ label: String) {
      #expect(attention.count + hidden.count + logits.count > 0, "\(label): nothing compared")
      #expect(attention.maxAbs <= 1e-5, "\(label) attention: \(attention)")
      #expect(hidden.maxRel <= 1e-4, "\(label) hidden states: \(hidden)")
      #expect(logits.maxRel <= 1e-4, "\(label) logits: \(logits)")
      #expect(paddedNonZero == 0, "\(label): \(paddedNonZero) non-zero attention values on padded rows/columns")
      print("parity \(label): attention \(attention); hidden \(hidden); logits \(logits)")
    }
  }

  /// Runs every batch of `bundle` through `encoder` and compares what the bundle stores.
  static func compare(_ bundle: ReferenceBundle, encoder: Encoder) throws -> Deviations {
    var dev = Deviations()
    let c = encoder.config, heads = c.numHeads, hsz = c.hiddenSize
    let projection = bundle.has("proj") ? try bundle.array("proj").values : nil
    let batchMeta = try #require(bundle.meta["batches"] as? [[String: Any]])
    for (k, batch) in try bundle.batches(padTokenId: c.padTokenId).enumerated() {
      let recorder = AttentionRecorder()
      let out = try encoder.forward(batch, hooks: recorder.hooks, outputHiddenStates: true)
      let t = batch.seqLen
      let hidden = try #require(out.hiddenStates)
      #expect(hidden.count == c.numLayers + 1)
      #expect(recorder.layers.count == c.numLayers)
      for (b, n) in batch.lengths.enumerated() {
        let p = "batch\(k).item\(b)"
        // Attention: the real block (or selected rows of it); padding must be exactly 0.
        let rows = batchMeta[k]["attn_rows"] as? [Int] ?? Array(0..<n)
        var mine: [Float] = []
        for layer in recorder.layers {
          for h in 0..<heads {
            let m = layer[((b * heads + h) * t * t)...].prefix(t * t)
            for r in rows { mine += m[(m.startIndex + r * t)..<(m.startIndex + r * t + n)] }
            for r in 0..<t { for col in 0..<t where r >= n || col >= n { if m[m.startIndex + r * t + col] != 0 { dev.paddedNonZero += 1 } } }
          }
        }
        let refAttn = try bundle.array(p + (bundle.has(p + ".attn") ? ".attn" : ".attn_rows")).values
        dev.attention.add(mine, refAttn)
        // Hidden states of the real tokens: all of them, or three rows plus projections of every row.
        let items = hidden.map { $0[(b * t * hsz)..<((b * t + n) * hsz)] }
        if bundle.has(p + ".hidden") {
          dev.hidden.add(items.flatMap { $0 }, try bundle.array(p + ".hidden").values)
        } else {
          dev.hidden.add(items.flatMap { rowsOf($0, width: hsz, rows: [0, n / 2, n - 1]) },
                         try bundle.array(p + ".hidden_rows").values)
          let proj = try #require(projection)
          // Projections onto unit directions p/‖p‖: an error of ε per element shows up as ~ε, not ε·‖p‖.
          let dims = proj.count / hsz
          let norms = (0..<dims).map { q in (0..<hsz).reduce(0.0) { $0 + Double(proj[$1 * dims + q] * proj[$1 * dims + q]) }.squareRoot() }
          var projected: [Float] = []
          for item in items {
            for r in 0..<n {
              for q in 0..<dims {
                var s = 0.0
                for j in 0..<hsz { s += Double(item[item.startIndex + r * hsz + j]) * Double(proj[j * dims + q]) }
                projected.append(Float(s / norms[q]))
              }
            }
          }
          let reference = try bundle.array(p + ".hidden_proj").values.enumerated().map { $1 / Float(norms[$0 % dims]) }
          dev.hidden.add(projected, reference)
        }
        dev.hidden.add(out.meanPooled[b], try bundle.array(p + ".mean").values)
        if bundle.has(p + ".start") {
          dev.logits.add(try #require(out.startLogits)[b].prefix(n), try bundle.array(p + ".start").values)
          dev.logits.add(try #require(out.endLogits)[b].prefix(n), try bundle.array(p + ".end").values)
        }
      }
      if bundle.has("batch\(k).logits") {
        dev.logits.add(try #require(out.logits).flatMap { $0 }, try bundle.array("batch\(k).logits").values)
      }
    }
    return dev
  }

  @Test("tiny random checkpoints (F32, F16, BF16)",
        arguments: ["tiny-bert-qa-f32", "tiny-bert-qa-f16", "tiny-roberta-cls-f32", "tiny-roberta-cls-f16",
                    "tiny-roberta-cls-bf16"])
  func tiny(name: String) throws {
    let dir = try #require(fixtureDirectory)
    let encoder = try Encoder(directory: dir + "/" + name, maxBatch: 4, maxSeqLen: 32)
    if name.contains("bert-qa") { #expect(encoder.head == .questionAnswering) }
    if name.contains("roberta-cls") {
      #expect(encoder.head == .sequenceClassification(labels: ["LABEL_0", "LABEL_1", "LABEL_2"]))
    }
    try Self.compare(ReferenceBundle(name), encoder: encoder).check(name)
  }

  @Test("hidden_act gelu_new and relu (tiny BERT weights, config rewritten)", arguments: ["gelu_new", "relu"])
  func activations(act: String) throws {
    let src = try #require(fixtureDirectory) + "/tiny-bert-qa-f32"
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-act-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: src + "/model.safetensors", toPath: dir + "/model.safetensors")
    let data = try Data(contentsOf: URL(fileURLWithPath: src + "/config.json"))
    var config = try #require(try JSONValue(parsing: [UInt8](data)).objectValue)
    config["hidden_act"] = .string(act)
    try Data(JSONValue.object(config).jsonBytes).write(to: URL(fileURLWithPath: dir + "/config.json"))
    let encoder = try Encoder(directory: dir, maxBatch: 4, maxSeqLen: 32)
    #expect(encoder.config.hiddenAct == (act == "relu" ? .relu : .geluTanh))
    let name = "tiny-bert-qa-f32-" + act.replacingOccurrences(of: "_", with: "-")
    try Self.compare(ReferenceBundle(name), encoder: encoder).check(name)
  }

  @Test("all-MiniLM-L6-v2: 24 sentences in padded batches of 8 and an 86-token paragraph",
        .enabled(if: miniLMDirectory != nil, "all-MiniLM-L6-v2 not found (set SPIQA_MODEL or run make model)"))
  func miniLM() throws {
    let encoder = try Encoder(directory: try #require(miniLMDirectory), maxBatch: 8, maxSeqLen: 128)
    #expect(encoder.head == .none)
    try Self.compare(ReferenceBundle("minilm"), encoder: encoder).check("all-MiniLM-L6-v2")
  }

  @Test("minilm-sst2 (F16 weights): SST-2 dev logits",
        .enabled(if: sharedDirectory != nil, "../shared not found (set SPIQA_SHARED)"))
  func sst2() throws {
    let encoder = try Encoder(directory: try #require(sharedDirectory) + "/models/minilm-sst2", maxBatch: 8,
                              maxSeqLen: 128)
    #expect(encoder.head == .sequenceClassification(labels: ["negative", "positive"]))
    try Self.compare(ReferenceBundle("minilm-sst2"), encoder: encoder, logitsOnly: true).check("minilm-sst2")
  }

  @Test("minilm-squad (F16 weights): QA start/end logits",
        .enabled(if: sharedDirectory != nil, "../shared not found (set SPIQA_SHARED)"))
  func squad() throws {
    let encoder = try Encoder(directory: try #require(sharedDirectory) + "/models/minilm-squad", maxBatch: 4,
                              maxSeqLen: 320)
    #expect(encoder.head == .questionAnswering)
    try Self.compare(ReferenceBundle("minilm-squad"), encoder: encoder, logitsOnly: true).check("minilm-squad")
  }
}

extension ModelParityTests {
  /// Logits only (the fine-tuned checkpoints' fixtures store nothing else).
  static func compare(_ bundle: ReferenceBundle, encoder: Encoder, logitsOnly: Bool) throws -> Deviations {
    guard logitsOnly else { return try compare(bundle, encoder: encoder) }
    var dev = Deviations()
    for (k, batch) in try bundle.batches(padTokenId: encoder.config.padTokenId).enumerated() {
      let out = try encoder.forward(batch)
      if bundle.has("batch\(k).logits") {
        dev.logits.add(try #require(out.logits).flatMap { $0 }, try bundle.array("batch\(k).logits").values)
      }
      for (b, n) in batch.lengths.enumerated() where bundle.has("batch\(k).item\(b).start") {
        dev.logits.add(try #require(out.startLogits)[b].prefix(n), try bundle.array("batch\(k).item\(b).start").values)
        dev.logits.add(try #require(out.endLogits)[b].prefix(n), try bundle.array("batch\(k).item\(b).end").values)
      }
    }
    #expect(dev.logits.count > 0, "no logits compared")
    return dev
  }
}
