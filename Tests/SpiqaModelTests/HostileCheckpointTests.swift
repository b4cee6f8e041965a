import Foundation
import SpiqaCore
import Testing

@testable import SpiqaModel

#if canImport(Glibc)
import Glibc
#endif

/// Crafted checkpoints (sizes that overflow, offsets near Int.max, absurd configs) and special files in a model
/// folder: a one-line error with exit 65/74, never a trap, a hang or a huge allocation (docs/robustness.md).
@Suite("Hostile checkpoints")
struct HostileCheckpointTests {
  private func tempDir() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  private func le(_ v: UInt64, _ bytes: Int) -> [UInt8] { (0..<bytes).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

  /// A safetensors file with one tensor entry (JSON written as given) and `dataBytes` bytes of data.
  private func safetensors(_ entry: String, dataBytes: Int, in dir: URL) throws -> String {
    let header = Array("{\"w\": \(entry)}".utf8)
    let path = dir.appendingPathComponent("model.safetensors").path
    try Data(le(UInt64(header.count), 8) + header + [UInt8](repeating: 0, count: dataBytes))
      .write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test("safetensors shapes whose element or byte count overflows are refused (65)")
  func safetensorsOverflow() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    for shape in ["[4611686018427387904, 4]", "[2305843009213693952]", "[3037000500, 3037000500, 3037000500]",
                  "[9000000000000000000, 0, 2]"] {
      let path = try safetensors(
        "{\"dtype\": \"F32\", \"shape\": \(shape), \"data_offsets\": [0, 16]}", dataBytes: 16, in: dir)
      let e = try #require(throws: SpiqaModelError.self, "\(shape)") { try SafetensorsFile(path: path) }
      #expect(e.exitCode == 65, "\(shape)")
      #expect(!e.description.contains("\n"))
    }
  }

  @Test("a tensor view whose offset plus span overflows, or reaches past its storage, is refused (65)")
  func pickleViewOverflow() throws {
    let storage = [UInt8](repeating: 0, count: 64)
    let ref = PickleStorageRef(typeName: "FloatStorage", key: "0", count: 16)
    let cases = [
      PickleTensor(storage: ref, offset: Int.max - 2, shape: [4], strides: [1]),
      PickleTensor(storage: ref, offset: 0, shape: [2, 2], strides: [Int.max / 2, Int.max / 2]),
      PickleTensor(storage: ref, offset: 1 << 62, shape: [1 << 62], strides: [2]),
      PickleTensor(storage: ref, offset: 15, shape: [4], strides: [1]),
    ]
    for t in cases {
      let e = try storage.withUnsafeBytes { raw in
        try #require(throws: SpiqaModelError.self, "\(t)") {
          var copies: [UnsafeMutableRawBufferPointer] = []
          _ = try PyTorchBinFile.view(t, dtype: .float32, storage: raw, name: "w", source: "crafted", copies: &copies)
        }
      }
      #expect(e.exitCode == 65)
    }
  }

  @Test("zip64 sizes and offsets near 2^62 and Int.max are refused (65), not trapped")
  func zip64Sizes() throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("pytorch_model.bin").path
    // A ZIP64 end record claiming a central directory of 2^62 bytes at offset 2^62, its locator, the classic record.
    for (size, offset) in [(UInt64(1) << 62, UInt64(1) << 62), (UInt64(Int.max), 1), (1, UInt64(Int.max))] {
      var zip64: [UInt8] = le(0x0606_4b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
      zip64 += le(1, 8) + le(1, 8) + le(size, 8) + le(offset, 8)
      let locator: [UInt8] = le(0x0706_4b50, 4) + le(0, 4) + le(0, 8) + le(1, 4)
      let eocd: [UInt8] = le(0x0605_4b50, 4) + le(0, 4) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4)
        + le(0xFFFF_FFFF, 4) + le(0, 2)
      try Data(zip64 + locator + eocd).write(to: URL(fileURLWithPath: path))
      let e = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: path) }
      #expect(e.exitCode == 65, "\(size) at \(offset)")
    }
    // A member whose ZIP64 sizes are near Int.max: its data would run past the end of the file.
    let name = Array("archive/data.pkl".utf8)
    let local: [UInt8] = le(0x0403_4b50, 4) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
      + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(UInt64(name.count), 2) + le(0, 2) + name
    let huge = UInt64(Int.max - 8)
    let extra: [UInt8] = le(1, 2) + le(16, 2) + le(huge, 8) + le(huge, 8)
    var central: [UInt8] = le(0x0201_4b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4)
    central += le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(UInt64(name.count), 2) + le(UInt64(extra.count), 2)
    central += le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) + name + extra
    let eocd: [UInt8] = le(0x0605_4b50, 4) + le(0, 4) + le(1, 2) + le(1, 2) + le(UInt64(central.count), 4)
      + le(UInt64(local.count), 4) + le(0, 2)
    try Data(local + central + eocd).write(to: URL(fileURLWithPath: path))
    let e = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: path) }
    #expect(e.exitCode == 65)
    #expect(e.description.contains("runs past the end"))
  }

  @Test("a config asking for 10^12 layers or huge sizes is refused (65) before anything is allocated",
        arguments: ["\"num_hidden_layers\": 1000000000000", "\"hidden_size\": 4611686018427387904",
                    "\"intermediate_size\": 1e15", "\"vocab_size\": 9000000000000000000"])
  func absurdConfig(field: String) throws {
    var fields = [
      "num_hidden_layers": "\"num_hidden_layers\": 2", "hidden_size": "\"hidden_size\": 8",
      "intermediate_size": "\"intermediate_size\": 16", "vocab_size": "\"vocab_size\": 30",
    ]
    let key = String(field.split(separator: ":")[0].dropFirst().dropLast())
    fields[key] = field
    let json = "{\"model_type\": \"bert\", \"num_attention_heads\": 2, \"max_position_embeddings\": 64, "
      + fields.values.sorted().joined(separator: ", ") + "}"
    let e = try #require(throws: SpiqaModelError.self) { try ModelConfig(json: Data(json.utf8)) }
    #expect(e.exitCode == 65)
    #expect(e.description.contains(key))
  }

  @Test("a negative layer_norm_eps (NaN attention) or a model_type that is not a string is refused (65)",
        arguments: [("\"layer_norm_eps\": -1", "layer_norm_eps"), ("\"model_type\": 5", "\"model_type\" = 5")])
  func badConfigValues(field: String, says: String) throws {
    var json = "{\"model_type\": \"bert\", \"num_attention_heads\": 2, \"max_position_embeddings\": 64, "
      + "\"num_hidden_layers\": 2, \"hidden_size\": 8, \"intermediate_size\": 16, \"vocab_size\": 30, \(field)}"
    if field.hasPrefix("\"model_type\"") { json = json.replacingOccurrences(of: "\"model_type\": \"bert\", ", with: "") }
    let e = try #require(throws: SpiqaModelError.self) { try ModelConfig(json: Data(json.utf8)) }
    #expect(e.exitCode == 65)
    #expect(e.description.contains(says), "\(e.description)")
  }

  @Test("a FIFO as config, safetensors or .bin file is refused at once (65), never read",
        arguments: ["config.json", "model.safetensors", "pytorch_model.bin"])
  func fifoInModelFolder(file: String) throws {
    let dir = try tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let config = "{\"model_type\": \"bert\", \"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
      + "\"intermediate_size\": 16, \"max_position_embeddings\": 16, \"vocab_size\": 30}"
    if file != "config.json" { try config.write(to: dir.appendingPathComponent("config.json"), atomically: false, encoding: .utf8) }
    let fifo = dir.appendingPathComponent(file).path
    #expect(mkfifo(fifo, 0o600) == 0)
    let e = try #require(throws: SpiqaModelError.self) { _ = try Checkpoint(directory: dir.path) }
    #expect(e.exitCode == 65)
    #expect(e.description.contains("a FIFO, not a regular file"))
  }
}
