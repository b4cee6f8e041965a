import Foundation
import Testing

@testable import SpiqaModel

/// Fixture folder written by scripts/make_bin_fixtures.py.
private func pytorchFixture(_ name: String) throws -> String {
  let base = try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/pytorch")
  return base.appendingPathComponent(name).path
}

/// A minimal safetensors reader for the twins (header JSON + raw bytes), independent of the model's reader.
private struct TwinSafetensors {
  struct Entry { let dtype: String; let shape: [Int]; let bytes: [UInt8] }
  let entries: [String: Entry]

  init(path: String) throws {
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var n = 0
    for k in 0..<8 { n |= Int(data[k]) << (8 * k) }
    let json = try #require(try JSONSerialization.jsonObject(with: Data(data[8..<(8 + n)])) as? [String: Any])
    var entries: [String: Entry] = [:]
    for (name, value) in json where name != "__metadata__" {
      let info = try #require(value as? [String: Any])
      let offsets = try #require(info["data_offsets"] as? [Int])
      entries[name] = Entry(
        dtype: try #require(info["dtype"] as? String), shape: try #require(info["shape"] as? [Int]),
        bytes: Array(data[(8 + n + offsets[0])..<(8 + n + offsets[1])]))
    }
    self.entries = entries
  }
}

/// Every floating-point tensor of the safetensors twin must be byte-identical in the `.bin`.
private func expectSameTensors(_ bin: PyTorchBinFile, _ twin: TwinSafetensors, skipping: Set<String> = [])
  throws
{
  let floats = twin.entries.filter { ["F32", "F16", "BF16"].contains($0.value.dtype) }
  #expect(Set(bin.tensorNames) == Set(floats.keys).subtracting(skipping))
  for (name, entry) in floats where !skipping.contains(name) {
    let t = try #require(bin.rawTensor(name), "missing \(name)")
    #expect(t.dtype.rawValue == entry.dtype, "\(name)")
    #expect(t.shape == entry.shape, "\(name)")
    #expect(Array(t.data) == entry.bytes, "\(name) bytes differ")
  }
}

private func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-bin-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

@Suite("PyTorchBin")
struct PyTorchBinTests {
  @Test("transformers BERT/RoBERTa .bin equal their safetensors twins byte for byte", arguments: ["bert-qa", "roberta-cls"])
  func modelTwins(name: String) throws {
    let bin = try PyTorchBinFile(path: try pytorchFixture("\(name)-bin/pytorch_model.bin"))
    #expect(bin.format == .zip)
    let twin = try TwinSafetensors(path: try pytorchFixture("\(name)-st/model.safetensors"))
    #expect(twin.entries.count > 30)
    try expectSameTensors(bin, twin)
    // The public entry point gives the same source type.
    let source = try openPyTorchBin(path: try pytorchFixture("\(name)-bin/pytorch_model.bin"))
    #expect(source.tensorNames == bin.tensorNames)
  }

  @Test("views, offsets, strides, shared storages, F16/BF16 in zip, protocol-4, ZIP64 and legacy files",
    arguments: [
      ("mixed.bin", PyTorchBinFile.Format.zip), ("mixed-proto4.bin", .zip), ("mixed-zip64.bin", .zip), ("mixed-legacy.bin", .legacy),
    ])
  func mixed(file: String, format: PyTorchBinFile.Format) throws {
    let bin = try PyTorchBinFile(path: try pytorchFixture(file))
    #expect(bin.format == format)
    let twin = try TwinSafetensors(path: try pytorchFixture("mixed.safetensors"))
    try expectSameTensors(bin, twin)
    #expect(bin.skippedTensors == ["position_ids": "LongStorage"])
    #expect(bin.rawTensor("position_ids") == nil)
    #expect(bin.rawTensor("transposed")?.shape == [6, 4])
    #expect(bin.rawTensor("scalar")?.shape == [])
    #expect(bin.rawTensor("empty")?.count == 0)
  }

  @Test("a training checkpoint: nn.Parameters under a state_dict key, other entries ignored")
  func nestedParameters() throws {
    let bin = try PyTorchBinFile(path: try pytorchFixture("nested-params.bin"))
    let twin = try TwinSafetensors(path: try pytorchFixture("mixed.safetensors"))
    #expect(bin.tensorNames == ["f16", "f32"])
    for name in bin.tensorNames {
      #expect(Array(try #require(bin.rawTensor(name)).data) == twin.entries[name]?.bytes)
    }
  }

  @Test("a half-precision save holds the F32 weights rounded to F16")
  func halfPrecision() throws {
    let bin = try PyTorchBinFile(path: try pytorchFixture("roberta-cls-f16.bin"))
    let twin = try TwinSafetensors(path: try pytorchFixture("roberta-cls-st/model.safetensors"))
    #expect(Set(bin.tensorNames) == Set(twin.entries.keys))
    for (name, entry) in twin.entries {
      let t = try #require(bin.rawTensor(name))
      #expect(t.dtype == .float16 && t.shape == entry.shape)
      let expected: [UInt8] = entry.bytes.withUnsafeBytes { raw in
        raw.bindMemory(to: Float.self).flatMap { f -> [UInt8] in
          let bits = Float16(f).bitPattern
          return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        }
      }
      #expect(Array(t.data) == expected, "\(name)")
    }
  }

  @Test("a pickle naming a global outside the allow-list is refused, never run",
    arguments: [("evil-global.bin", "os.system"), ("evil-stack-global.bin", "builtins.eval")])
  func forbiddenGlobal(file: String, global: String) throws {
    let error = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: try pytorchFixture(file)) }
    #expect(error.description.contains("refusing to unpickle arbitrary code"))
    #expect(error.description.contains("'\(global)'"))
    #expect(error.exitCode == 65)
  }

  @Test("views that together ask for far more than the file holds are refused, not copied (scripts/make_view_bomb_fixture.py)")
  func viewBomb() throws {
    let error = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: try pytorchFixture("view-bomb.bin")) }
    #expect(error.exitCode == 65 && error.description.contains("too many views"), "\(error)")
  }

  @Test("a pickle that piles up values is refused at a bound (16 Mi empty lists took 1.8 GB)")
  func valueFlood() throws {
    let flood = [UInt8]([0x80, 0x02]) + [UInt8](repeating: 0x5D, count: PickleMachine.maxValues + 2) + [0x2E]
    let error = try #require(throws: SpiqaModelError.self) {
      try flood.withUnsafeBytes { bytes in
        _ = try PickleMachine(bytes: bytes, source: "test", persistentLoad: { $0 }).run(from: 0) { _ in 0 }
      }
    }
    #expect(error.exitCode == 65 && error.description.contains("more than 1048576 values"), "\(error)")
  }

  @Test("refused opcodes are named")
  func forbiddenOpcode() throws {
    // PROTO 2, EMPTY_TUPLE, NEWOBJ: an object construction a state dict never needs.
    let vm = [UInt8]([0x80, 0x02, 0x29, 0x81, 0x2E])
    let error = try vm.withUnsafeBytes { bytes in
      try #require(throws: SpiqaModelError.self) {
        _ = try PickleMachine(bytes: bytes, source: "test", persistentLoad: { $0 }).run(from: 0) { _ in () }
      }
    }
    #expect(error.description.contains("opcode 0x81 (NEWOBJ)"))
  }

  @Test("hostile nesting (a million nested tuples, a list containing itself) neither crashes nor leaks")
  func deepNesting() throws {
    // PROTO 2, NONE, then TUPLE1 a million times, STOP.
    let deep = [UInt8]([0x80, 0x02, 0x4E]) + [UInt8](repeating: 0x85, count: 1_000_000) + [0x2E]
    let depth = try deep.withUnsafeBytes { bytes in
      try PickleMachine(bytes: bytes, source: "test", persistentLoad: { $0 }).run(from: 0) { v -> Int in
        var n = 0
        var current = v
        while case .tuple(let tuple) = current, let first = tuple.items.first {
          n += 1
          current = first
        }
        return n
      }.value
    }
    #expect(depth == 1_000_000)
    // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND (the list now contains itself), STOP.
    let cyclic: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
    weak var escaped: PickleList?
    try cyclic.withUnsafeBytes { bytes in
      let count = try PickleMachine(bytes: bytes, source: "test", persistentLoad: { $0 }).run(from: 0) { v -> Int in
        guard case .list(let l) = v else { return -1 }
        escaped = l
        return l.items.count
      }.value
      #expect(count == 1)
    }
    #expect(escaped == nil, "the self-referencing list was released")
  }

  @Test("truncated files give a clear error, never a crash", arguments: ["bert-qa-bin/pytorch_model.bin", "mixed-legacy.bin", "mixed-zip64.bin"])
  func truncated(file: String) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: try pytorchFixture(file)))
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let cuts = [1, 2, 10, 21, 22, 100, 500, data.count / 3, data.count / 2, data.count - 300, data.count - 23,
                data.count - 1]
    for cut in cuts {
      let path = dir.appendingPathComponent("cut-\(cut).bin").path
      try data.prefix(cut).write(to: URL(fileURLWithPath: path))
      let error = try #require(throws: SpiqaModelError.self, "cut at \(cut)") { try PyTorchBinFile(path: path) }
      #expect(error.description.hasPrefix(path + ": "))
      #expect(!error.description.contains("\n"))
    }
  }

  @Test("corrupted bytes give an error or a file that still parses, never a crash")
  func corrupted() throws {
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try pytorchFixture("mixed.bin"))))
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("corrupt.bin").path
    var rng = SystemRandomNumberGenerator()
    var refused = 0
    for trial in 0..<300 {
      var bytes = data
      // Flip a byte, biased towards the pickle and the central directory (start and end of the file).
      let i = trial % 2 == 0 ? Int.random(in: 0..<min(1200, bytes.count), using: &rng)
        : Int.random(in: max(0, bytes.count - 1200)..<bytes.count, using: &rng)
      bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      do { _ = try PyTorchBinFile(path: path) } catch is SpiqaModelError { refused += 1 }
    }
    #expect(refused > 50)
  }

  @Test("missing, empty and non-checkpoint files")
  func notCheckpoints() throws {
    let missing = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: "/nonexistent/pytorch_model.bin") }
    #expect(missing.exitCode == 74)
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let empty = dir.appendingPathComponent("empty.bin").path
    try Data().write(to: URL(fileURLWithPath: empty))
    #expect(throws: SpiqaModelError.self) { try PyTorchBinFile(path: empty) }
    let text = dir.appendingPathComponent("text.bin").path
    try Data("hello, not a checkpoint".utf8).write(to: URL(fileURLWithPath: text))
    let error = try #require(throws: SpiqaModelError.self) { try PyTorchBinFile(path: text) }
    #expect(error.description.contains("not a PyTorch checkpoint"))
  }
}
