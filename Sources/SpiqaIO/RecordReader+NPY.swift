import SpiqaCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading one NPY array from the uncompressed stream.
extension RecordReader {
  /// Largest single allocation made before the data has actually arrived.
  static let maxEagerAllocation = 1 << 26

  /// Reads exactly `n` bytes; returns nil if the stream ended before any byte (only when `allowCleanEnd`).
  private func readExactly(_ n: Int, what: String, allowCleanEnd: Bool) throws(DecodeFailure) -> [UInt8]? {
    var failure: DecodeFailure?
    var got = 0
    let out = [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
      do {
        got = try decoderRead(UnsafeMutableRawBufferPointer(buf))
      } catch {
        failure = error as? DecodeFailure ?? DecodeFailure(.io, "\(error)")
      }
      initialized = got
    }
    if let failure { throw failure }
    if got == n { return out }
    if got == 0 && allowCleanEnd { return nil }
    throw DecodeFailure(
      "truncated input: \(what) has \(got) of \(n) bytes", expected: "the complete \(what)",
      offset: byteOffsetForErrors)
  }

  /// Reads the next array, or nil at the clean end of the stream.
  ///
  /// - Parameters:
  ///   - limit: the largest data size accepted, checked from the header before any data is read.
  ///   - metadata: whether a metadata record belongs here (only changes the message past `limit`).
  func readArray(limit: Int = .max, metadata: Bool = false) throws(DecodeFailure) -> NPYArray? {
    let start = byteOffsetForErrors
    guard let prefix = try readExactly(8, what: "NPY magic and version", allowCleanEnd: true) else { return nil }
    guard Array(prefix[0..<6]) == npyMagic else {
      let shown = prefix[0..<6].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
      throw DecodeFailure(
        "bad magic \(shown)", expected: "an NPY record starting with 93 4e 55 4d 50 59 (\\x93NUMPY)", offset: start)
    }
    let major = prefix[6]
    let minor = prefix[7]
    guard (major == 1 || major == 2 || major == 3) && minor == 0 else {
      throw DecodeFailure("NPY format version \(major).\(minor)", expected: "1.0, 2.0 or 3.0", offset: start)
    }
    let lengthSize = major == 1 ? 2 : 4
    let lengthField = try readExactly(lengthSize, what: "NPY header length", allowCleanEnd: false) ?? []
    var headerLength = 0
    for (i, b) in lengthField.enumerated() { headerLength |= Int(b) << (8 * i) }
    // numpy counts characters after decoding; latin-1 has one byte per character, UTF-8 up to 4.
    let maxBytes = major == 3 ? npyMaxHeaderChars * 4 : npyMaxHeaderChars
    guard headerLength <= maxBytes else {
      throw DecodeFailure(
        "NPY header length \(headerLength) is larger than numpy's limit", expected: "at most \(npyMaxHeaderChars) characters",
        offset: start)
    }
    let headerBytes = try readExactly(headerLength, what: "NPY header", allowCleanEnd: false) ?? []
    let text: String
    if major == 3 {
      guard let t = String(validating: headerBytes, as: UTF8.self) else {
        throw DecodeFailure("NPY 3.0 header is not valid UTF-8", expected: "UTF-8 text", offset: start)
      }
      guard t.unicodeScalars.count <= npyMaxHeaderChars else {
        throw DecodeFailure("NPY header longer than numpy's limit", expected: "at most \(npyMaxHeaderChars) characters", offset: start)
      }
      text = t
    } else {
      text = String(headerBytes.lazy.map { Character(Unicode.Scalar($0)) })  // latin-1
    }
    let dtype: NPYDType, bigEndian: Bool, fortran: Bool, shape: [Int]
    do {
      (dtype, bigEndian, fortran, shape) = try NPY.parseHeaderDict(text)
    } catch var f {
      f.offset = start
      throw f
    }
    guard let (_, dataLength) = NPY.sizes(shape: shape, itemSize: dtype.itemSize) else {
      throw DecodeFailure("NPY shape \(shape) is too large", expected: "a shape whose byte size fits in 63 bits", offset: start)
    }
    guard dataLength <= limit else {
      let (what, variable) = metadata
        ? ("where a metadata record belongs", ResourceLimits.metadataBytesVariable)
        : ("in one record", ResourceLimits.recordBytesVariable)
      throw DecodeFailure(
        "NPY shape \(shape) of \(dtype.descr) is \(dataLength) bytes \(what)",
        expected: "at most \(limit) bytes (set \(variable) to change the limit)", offset: start)
    }
    var bytes = try readData(dataLength)
    if bigEndian { NPYArray.swapBytes(&bytes, itemSize: dtype.itemSize) }
    if fortran { bytes = NPYArray.fortranToC(bytes, shape: shape, itemSize: dtype.itemSize) }
    return NPYArray(dtype: dtype, shape: shape, bytes: bytes)
  }

  /// Reads `n` data bytes; allocations grow with the data actually present, not with what a header claims.
  private func readData(_ n: Int) throws(DecodeFailure) -> [UInt8] {
    if n <= RecordReader.maxEagerAllocation {
      return try readSegment(n, total: n, before: 0)
    }
    var segments: [[UInt8]] = []
    var done = 0
    while done < n {
      let piece = min(n - done, RecordReader.maxEagerAllocation)
      segments.append(try readSegment(piece, total: n, before: done))
      done += piece
    }
    // Each segment is freed once copied: resident memory peaks near n plus one segment, not 2n (pages of the
    // reserved `out` only count once written).
    var out: [UInt8] = []
    out.reserveCapacity(n)
    for i in segments.indices {
      out += segments[i]
      segments[i] = []
    }
    return out
  }

  private func readSegment(_ n: Int, total: Int, before: Int) throws(DecodeFailure) -> [UInt8] {
    if n == total && spare.count == n && n > 0 {  // a whole array into the bytes handed back by `recycle`
      var out: [UInt8] = []
      swap(&out, &spare)
      try out.withUnsafeMutableBufferPointer { (b) throws(DecodeFailure) in
        try readFully(UnsafeMutableRawBufferPointer(b), total: total, before: before)
      }
      return out
    }
    var failure: DecodeFailure?
    let out = [UInt8](unsafeUninitializedCapacity: n) { buf, initialized in
      adviseHugePages(UnsafeMutableRawBufferPointer(buf))
      do throws(DecodeFailure) {
        try readFully(UnsafeMutableRawBufferPointer(buf), total: total, before: before)
        initialized = n
      } catch {
        failure = error
        initialized = 0
      }
    }
    if let failure { throw failure }
    return out
  }

  /// Fills `buffer` with the next NPY data bytes (`before` of the array's `total` already read); a short read
  /// is a truncated input.
  private func readFully(_ buffer: UnsafeMutableRawBufferPointer, total: Int, before: Int) throws(DecodeFailure) {
    let got = try decoderRead(buffer)
    guard got == buffer.count else {
      throw DecodeFailure(
        "truncated input: NPY data has \(before + got) of \(total) bytes", expected: "the complete data",
        offset: byteOffsetForErrors)
    }
  }
}

/// Asks for transparent huge pages on a large fresh buffer before it is filled (as numpy does for arrays of
/// 4 MiB and more): 512× fewer page faults while reading big tensors. Failure is harmless.
func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
  #if os(Linux)
  let huge = 1 << 21
  guard buffer.count >= 2 * huge, let base = buffer.baseAddress else { return }
  let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
  let end = (Int(bitPattern: base) + buffer.count) & ~(huge - 1)
  guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
  _ = madvise(p, end - start, MADV_HUGEPAGE)
  #endif
}
