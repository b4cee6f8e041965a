import Foundation
import Testing

import SpiqaCLI
import SpiqaModel

/// A reference case written by scripts/make_model_fixtures.py: `<name>.json` (inputs, index) + `<name>.bin`
/// (raw little-endian f32 arrays).
struct ReferenceBundle {
  let meta: [String: Any]
  private let index: [String: (offset: Int, shape: [Int])]
  private let data: [Float]

  init(_ name: String) throws {
    let dir = try #require(fixtureDirectory, "fixture folder model/ missing from the test bundle")
    let json = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).json"))
    let obj = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    meta = try #require(obj["meta"] as? [String: Any])
    var idx: [String: (Int, [Int])] = [:]
    for (k, v) in try #require(obj["arrays"] as? [String: [String: Any]]) {
      idx[k] = (try #require(v["offset"] as? Int), try #require(v["shape"] as? [Int]))
    }
    index = idx
    let raw = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).bin"))
    data = raw.withUnsafeBytes { bytes in
      (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
  }

  func has(_ key: String) -> Bool { index[key] != nil }

  /// The array `key` flattened (C order) and its shape.
  func array(_ key: String) throws -> (values: [Float], shape: [Int]) {
    let e = try #require(index[key], "no array \(key) in the fixture")
    let n = e.shape.reduce(1, *)
    return (Array(data[e.offset..<(e.offset + n)]), e.shape)
  }

  /// The batches (input ids, lengths, token types) the reference ran.
  func batches(padTokenId: Int) throws -> [EncoderBatch] {
    let list = try #require(meta["batches"] as? [[String: Any]])
    return try list.map { b in
      EncoderBatch(inputIds: try #require(b["input_ids"] as? [[Int]]), lengths: try #require(b["lengths"] as? [Int]),
                   tokenTypeIds: b["token_type_ids"] as? [[Int]])
    }
  }
}

/// Tests/SpiqaModelTests/Fixtures/model in the resource bundle.
let fixtureDirectory: String? = Bundle.module.resourceURL.map { $0.appendingPathComponent("Fixtures/model").path }
  .flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// all-MiniLM-L6-v2: $SPIQA_MODEL, else models/all-MiniLM-L6-v2 under the package root; nil when absent.
let miniLMDirectory: String? = {
  let env = ProcessInfo.processInfo.environment["SPIQA_MODEL"]
  let path = env ?? packageRoot + "/models/all-MiniLM-L6-v2"
  return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? path : nil
}()

/// The shared folder (`DefaultPaths.sharedFolder`: $SPIQA_SHARED, else ../shared beside the package); nil when absent.
let sharedDirectory: String? = {
  let path = DefaultPaths.sharedFolder()
  return FileManager.default.fileExists(atPath: path + "/models") ? path : nil
}()

/// Largest |a − b| and largest |a − b| / max(|b|, 1) over two equally long arrays.
struct Deviation: CustomStringConvertible {
  var maxAbs: Float = 0
  var maxRel: Float = 0
  /// Elements compared so far.
  var count = 0
  mutating func add(_ a: some Collection<Float>, _ b: some Collection<Float>) {
    #expect(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    count += b.count
    for (x, y) in zip(a, b) {
      let d = abs(x - y)
      if !(d <= maxAbs) { maxAbs = d.isNaN ? .infinity : d }
      let r = d / max(abs(y), 1)
      if !(r <= maxRel) { maxRel = r.isNaN ? .infinity : r }
    }
  }
  var description: String { "max abs \(maxAbs), max rel \(maxRel) over \(count)" }
}

/// Rows `rows` (each of `width` floats) of a row-major matrix.
func rowsOf(_ m: ArraySlice<Float>, width: Int, rows: [Int]) -> [Float] {
  rows.flatMap { r in m[(m.startIndex + r * width)..<(m.startIndex + (r + 1) * width)] }
}

/// Copies each layer's attention `[batch, heads, T, T]` during a forward.
final class AttentionRecorder {
  var layers: [[Float]] = []
  var shape: AttentionShape?
  var hooks: ForwardHooks {
    ForwardHooks(attention: { [self] _, probs, shape in
      layers.append(Array(probs))
      self.shape = shape
    })
  }
}
