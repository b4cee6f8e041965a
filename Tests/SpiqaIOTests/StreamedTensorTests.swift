import Foundation
import SpiqaIO
import Testing

/// `RecordWriter.beginFloats` / `appendFloats` / `endFloats`: a tensor written in pieces is the same stream, byte
/// for byte, as the whole tensor written at once; misuse is an error, and a tensor cut short never becomes a file.
@Suite struct StreamedTensorTests {
  static func bytes(_ dir: URL, _ name: String, compression: StreamCompression, dtype: NPYDType, pieces: [Int]?) throws
    -> [UInt8]
  {
    let path = dir.appendingPathComponent(name).path
    let w = try RecordWriter(path: path, compression: compression)
    try w.writeHeader(["t": 1])
    // 3 MB: more than one 1 MiB chunk, so pieces cross chunk boundaries.
    let floats = (0..<(3 * 256 * 1024)).map { Float($0 % 1000) / 999 }
    try floats.withUnsafeBufferPointer { all in
      let shape = [3, 256, 1024]
      guard let pieces else {
        try w.write(meta: ["kind": "attention"], floats: all, shape: shape, dtype: dtype)
        return
      }
      try w.beginFloats(meta: ["kind": "attention"], shape: shape, dtype: dtype)
      var at = 0
      for (i, size) in pieces.enumerated() where at < all.count {
        let n = i == pieces.count - 1 ? all.count - at : min(size, all.count - at)
        try w.appendFloats(UnsafeBufferPointer(rebasing: all[at..<(at + n)]))
        at += n
      }
      try w.endFloats()
    }
    try w.write(meta: ["kind": "note"], array: NPYArray(float32: [1, 2], shape: [2]))
    try w.close()
    return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
  }

  @Test(arguments: [StreamCompression.fast, .none], [NPYDType.float32, .float16])
  func piecesMakeTheSameStream(compression: StreamCompression, dtype: NPYDType) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let whole = try Self.bytes(dir, "a", compression: compression, dtype: dtype, pieces: nil)
    let parts = try Self.bytes(dir, "b", compression: compression, dtype: dtype, pieces: [1, 511, 1024, 300_001, 7])
    #expect(whole == parts)
    #expect(!whole.isEmpty)
  }

  @Test func misuseIsAnError() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("c.npy").path
    let w = try RecordWriter(path: path, compression: .none)
    try w.writeHeader([:])
    let four: [Float] = [1, 2, 3, 4]
    try four.withUnsafeBufferPointer { p in
      #expect(throws: SpiqaIOError.self) { try w.appendFloats(p) }
      #expect(throws: SpiqaIOError.self) { try w.endFloats() }
      #expect(throws: SpiqaIOError.self) { try w.beginFloats(meta: ["kind": "x"], shape: [2], dtype: .int64) }
      try w.beginFloats(meta: ["kind": "x"], shape: [2, 3], dtype: .float32)
      #expect(throws: SpiqaIOError.self) { try w.beginFloats(meta: ["kind": "y"], shape: [1], dtype: .float32) }
      #expect(throws: SpiqaIOError.self) { try w.write(meta: ["kind": "y"], floats: p, shape: [4], dtype: .float32) }
      try w.appendFloats(p)
      #expect(throws: SpiqaIOError.self) { try w.appendFloats(p) }  // 4 more with 2 left
      #expect(throws: SpiqaIOError.self) { try w.endFloats() }  // 2 short
    }
    // Closing with the tensor unfinished fails and leaves no file.
    #expect(throws: SpiqaIOError.self) { try w.close() }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }
}
