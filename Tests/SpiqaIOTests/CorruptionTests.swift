import Foundation
import Testing

import SpiqaIO

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
    let lone = NPY.encode(NPYArray(json: .object(["spiqa": 1, "kind": "attention"])))
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

  @Test("the SQ subfield: out-of-range sizes fall back to streaming; wrong sizes are errors")
  func sqField() throws {
    let good = Self.gzipped
    #expect(good[12] == UInt8(ascii: "S") && good[13] == UInt8(ascii: "Q"))
    let records = try readAll(good).count
    // USIZE beyond the 64 MiB limit: the member is inflated as a stream, the data is still correct.
    var huge = good
    for i in 20..<24 { huge[i] = 0xFF }
    #expect(try readAll(huge, maxRead: 3000).count == records)
    // CSIZE one byte short or long, USIZE one byte off: located gzip errors.
    for (offset, delta) in [(16, -1), (16, 1), (20, 1), (20, -1)] {
      var bad = good
      bad[offset] = UInt8(truncatingIfNeeded: Int(bad[offset]) + delta)
      let e = outcome(bad)
      #expect(e?.exitCode == 65 && e?.description.contains("gzip") == true, "\(offset) \(delta): \(e?.description ?? "no error")")
    }
  }

  /// Offsets of the NPY magic in a plain stream (float data here never contains it).
  func findRecordStarts(_ b: [UInt8]) -> [Int] {
    let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    return (0..<(b.count - 5)).filter { Array(b[$0..<($0 + 6)]) == magic }
  }
}
