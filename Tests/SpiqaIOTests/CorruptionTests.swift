import Foundation
import Testing

@testable import SpiqaIO

/// Truncated and corrupted input must give a located error (exit 65), never a crash or a hang.
@Suite("Corrupt and truncated input")
struct CorruptionTests {
  static let plain: [UInt8] = (try? writeStream(.none, [attention(0, n: 4), attention(1, n: 9)])) ?? []
  static let gzipped: [UInt8] = (try? writeStream(.fast, [attention(0, n: 4), attention(1, n: 260)])) ?? []
  static let foreign: [UInt8] = (try? Fixtures.bytes("stream_numpy.npy.gz")) ?? []

  /// Reads to the end; returns the error, or nil if the stream was clean.
  func outcome(_ bytes: [UInt8], maxRead: Int = Int.max) -> SpiqaIOError? {
    do {
      _ = try readAll(bytes, maxRead: maxRead)
      return nil
    } catch let e as SpiqaIOError {
      return e
    } catch {
      Issue.record("unexpected error type \(error)")
      return nil
    }
  }

  @Test("every cut point of a plain stream", arguments: [0, 1])
  func truncatedPlain(stride: Int) {
    let bytes = Self.plain
    #expect(!bytes.isEmpty)
    // Record boundaries: cutting exactly there is a clean (shorter) stream unless it leaves a meta record alone.
    for cut in Swift.stride(from: 1 + stride, to: bytes.count, by: 7) {
      let e = outcome(Array(bytes[0..<cut]))
      guard let e else { continue }  // a cut exactly between a header and a meta record is a valid stream
      #expect(e.exitCode == 65)
      #expect(e.description.hasPrefix("test: record "), "\(e)")
      #expect(e.description.contains("expected"), "\(e)")
    }
    #expect(outcome([]) == nil)
  }

  @Test("cuts of gzip streams (ours with SQ members, and a foreign one) at many points")
  func truncatedGzip() {
    for bytes in [Self.gzipped, Self.foreign] {
      let step = max(1, bytes.count / 150)
      for cut in Swift.stride(from: 1, to: bytes.count, by: step) {
        let e = outcome(Array(bytes[0..<cut]), maxRead: 5000)
        #expect(e?.exitCode == 65, "cut \(cut) of \(bytes.count): \(e?.description ?? "no error")")
      }
    }
  }

  @Test("random byte flips give an error or a valid stream, never a crash")
  func flips() {
    var rng = SystemRandomNumberGenerator()
    var errors = 0
    for source in [Self.plain, Self.gzipped, Self.foreign] {
      for _ in 0..<150 {
        var b = source
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
          let i = Int.random(in: 0..<b.count, using: &rng)
          b[i] ^= UInt8.random(in: 1...255, using: &rng)
        }
        if let e = outcome(b, maxRead: Int.random(in: 1...70000, using: &rng)) {
          errors += 1
          #expect(e.exitCode == 65, "\(e)")
        }
      }
    }
    #expect(errors > 0)
  }

  @Test("specific corruptions name what was expected")
  func specific() throws {
    // Bad magic in the second record.
    var b = Self.plain
    let second = NPY.headerBytes(dtype: .uint8, shape: [0]).count  // header of record 0 is at least this long
    _ = second
    let recordStarts = findRecordStarts(b)
    b[recordStarts[1]] = 0x00
    #expect(outcome(b)?.description.contains("record 1 (byte \(recordStarts[1])): bad magic") == true)

    // gzip CRC error: flip a CRC byte of the last member.
    var g = Self.gzipped
    g[g.count - 6] ^= 0xFF
    #expect(outcome(g)?.description.contains("CRC") == true)
    // ISIZE error in a foreign member.
    var f = Self.foreign
    f[f.count - 1] ^= 0x01
    #expect(outcome(f)?.description.contains("length") == true)

    // A metadata record followed by nothing.
    let lone = NPY.encode(JSONValue.object(["spiqa": 1, "kind": "attention"]).metaArray)
    #expect(outcome(lone)?.description.contains("ends after") == true)
    // A tensor where metadata belongs.
    let t = NPY.encode(NPYArray(float32: [1, 2], shape: [2]))
    #expect(outcome(t)?.description.contains("metadata record") == true)
    // Bad JSON, JSON that is not spiqa metadata.
    let badJSON = NPY.encode(NPYArray(uint8: Array("{\"spiqa\":1,".utf8), shape: [11]))
    #expect(outcome(badJSON)?.description.contains("not valid JSON") == true)
    let notOurs = NPY.encode(NPYArray(uint8: Array("{\"a\":1}".utf8), shape: [7]))
    #expect(outcome(notOurs)?.description.contains("spiqa") == true)
    // Trailing garbage after a gzip member.
    #expect(outcome(Self.gzipped + [0, 0, 0])?.description.contains("gzip") == true)
    // Errors are sticky: the next call repeats them.
    let r = RecordReader(bytes: t, source: "t")
    #expect(throws: SpiqaIOError.self) { try r.next() }
    #expect(throws: SpiqaIOError.self) { try r.next() }
  }

  func findRecordStarts(_ b: [UInt8]) -> [Int] {
    var starts: [Int] = []
    var i = 0
    while i + 10 <= b.count, Array(b[i..<(i + 6)]) == npyMagic {
      starts.append(i)
      let hlen = Int(b[i + 8]) | Int(b[i + 9]) << 8
      let header = String(decoding: b[(i + 10)..<(i + 10 + hlen)], as: UTF8.self)
      guard let (dtype, _, _, shape) = try? NPY.parseHeaderDict(header) else { break }
      i += 10 + hlen + shape.reduce(1, *) * dtype.itemSize
    }
    return starts
  }
}
