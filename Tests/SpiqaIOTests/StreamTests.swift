import Foundation
import Testing

import SpiqaCore
import SpiqaIO

@Suite("Record streams")
struct StreamTests {
  static let compressions: [StreamCompression] = [
    .fast, .none, StreamCompression(level: 6), StreamCompression(level: 1, strategy: .rle),
    StreamCompression(level: 9, strategy: .filtered),
  ]

  @Test("round trip at every compression, through pipe-sized reads", arguments: compressions)
  func roundTrip(compression: StreamCompression) throws {
    // Tensors from tiny to several gzip members (> 1 MiB) so members split records.
    let records = [attention(0, n: 3), attention(1, n: 200), attention(2, n: 1), attention(3, n: 17)]
    let bytes = try writeStream(compression, header: ["producer": "test", "model": "m"], records)
    #expect((bytes.first == 0x1F) == (compression.level > 0))
    for maxRead in [Int.max, 4093, 65536] {
      let got = try readAll(bytes, maxRead: maxRead)
      #expect(got.count == records.count + 1)
      guard case .header(let h) = got.first else {
        Issue.record("first record is not a header")
        return
      }
      #expect(h["kind"] == "stream" && h["spiqa"] == 1 && h["model"] == "m")
      for (i, (meta, array)) in records.enumerated() {
        guard case .tensor(let m, let a) = got[i + 1] else {
          Issue.record("record \(i + 1) is not a tensor")
          continue
        }
        #expect(a == array)
        #expect(m["example_id"] == meta["example_id"])
        #expect(m["shape"]?.intArray == array.shape)
        #expect(m["dtype"] == "f4" && m["spiqa"] == 1)
        #expect(try decodeAttention(meta: m, array: a) == (try array.floats()))
      }
    }
  }

  @Test("with recycled record bytes every array still reads correctly, and truncation still fails",
        arguments: [StreamCompression.none, .fast])
  func recycledBytes(compression: StreamCompression) throws {
    let records = [attention(0, n: 20), attention(1, n: 7), attention(2, n: 20), attention(3, n: 20)]
    let bytes = try writeStream(compression, records)
    for maxRead in [Int.max, 4093] {
      let r = RecordReader(bytes: bytes, source: "test", maxRead: maxRead)
      var got: [NPYArray] = []
      while let rec = try r.next() {
        guard case .tensor(_, var a) = rec else { continue }
        got.append(a)
        var spare = a.bytes  // a second reference: recycling must not overwrite `got`'s copy
        a.bytes = []
        r.recycle(&spare)
        #expect(spare.isEmpty)
      }
      #expect(got == records.map(\.1))
    }
    // A truncated last tensor is still a truncation error when read into recycled bytes.
    let plain = try writeStream(.none, records)
    let r = RecordReader(bytes: Array(plain.dropLast(10)), source: "cut")
    var count = 0
    let e = #expect(throws: SpiqaIOError.self) {
      while let rec = try r.next() {
        guard case .tensor(_, var a) = rec else { continue }
        count += 1
        var b = a.bytes
        a.bytes = []
        r.recycle(&b)
      }
    }
    #expect(count == 3 && e?.kind == .badData && "\(e!)".contains("truncated"), "\(String(describing: e))")
  }

  @Test("the uncompressed stream is exactly repeated numpy.save output")
  func plainIsRepeatedSave() throws {
    let (meta, array) = attention(0, n: 4)
    let bytes = try writeStream(.none, header: [:], [(meta, array)])
    var m = meta
    m["spiqa"] = 1
    m["shape"] = JSONValue(array.shape)
    m["dtype"] = "f4"
    let expected =
      NPY.encode(NPYArray(json: .object(["kind": "stream", "spiqa": 1])))
      + NPY.encode(NPYArray(json: .object(m))) + NPY.encode(array)
    #expect(bytes == expected)
  }

  @Test("gzip output inflates to the plain stream; members carry the SQ field")
  func gzipMatchesPlain() throws {
    let records = [attention(0, n: 300)]  // 2·3·300·300·4 = 2.16 MB → 3 members
    let plain = try writeStream(.none, records)
    let gz = try writeStream(.fast, records)
    let r = RecordReader(bytes: gz, source: "gz")
    var n = 0
    while try r.next() != nil { n += 1 }
    #expect(n == 2)
    #expect(r.byteOffset == plain.count)
    #expect(Array(gz[0..<4]) == [0x1F, 0x8B, 8, 4])
    #expect(gz[12] == UInt8(ascii: "S") && gz[13] == UInt8(ascii: "Q"))
  }

  @Test("streams written by numpy (np.save in sequence, plain and gzip.open) read back")
  func numpyStreams() throws {
    let want = try #require(Fixtures.manifest["stream_numpy.npy"]?.tensors)
    for name in ["stream_numpy.npy", "stream_numpy.npy.gz"] {
      let got = try readAll(try Fixtures.bytes(name), maxRead: 100)
      #expect(got.count == 4)
      guard case .header(let h) = got[0] else {
        Issue.record("no header")
        continue
      }
      #expect(h["producer"] == "numpy")
      for i in 0..<3 {
        guard case .tensor(let meta, let array) = got[i + 1] else {
          Issue.record("not a tensor")
          continue
        }
        #expect(try decodeAttention(meta: meta, array: array) == want[i].map { Float($0) })
        if i == 0 { #expect(meta["tokens"]?.stringArray?[1] == "héllo") }
      }
    }
  }

  @Test("cat of two gzip streams (ours and a foreign gzip member) is one stream with two headers")
  func concatenation() throws {
    let a = try writeStream(.fast, [attention(0, n: 5), attention(1, n: 250)])
    let b = try Fixtures.bytes("stream_numpy.npy.gz")
    let c = try writeStream(StreamCompression(level: 6), [attention(2, n: 7)])
    let got = try readAll(a + b + c + a, maxRead: 777)
    let headers = got.filter { if case .header = $0 { return true } else { return false } }.count
    #expect(headers == 4)
    #expect(got.count - headers == 2 + 3 + 1 + 2)
  }

  @Test("streams and files from disk and a pipe-like reader; stdin path")
  func fromDisk() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("x.npy.gz").path
    let w = try RecordWriter(path: path)
    try w.writeHeader(["t": 1])
    let floats: [Float] = softmaxRows(rows: 8, n: 8, seed: 3)
    try floats.withUnsafeBufferPointer { try w.write(meta: ["kind": "attention"], floats: $0, shape: [1, 1, 8, 8], dtype: .float16) }
    // Not visible under its final name before close().
    #expect(!FileManager.default.fileExists(atPath: path))
    try w.close()
    let r = try RecordReader(path: path)
    #expect(r.source == path)
    _ = try r.next()
    guard case .tensor(let m, let a)? = try r.next() else {
      Issue.record("no tensor")
      return
    }
    #expect(a.dtype == .float16 && m["dtype"] == "f2")
    #expect(a == NPYArray(float16: floats, shape: [1, 1, 8, 8]))
    #expect(try r.next() == nil)
    // Progress: the share of the file read; all of it at the end. In memory (or a pipe) it is unknown.
    #expect(r.inputFraction == 1)
    #expect(RecordReader(bytes: Array(FileManager.default.contents(atPath: path)!)).inputFraction == nil)
  }

  @Test("an unclosed writer leaves no file; unwritable paths fail at once with 74")
  func temporaryFiles() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("y.npy").path
    do {
      let w = try RecordWriter(path: path)
      try w.writeHeader([:])
      #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).count == 1)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    let e = #expect(throws: SpiqaIOError.self) { try RecordWriter(path: dir.path + "/missing/z.npy") }
    #expect(e?.exitCode == 74)
    let d = #expect(throws: SpiqaIOError.self) { try RecordWriter(path: dir.path) }
    #expect(d?.exitCode == 74)
    let r = #expect(throws: SpiqaIOError.self) { try RecordReader(path: dir.path + "/nope.npy") }
    #expect(r?.exitCode == 74)
  }

  @Test("writer misuse is refused")
  func misuse() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let w = try RecordWriter(path: dir.appendingPathComponent("m.npy").path)
    #expect(throws: SpiqaIOError.self) { try w.write(meta: ["kind": "attention"], array: NPYArray(uint8: [1], shape: [1])) }
    try w.writeHeader([:])
    #expect(throws: SpiqaIOError.self) { try w.write(meta: [:], array: NPYArray(uint8: [1], shape: [1])) }
    #expect(throws: SpiqaIOError.self) { try w.write(meta: ["kind": "x"], array: NPYArray(dtype: .float32, shape: [2], bytes: [0])) }
  }

  @Test("decodeAttention: codes, levels, mismatches")
  func decode() throws {
    let codes = NPYArray(uint8: [0, 2, 1, 3], shape: [2, 2])
    let meta: JSONObject = ["kind": "attention", "encoding": "codes", "levels": [0.0, 0.5, 0.25, 1], "shape": [2, 2]]
    #expect(try decodeAttention(meta: meta, array: codes) == [0, 0.25, 0.5, 1])
    var short = meta
    short["levels"] = [0.0, 1.0]
    #expect(throws: SpiqaIOError.self) { try decodeAttention(meta: short, array: codes) }
    var wrongShape = meta
    wrongShape["shape"] = [4]
    #expect(throws: SpiqaIOError.self) { try decodeAttention(meta: wrongShape, array: codes) }
    #expect(throws: SpiqaIOError.self) { try decodeAttention(meta: ["kind": "attention"], array: codes) }
    let f64 = NPYArray(dtype: .float64, shape: [1], bytes: withUnsafeBytes(of: 0.5) { Array($0) })
    #expect(try decodeAttention(meta: [:], array: f64) == [0.5])
  }

  @Test("compression flag spellings", arguments: [
    ("fast", "1:huffman"), ("none", "none"), ("0", "none"), ("6", "6:default"), ("1:rle", "1:rle"),
    ("9:filtered", "9:filtered"), ("1:huffman-only", "1:huffman"), ("best", "9:default"), ("gzip", "6:default"),
  ])
  func compressionSpec(spec: String, canonical: String) throws {
    #expect(try StreamCompression(parsing: spec).description == canonical)
  }

  @Test("bad compression spellings", arguments: ["", "10", "-1", "1:zip", "fast:rle", "1:2:3"])
  func badCompressionSpec(spec: String) {
    #expect(throws: SpiqaIOError.self) { try StreamCompression(parsing: spec) }
  }

  @Test("JSON: compact sorted output, round trip, strict parsing")
  func json() throws {
    let v: JSONValue = ["b": [1, 2.5, "x\"\n\u{1}é"], "a": nil, "c": ["z": true, "y": -3]]
    #expect(v.jsonText == "{\"a\":null,\"b\":[1,2.5,\"x\\\"\\n\\u0001é\"],\"c\":{\"y\":-3,\"z\":true}}")
    #expect(try JSONValue(parsing: v.jsonBytes) == v)
    for bad in ["{", "[1,]", "{\"a\" 1}", "01", "nul", "\"\\x\"", "1 2", "{\"a\":1,}", "\u{1}"] {
      let e = #expect(throws: JSONSyntaxError.self, "\(bad)") { try JSONValue(parsing: Array(bad.utf8)) }
      #expect(e?.exitCode == 65)
    }
    #expect(try JSONValue(parsing: Array("\"\\ud83d\\ude00\"".utf8)) == "😀")
    #expect(try JSONValue(parsing: Array("[1e400, 12345678901234567890, -0.0]".utf8)).arrayValue?.count == 3)
  }
}
