import Foundation
import Testing

@testable import SpiqaIO

/// `StreamDecoder` on spiqa's own gzip streams: members that fit a large destination are inflated straight into
/// it, whatever the read sizes, and an error among them leaves no worker writing into the caller's memory.
@Suite("Gzip stream decoder: members inflated in place")
struct StreamDecoderTests {
  /// About 8.6 MB of attention: nine 1 MiB members.
  static let records = [attention(0, n: 600)]
  static let plain: [UInt8] = (try? writeStream(.none, records)) ?? []
  static let gzipped: [UInt8] = (try? writeStream(.fast, records)) ?? []

  /// Offsets of the members of a stream written with `SQ` fields.
  static func memberStarts(_ b: [UInt8]) -> [Int] {
    var starts: [Int] = []
    var p = 0
    while p + 24 <= b.count {
      starts.append(p)
      let csize = Int(b[p + 16]) | Int(b[p + 17]) << 8 | Int(b[p + 18]) << 16 | Int(b[p + 19]) << 24
      p += 24 + csize + 8
    }
    return starts
  }

  /// Reads the whole stream in pieces of the given sizes (the last one repeated); returns the bytes and the
  /// decoder.
  static func read(_ bytes: [UInt8], pieces: [Int], maxRead: Int = Int.max) throws -> ([UInt8], StreamDecoder) {
    // The smallest look-ahead (one job), so that a few MiB already leave room for members in place.
    let d = StreamDecoder(input: MemoryInput(bytes, maxRead: maxRead), lookahead: StreamDecoder.membersPerJob)
    var out: [UInt8] = []
    var i = 0
    while true {
      let size = pieces[min(i, pieces.count - 1)]
      i += 1
      var piece = [UInt8](repeating: 0xA5, count: size)
      let n = try piece.withUnsafeMutableBytes { (b) throws(DecodeFailure) in try d.read(into: b) }
      out += piece[0..<n]
      if n < size { return (out, d) }
    }
  }

  @Test("a large read takes members in place, and the bytes are the plain stream's")
  func inPlace() throws {
    #expect(Self.memberStarts(Self.gzipped).count >= 9)
    // A small read first (members start inflating into their own buffers), then the rest at once.
    let (out, d) = try Self.read(Self.gzipped, pieces: [100, Self.plain.count])
    #expect(out == Self.plain)
    #expect(d.membersInflatedInPlace >= 4, "\(d.membersInflatedInPlace) members in place")
  }

  @Test("reads of any size, ending inside members or on their boundaries", arguments: [1, 2, 3])
  func pieces(seed: Int) throws {
    var rng = XorShift(UInt64(seed))
    let mib = 1 << 20
    var sizes: [Int] = [mib, 2 * mib, 3 * mib + 1]  // boundaries when the reads start at 0
    for _ in 0..<6 { sizes.append(Int(rng.next() % UInt64(3 * mib)) + 1) }
    for i in stride(from: sizes.count - 1, to: 0, by: -1) { sizes.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
    let (out, _) = try Self.read(Self.gzipped, pieces: sizes, maxRead: seed == 3 ? 70_000 : Int.max)
    #expect(out == Self.plain)
  }

  @Test("a corrupt member among those in place: an error, repeated by every later read")
  func corruptInPlace() throws {
    let starts = Self.memberStarts(Self.gzipped)
    for k in [4, starts.count - 2] {
      var bad = Self.gzipped
      let end = k + 1 < starts.count ? starts[k + 1] : bad.count
      bad[end - 6] ^= 0xFF  // a CRC byte of member k
      let d = StreamDecoder(input: MemoryInput(bad), lookahead: StreamDecoder.membersPerJob)
      var dst = [UInt8](repeating: 0, count: Self.plain.count)
      var first: (any Error)?
      do {
        _ = try dst.withUnsafeMutableBytes { (b) throws(DecodeFailure) in try d.read(into: b) }
      } catch {
        first = error
      }
      #expect((first as? DecodeFailure)?.what.contains("CRC") == true, "member \(k): \(String(describing: first))")
      var again: (any Error)?
      do {
        var small = [UInt8](repeating: 0, count: 10)
        _ = try small.withUnsafeMutableBytes { (b) throws(DecodeFailure) in try d.read(into: b) }
      } catch {
        again = error
      }
      #expect(again != nil, "member \(k): a read after the error should fail too")
    }
  }

  @Test("a stream cut inside the members in place: a truncation error")
  func truncatedInPlace() throws {
    let starts = Self.memberStarts(Self.gzipped)
    for cut in [starts[5] + 1000, starts[starts.count - 1] + 30, Self.gzipped.count - 3] {
      #expect(throws: DecodeFailure.self) {
        _ = try Self.read(Array(Self.gzipped[0..<cut]), pieces: [100, Self.plain.count])
      }
    }
  }
}
