import Foundation
import Testing

import SpiqaCore
import SpiqaModel

/// Checkpoint folders: config.json fields, safetensors parsing, name mapping and the errors users see.
@Suite("Checkpoint")
struct CheckpointTests {
  /// A scratch copy of the tiny BERT checkpoint with `edit` applied to its tensors and `configEdit` to its config.
  static func variant(
    _ edit: (inout [(name: String, dtype: String, shape: [Int], bytes: [UInt8])]) -> Void = { _ in },
    configEdit: (inout JSONObject) -> Void = { _ in }
  ) throws -> String {
    let src = try #require(fixtureDirectory) + "/tiny-bert-qa-f32"
    let file = try SafetensorsFile(path: src + "/model.safetensors")
    var tensors = file.tensorNames.compactMap { name in
      file.rawTensor(name).map { (name: name, dtype: $0.dtype.rawValue, shape: $0.shape, bytes: Array($0.data)) }
    }
    edit(&tensors)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-ckpt-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try writeSafetensors(tensors, to: dir + "/model.safetensors")
    let configData = try Data(contentsOf: URL(fileURLWithPath: src + "/config.json"))
    var config = try #require(try JSONValue(parsing: [UInt8](configData)).objectValue)
    configEdit(&config)
    try Data(JSONValue.object(config).jsonBytes).write(to: URL(fileURLWithPath: dir + "/config.json"))
    return dir
  }

  static func writeSafetensors(_ tensors: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])], to path: String) throws {
    var header: JSONObject = ["__metadata__": ["format": "pt"]]
    var data: [UInt8] = []
    for t in tensors {
      header[t.name] = [
        "dtype": .string(t.dtype), "shape": JSONValue(t.shape), "data_offsets": [.int(data.count), .int(data.count + t.bytes.count)],
      ]
      data += t.bytes
    }
    try writeSafetensors(header: JSONValue.object(header).jsonBytes, data: data, to: path)
  }

  /// A safetensors file of a given header text (spaces pad it to 8 bytes, as the writers do).
  static func writeSafetensors(header: [UInt8], data: [UInt8], to path: String) throws {
    var json = header
    while json.count % 8 != 0 { json.append(0x20) }
    var out = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
    out += json
    out += data
    try Data(out).write(to: URL(fileURLWithPath: path))
  }

  /// The error `body` throws, as SpiqaModelError.
  func modelError(_ body: () throws -> Void) throws -> SpiqaModelError {
    do { try body() } catch let e as SpiqaModelError { return e }
    Issue.record("expected a SpiqaModelError")
    return SpiqaModelError(.other, "")
  }

  @Test("config.json of all-MiniLM-L6-v2 and the tiny RoBERTa")
  func config() throws {
    let dir = try #require(fixtureDirectory)
    let r = try ModelConfig(contentsOf: dir + "/tiny-roberta-cls-f32/config.json")
    #expect(r == ModelConfig(
      family: .roberta, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128, layerNormEps: 1e-5,
      maxPositions: 66, typeVocabSize: 1, padTokenId: 1, vocabSize: 512, hiddenAct: .gelu,
      architectures: ["RobertaForSequenceClassification"], labels: ["LABEL_0", "LABEL_1", "LABEL_2"]))
    #expect(r.maxSequenceLength == 64)
    if let m = miniLMDirectory {
      let c = try ModelConfig(contentsOf: m + "/config.json")
      #expect(c.family == .bert && c.hiddenSize == 384 && c.numLayers == 6 && c.numHeads == 12)
      #expect(c.intermediateSize == 1536 && c.layerNormEps == 1e-12 && c.typeVocabSize == 2 && c.vocabSize == 30522)
      #expect(c.architectures == ["BertModel"] && c.labels.isEmpty && c.maxSequenceLength == 512)
    }
  }

  @Test("config.json: integral floats are integers; absent or null fields take defaults; bad JSON is bad data")
  func configNumbers() throws {
    let base = #""model_type": "bert", "hidden_size": 64.0, "num_hidden_layers": 2, "num_attention_heads": 4, "#
      + #""intermediate_size": 128, "max_position_embeddings": 66, "vocab_size": 512"#
    let c = try ModelConfig(json: Data(("{" + base + #", "pad_token_id": null, "layer_norm_eps": 1e-5, "#
      + #""num_labels": 2.0, "id2label": {"1": "B", "0": "A"}}"#).utf8))
    #expect(c.hiddenSize == 64 && c.padTokenId == 0 && c.typeVocabSize == 2 && c.layerNormEps == 1e-5)
    #expect(c.labels == ["A", "B"] && c.hiddenAct == .gelu)
    #expect(try ModelConfig(json: Data(("{" + base + #", "num_labels": 3}"#).utf8)).labels.count == 3)
    for (bad, message) in [
      (#", "type_vocab_size": 2.5}"#, #"c.json: "type_vocab_size" missing or not an integer"#),
      (#", "is_decoder": true}"#, "c.json: decoder models (is_decoder: true) are not supported"),
      (#", }"#, "c.json: not valid JSON (object key is not a string at byte "),
    ] {
      let e = #expect(throws: SpiqaModelError.self) { try ModelConfig(json: Data(("{" + base + bad).utf8), source: "c.json") }
      #expect(e?.description.hasPrefix(message) == true, "\(e?.description ?? "")")
      #expect(e?.exitCode == 65)
    }
    let top = #expect(throws: SpiqaModelError.self) { try ModelConfig(json: Data("[]".utf8), source: "c.json") }
    #expect(top?.description == "c.json: expected a JSON object at the top level")
  }

  @Test("safetensors: names, dtypes and shapes from the header; non-float tensors listed but not served")
  func safetensors() throws {
    let dir = try Self.variant { $0.append((name: "bert.embeddings.position_ids", dtype: "I64", shape: [1, 2], bytes: Array(repeating: 0, count: 16))) }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let f = try SafetensorsFile(path: dir + "/model.safetensors")
    #expect(f.tensorNames.contains("qa_outputs.weight"))
    #expect(f.tensorNames == f.tensorNames.sorted())
    #expect(f.rawTensor("qa_outputs.weight")?.shape == [2, 64])
    #expect(f.rawTensor("qa_outputs.weight")?.dtype == .float32)
    #expect(f.rawTensor("bert.embeddings.position_ids") == nil)
    #expect(f.otherDTypes["bert.embeddings.position_ids"] == "I64")
    _ = try Encoder(directory: dir, maxBatch: 1, maxSeqLen: 8)
  }

  @Test("safetensors header: integral float shapes and offsets are integers; other JSON is an error")
  func safetensorsHeader() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let header = #"{"a": {"dtype": "F32", "shape": [2.0, 1], "data_offsets": [0, 8.0]}, "__metadata__": {"x": "y"}}"#
    try Self.writeSafetensors(header: Array(header.utf8), data: [UInt8](repeating: 0, count: 8), to: path)
    let f = try SafetensorsFile(path: path)
    #expect(f.tensorNames == ["a"] && f.rawTensor("a")?.shape == [2, 1])
    for bad in [#"{"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}"#, #"[1, 2]"#, #"{"a": 1,}"#] {
      try Self.writeSafetensors(header: Array(bad.utf8), data: [UInt8](repeating: 0, count: 8), to: path)
      let e = try modelError { _ = try SafetensorsFile(path: path) }
      #expect(e.exitCode == 65 && e.description.hasPrefix(path + ": "), "\(e)")
    }
  }

  @Test("a safetensors header over 100 MB and a num_labels of 10^9 are refused before anything is allocated")
  func headerAndLabelBounds() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    // A sparse file of 101 MB whose header length says 100,000,001 bytes.
    var length = UInt64(100_000_001).littleEndian
    _ = FileManager.default.createFile(atPath: path, contents: withUnsafeBytes(of: &length) { Data($0) })
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: 101_000_000)
    try handle.close()
    let e = try modelError { _ = try SafetensorsFile(path: path) }
    #expect(e.exitCode == 65 && e.description.contains("is more than 100000000 bytes"), "\(e)")
    let labels = try Self.variant(configEdit: { $0["num_labels"] = .int(1_000_000_000); $0["id2label"] = nil })
    defer { try? FileManager.default.removeItem(atPath: labels) }
    let e2 = try modelError { _ = try ModelConfig(contentsOf: labels + "/config.json") }
    #expect(e2.exitCode == 65 && e2.description.contains("num_labels 1000000000 is more than 1048576"), "\(e2)")
  }

  @Test("word embeddings of an integer type are named with their type, not reported missing")
  func integerWordEmbeddings() throws {
    let dir = try Self.variant { ts in
      if let i = ts.firstIndex(where: { $0.name == "bert.embeddings.word_embeddings.weight" }) {
        ts[i].dtype = "I64"
        ts[i].bytes += ts[i].bytes  // 8 bytes an element
      }
    }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let e = try modelError { _ = try Encoder(directory: dir, maxBatch: 1, maxSeqLen: 8) }
    #expect(e.exitCode == 65 && e.description.contains("\"bert.embeddings.word_embeddings.weight\" is I64; expected float32"),
            "\(e)")
  }

  @Test("F16 and BF16 upcasts are exact")
  func upcast() throws {
    let halves: [Float16] = [0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, .infinity]
    var bytes: [UInt8] = []
    for h in halves { withUnsafeBytes(of: h.bitPattern.littleEndian) { bytes += $0 } }
    let bf: [Float] = [1, -3.140625, 1e30, -1e-30]
    var bfBytes: [UInt8] = []
    for f in bf { withUnsafeBytes(of: UInt16(f.bitPattern >> 16).littleEndian) { bfBytes += $0 } }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-\(UUID().uuidString).safetensors").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Self.writeSafetensors([(name: "h", dtype: "F16", shape: [8], bytes: bytes),
                               (name: "b", dtype: "BF16", shape: [2, 2], bytes: bfBytes)], to: path)
    let f = try SafetensorsFile(path: path)
    let h = try #require(f.rawTensor("h")), b = try #require(f.rawTensor("b"))
    #expect(h.floats().map(\.bitPattern) == halves.map { Float($0).bitPattern })
    #expect(b.floats().map(\.bitPattern) == bf.map { $0.bitPattern & 0xFFFF_0000 })
  }

  @Test("missing tensor, wrong shape, truncated file: one-line errors naming the tensor or file")
  func weightErrors() throws {
    let missing = try Self.variant { $0.removeAll { $0.name == "bert.encoder.layer.1.output.dense.bias" } }
    defer { try? FileManager.default.removeItem(atPath: missing) }
    let e1 = try modelError { _ = try Encoder(directory: missing, maxBatch: 1, maxSeqLen: 8) }
    #expect(e1.exitCode == 65 && e1.description.contains("missing tensor \"bert.encoder.layer.1.output.dense.bias\""))
    let shape = try Self.variant { ts in
      if let i = ts.firstIndex(where: { $0.name == "bert.encoder.layer.0.intermediate.dense.weight" }) { ts[i].shape = [64, 128] }
    }
    defer { try? FileManager.default.removeItem(atPath: shape) }
    let e2 = try modelError { _ = try Encoder(directory: shape, maxBatch: 1, maxSeqLen: 8) }
    #expect(e2.exitCode == 65 && e2.description.contains("has shape [64, 128]; expected [128, 64]"))
    let noQA = try Self.variant { $0.removeAll { $0.name.hasPrefix("qa_outputs") } }
    defer { try? FileManager.default.removeItem(atPath: noQA) }
    let e3 = try modelError { _ = try Encoder(directory: noQA, maxBatch: 1, maxSeqLen: 8) }
    #expect(e3.description.contains("qa_outputs.weight"))
    let truncated = try Self.variant()
    defer { try? FileManager.default.removeItem(atPath: truncated) }
    let data = try Data(contentsOf: URL(fileURLWithPath: truncated + "/model.safetensors"))
    try data.prefix(1000).write(to: URL(fileURLWithPath: truncated + "/model.safetensors"))
    let e4 = try modelError { _ = try Checkpoint(directory: truncated) }
    #expect(e4.exitCode == 65 && e4.description.contains("model.safetensors"))
    let notSafetensors = try Self.variant()
    defer { try? FileManager.default.removeItem(atPath: notSafetensors) }
    try Data("hello".utf8).write(to: URL(fileURLWithPath: notSafetensors + "/model.safetensors"))
    #expect(try modelError { _ = try Checkpoint(directory: notSafetensors) }.exitCode == 65)
  }

  @Test("unsupported model_type, architecture, hidden_act; missing folder or weight file; pytorch_model.bin")
  func configErrors() throws {
    let gpt = try Self.variant(configEdit: { $0["model_type"] = "gpt2" })
    defer { try? FileManager.default.removeItem(atPath: gpt) }
    #expect(try modelError { _ = try Checkpoint(directory: gpt) }.description.contains("model_type \"gpt2\" is not supported"))
    let arch = try Self.variant(configEdit: { $0["architectures"] = ["DistilBertModel"] })
    defer { try? FileManager.default.removeItem(atPath: arch) }
    #expect(try modelError { _ = try Checkpoint(directory: arch) }.description.contains("architecture \"DistilBertModel\""))
    let act = try Self.variant(configEdit: { $0["hidden_act"] = "swish" })
    defer { try? FileManager.default.removeItem(atPath: act) }
    #expect(try modelError { _ = try Checkpoint(directory: act) }.description.contains("hidden_act \"swish\""))
    let heads = try Self.variant(configEdit: { $0["num_attention_heads"] = 5 })
    defer { try? FileManager.default.removeItem(atPath: heads) }
    #expect(try modelError { _ = try Checkpoint(directory: heads) }.description.contains("not a multiple"))
    #expect(try modelError { _ = try Checkpoint(directory: "/nonexistent/model") }.exitCode == 74)
    let bin = try Self.variant()
    defer { try? FileManager.default.removeItem(atPath: bin) }
    try FileManager.default.removeItem(atPath: bin + "/model.safetensors")
    #expect(try modelError { _ = try Checkpoint(directory: bin) }.exitCode == 74)
    try Data([0x50, 0x4b, 3, 4]).write(to: URL(fileURLWithPath: bin + "/pytorch_model.bin"))
    let e = try modelError { _ = try Checkpoint(directory: bin) }
    #expect(e.description.contains("pytorch_model.bin"))
  }

  @Test("bad batches are usage errors, not crashes")
  func inputErrors() throws {
    let encoder = try Encoder(directory: try #require(fixtureDirectory) + "/tiny-bert-qa-f32", maxBatch: 2, maxSeqLen: 8)
    let cases: [EncoderBatch] = [
      EncoderBatch(sequences: [[2, 512, 3]], padTokenId: 0),                       // id outside the vocabulary
      EncoderBatch(sequences: [[2, -1]], padTokenId: 0),                           // negative id
      EncoderBatch(sequences: [[2], [3], [4]], padTokenId: 0),                     // batch > maxBatch
      EncoderBatch(sequences: [Array(repeating: 5, count: 9)], padTokenId: 0),     // T > maxSeqLen
      EncoderBatch(inputIds: [[2, 3], [2]], lengths: [2, 1]),                      // ragged rows
      EncoderBatch(inputIds: [[2, 3]], lengths: [3]),                              // length > T
      EncoderBatch(inputIds: [[2, 3]], lengths: [0]),                              // empty sequence
      EncoderBatch(inputIds: [[2, 3]], lengths: [2], tokenTypeIds: [[0, 2]]),      // token type outside 0..<2
      EncoderBatch(inputIds: [], lengths: []),                                     // empty batch
    ]
    for batch in cases {
      #expect(try modelError { _ = try encoder.forward(batch) }.exitCode == 64, "\(batch)")
    }
    #expect(try modelError { _ = try Encoder(directory: try #require(fixtureDirectory) + "/tiny-bert-qa-f32", maxBatch: 1, maxSeqLen: 65) }.exitCode == 64)
  }
}
