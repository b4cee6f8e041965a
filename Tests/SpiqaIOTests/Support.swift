import Foundation
import Testing

import SpiqaCore
import SpiqaIO

/// The numpy-written fixtures (scripts/make_npy_fixtures.py).
enum Fixtures {
  static let directory: URL = {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)
      ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
  }()

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
  }

  static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  struct Entry: Decodable {
    var dtype: String?
    var shape: [Int]?
    var values: [Double]?
    var numpy_written: Bool?
    var big_endian: Bool?
    var fortran: Bool?
    var version: Int?
    var tensors: [[Double]]?
  }

  static let manifest: [String: Entry] = {
    guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
      let m = try? JSONDecoder().decode([String: Entry].self, from: data)
    else { return [:] }
    return m
  }()

  static var arrayNames: [String] { manifest.keys.filter { $0 != "stream_numpy.npy" }.sorted() }
}

/// A fresh temporary directory for one test.
func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-io-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Reads every record of a stream in memory.
func readAll(_ bytes: [UInt8], maxRead: Int = Int.max) throws -> [StreamRecord] {
  let r = RecordReader(bytes: bytes, source: "test", maxRead: maxRead)
  var out: [StreamRecord] = []
  while let rec = try r.next() { out.append(rec) }
  return out
}

/// Writes records to a temporary file and returns its bytes.
func writeStream(
  _ compression: StreamCompression, header: JSONObject = ["producer": "test"],
  _ records: [(JSONObject, NPYArray)]
) throws -> [UInt8] {
  let dir = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(at: dir) }
  let path = dir.appendingPathComponent("s.npy").path
  let w = try RecordWriter(path: path, compression: compression)
  try w.writeHeader(header)
  for (m, a) in records { try w.write(meta: m, array: a) }
  try w.close()
  return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Softmax-like float rows, deterministic.
func softmaxRows(rows: Int, n: Int, seed: UInt64) -> [Float] {
  var state = seed &* 6364136223846793005 &+ 1442695040888963407
  var out = [Float](repeating: 0, count: rows * n)
  for r in 0..<rows {
    var sum: Float = 0
    for c in 0..<n {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      let u = Float(state >> 40) / Float(1 << 24)
      let v = Float(exp(Double(u * 6 - 3)))
      out[r * n + c] = v
      sum += v
    }
    for c in 0..<n { out[r * n + c] /= sum }
  }
  return out
}

func attention(_ i: Int, n: Int, layers: Int = 2, heads: Int = 3) -> (JSONObject, NPYArray) {
  let values = softmaxRows(rows: layers * heads * n, n: n, seed: UInt64(i + 1))
  let meta: JSONObject = [
    "kind": "attention", "example_id": .string("ex-\(i)"), "example_index": .int(i), "feature": 0, "n": .int(n),
    "layers": JSONValue(Array(0..<layers)), "heads": JSONValue(Array(0..<heads)), "threshold": 0.0, "method": nil,
  ]
  return (meta, NPYArray(float32: values, shape: [layers, heads, n, n]))
}
