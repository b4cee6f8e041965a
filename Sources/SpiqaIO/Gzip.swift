import CDeflate
import CZlib
import Dispatch

/// gzip member framing (RFC 1952) with spiqa's `SQ` extra subfield.
///
/// Every member written here has FLG.FEXTRA set and one subfield `SI1='S' SI2='Q' LEN=8` holding the member's
/// deflate data length and uncompressed length (both u32 little-endian). A reader can then cut the stream into
/// members without inflating and inflate several members at once. Other gzip readers skip the field.
enum Gzip {
  static let id1: UInt8 = 0x1F
  static let id2: UInt8 = 0x8B
  static let subfieldID: (UInt8, UInt8) = (0x53, 0x51)  // "SQ"
  /// Bytes of a member header as written here: 10 fixed + XLEN(2) + subfield(4 + 8).
  static let headerSize = 24
  /// Members announcing more than this (compressed or not) are inflated as a stream instead.
  static let maxIndexedMember = 1 << 26

  /// The 24-byte member header announcing `compressedSize` deflate bytes inflating to `uncompressedSize`.
  static func header(compressedSize: Int, uncompressedSize: Int, level: Int32) -> [UInt8] {
    let xfl: UInt8 = level == 1 ? 4 : (level == 9 ? 2 : 0)
    var h: [UInt8] = [id1, id2, 8, 0x04, 0, 0, 0, 0, xfl, 3, 12, 0, subfieldID.0, subfieldID.1, 8, 0]
    for v in [UInt32(compressedSize), UInt32(truncatingIfNeeded: uncompressedSize)] {
      h += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 24)]
    }
    return h
  }

  /// CRC-32 (the gzip polynomial) of `bytes`, continuing from `crc` (libdeflate's: carry-less multiply, several
  /// times faster than zlib 1.2's tables).
  static func crc(_ crc: UInt, _ bytes: UnsafeRawBufferPointer) -> UInt {
    guard let p = bytes.baseAddress, bytes.count > 0 else { return crc }
    return UInt(libdeflate_crc32(UInt32(truncatingIfNeeded: crc), p, bytes.count))
  }

  /// What a member header said, once parsed.
  struct MemberHeader {
    /// Header bytes (consumed from the input).
    var length: Int
    /// From the `SQ` subfield: deflate data bytes and uncompressed bytes.
    var indexed: (compressed: Int, uncompressed: Int)?
  }

  /// Parses a member header at the front of `buffer` and consumes it.
  ///
  /// - Returns: nil at a clean end of input (no bytes left).
  static func parseHeader(_ buffer: InputBuffer) throws(DecodeFailure) -> MemberHeader? {
    guard try buffer.fill(atLeast: 1) else { return nil }
    let haveTwo = try buffer.fill(atLeast: 2)
    guard haveTwo, buffer.byte(at: 0) == id1, buffer.byte(at: 1) == id2 else {
      let shown = haveTwo ? "bytes " + hexPair(buffer.byte(at: 0), buffer.byte(at: 1)) : "1 stray byte"
      throw DecodeFailure(
        "\(shown) after a gzip member", expected: "another gzip member (1f 8b) or the end of the stream")
    }
    guard try buffer.fill(atLeast: 10) else {
      throw DecodeFailure("truncated gzip member header (\(buffer.count) bytes)", expected: "a 10-byte gzip header")
    }
    guard buffer.byte(at: 2) == 8 else {
      throw DecodeFailure("gzip compression method \(buffer.byte(at: 2))", expected: "8 (deflate)")
    }
    let flags = buffer.byte(at: 3)
    guard flags & 0xE0 == 0 else {
      throw DecodeFailure("gzip header with reserved flag bits set (FLG=\(flags))", expected: "a valid gzip header")
    }
    var pos = 10
    var indexed: (Int, Int)?
    if flags & 0x04 != 0 {
      guard try buffer.fill(atLeast: pos + 2) else { throw truncatedHeader() }
      let xlen = Int(buffer.byte(at: pos)) | Int(buffer.byte(at: pos + 1)) << 8
      pos += 2
      guard try buffer.fill(atLeast: pos + xlen) else { throw truncatedHeader() }
      var p = pos
      while p + 4 <= pos + xlen {
        let si1 = buffer.byte(at: p)
        let si2 = buffer.byte(at: p + 1)
        let len = Int(buffer.byte(at: p + 2)) | Int(buffer.byte(at: p + 3)) << 8
        guard p + 4 + len <= pos + xlen else { break }
        if si1 == subfieldID.0 && si2 == subfieldID.1 && len == 8 {
          let c = buffer.le32(at: p + 4)
          let u = buffer.le32(at: p + 8)
          if c <= maxIndexedMember && u <= maxIndexedMember { indexed = (c, u) }
        }
        p += 4 + len
      }
      pos += xlen
    }
    for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
      while true {
        guard try buffer.fill(atLeast: pos + 1) else { throw truncatedHeader() }
        if buffer.byte(at: pos) == 0 { break }
        pos += 1
        guard pos < 1 << 20 else {
          throw DecodeFailure("gzip file name or comment longer than 1 MiB", expected: "a zero-terminated field")
        }
      }
      pos += 1
    }
    if flags & 0x02 != 0 {  // FHCRC
      guard try buffer.fill(atLeast: pos + 2) else { throw truncatedHeader() }
      let want = UInt(buffer.byte(at: pos)) | UInt(buffer.byte(at: pos + 1)) << 8
      let got = crc(0, UnsafeRawBufferPointer(rebasing: buffer.available[0..<pos])) & 0xFFFF
      guard want == got else { throw DecodeFailure("gzip header CRC mismatch", expected: "a matching FHCRC") }
      pos += 2
    }
    buffer.consume(pos)
    return MemberHeader(length: pos, indexed: indexed)
  }

  static func truncatedHeader() -> DecodeFailure {
    DecodeFailure("truncated gzip member header", expected: "the complete header")
  }
}

extension InputBuffer {
  func le32(at i: Int) -> Int {
    Int(byte(at: i)) | Int(byte(at: i + 1)) << 8 | Int(byte(at: i + 2)) << 16 | Int(byte(at: i + 3)) << 24
  }
}

/// `"1f 8b"`: two bytes in hex.
func hexPair(_ a: UInt8, _ b: UInt8) -> String {
  func hex(_ v: UInt8) -> String { (v < 16 ? "0" : "") + String(v, radix: 16) }
  return "\(hex(a)) \(hex(b))"
}

/// A unit of work done on another thread; `wait()` returns once it finished.
final class MemberJob: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  /// Input (a chunk to deflate, or a member body to inflate) then output.
  var input: ByteBlock?
  var output: ByteBlock?
  var failure: DecodeFailure?
  /// Bytes the job holds, for a reader's memory bound.
  var byteCount = 0
  /// Bytes the member inflates to (a reader's job).
  var outputSize = 0
  /// Whether the output is borrowed memory (a reader's destination the member is inflated straight into).
  var inflatesInPlace: Bool { !(output?.isOwned ?? true) }

  init(input: ByteBlock?) { self.input = input }

  /// A job that already failed (keeps errors in stream order).
  static func failed(_ f: DecodeFailure) -> MemberJob {
    let j = MemberJob(input: nil)
    j.failure = f
    j.done.signal()
    return j
  }

  /// Runs `work` on the worker pool; `wait()` returns once it finished.
  func run(_ work: @escaping @Sendable (MemberJob) -> Void) {
    WorkerPool.shared.async {
      work(self)
      self.done.signal()
    }
  }

  /// Runs `work` on several jobs as one work item of the pool; each job's `wait()` returns once it finished.
  static func run(_ jobs: [MemberJob], _ work: @escaping @Sendable ([MemberJob]) -> Void) {
    WorkerPool.shared.async {
      work(jobs)
      for job in jobs { job.done.signal() }
    }
  }

  func wait() { done.wait() }
}
