/// One member of a zip archive, as described by its central-directory record.
struct ZipEntry: Sendable {
  /// Path inside the archive, e.g. `archive/data/0`.
  let name: String
  /// Compression method: 0 = stored, 8 = deflate.
  let method: UInt16
  let compressedSize: Int
  let uncompressedSize: Int
  let crc32: UInt32
  /// Offset of the member's local header from the start of the file.
  let localHeaderOffset: Int
}

/// A read-only zip archive over bytes that stay alive elsewhere (a memory-mapped file).
///
/// Parses the end-of-central-directory record (and its ZIP64 variant), then every central-directory entry (with
/// ZIP64 extra fields). Member data is returned as slices of the underlying bytes; only stored (uncompressed)
/// members can be read, which is what `torch.save` writes.
struct ZipArchive {
  let bytes: UnsafeRawBufferPointer
  let source: String
  let entries: [ZipEntry]
  private let index: [String: Int]

  /// Parses the central directory of `bytes`; throws `SpiqaModelError` (exit 65) on anything malformed.
  init(bytes: UnsafeRawBufferPointer, source: String) throws {
    self.bytes = bytes
    self.source = source
    let reader = ZipByteReader(bytes: bytes, source: source)
    let eocd = try Self.findEndOfCentralDirectory(bytes, source: source)
    var count = Int(try reader.u16(at: eocd + 10))
    var cdSize = Int(try reader.u32(at: eocd + 12))
    var cdOffset = Int(try reader.u32(at: eocd + 16))
    // ZIP64: a locator sits just before the classic record when any field overflowed.
    if eocd >= 20, try reader.u32(at: eocd - 20) == 0x0706_4b50 {
      let recordOffset = try reader.int64AsInt(at: eocd - 20 + 8, what: "ZIP64 end record offset")
      guard try reader.u32(at: recordOffset) == 0x0606_4b50 else {
        throw PyTorchBinError.badData(source, "ZIP64 end-of-central-directory record missing at byte \(recordOffset)")
      }
      count = try reader.int64AsInt(at: recordOffset + 32, what: "ZIP64 entry count")
      cdSize = try reader.int64AsInt(at: recordOffset + 40, what: "ZIP64 central directory size")
      cdOffset = try reader.int64AsInt(at: recordOffset + 48, what: "ZIP64 central directory offset")
    }
    guard cdOffset >= 0, cdSize >= 0, cdOffset <= bytes.count, cdSize <= bytes.count - cdOffset,
      count >= 0, count <= cdSize / 46 + 1
    else {
      throw PyTorchBinError.badData(
        source, "zip central directory (\(count) entries, \(cdSize) bytes at \(cdOffset)) lies outside the "
          + "\(bytes.count)-byte file; the file is truncated or not a zip")
    }
    var entries: [ZipEntry] = []
    entries.reserveCapacity(count)
    var offset = cdOffset
    for i in 0..<count {
      let entry = try Self.parseCentralEntry(reader, at: &offset, number: i)
      entries.append(entry)
    }
    self.entries = entries
    var index: [String: Int] = [:]
    for (i, e) in entries.enumerated() { index[e.name] = i }
    self.index = index
  }

  /// The entry called `name`, if any.
  func entry(named name: String) -> ZipEntry? { index[name].map { entries[$0] } }

  /// The bytes of a stored member (bounds-checked against the file).
  func data(of entry: ZipEntry) throws -> UnsafeRawBufferPointer {
    let reader = ZipByteReader(bytes: bytes, source: source)
    let h = entry.localHeaderOffset
    guard try reader.u32(at: h) == 0x0403_4b50 else {
      throw PyTorchBinError.badData(source, "zip member '\(entry.name)': no local header at byte \(h)")
    }
    let start = h + 30 + Int(try reader.u16(at: h + 26)) + Int(try reader.u16(at: h + 28))
    guard entry.method == 0 else {
      throw PyTorchBinError.badData(
        source, "zip member '\(entry.name)' is compressed (method \(entry.method)); only stored members are "
          + "supported — torch.save never compresses, re-save the checkpoint with torch.save")
    }
    guard entry.compressedSize == entry.uncompressedSize, start <= bytes.count,
      entry.compressedSize <= bytes.count - start
    else {
      throw PyTorchBinError.badData(
        source, "zip member '\(entry.name)' (\(entry.compressedSize) bytes at \(start)) runs past the end of the "
          + "\(bytes.count)-byte file; the file is truncated")
    }
    return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + entry.compressedSize)])
  }

  /// Searches backwards for the end-of-central-directory signature (the record is ≥ 22 bytes, comment ≤ 64 KiB).
  private static func findEndOfCentralDirectory(_ bytes: UnsafeRawBufferPointer, source: String) throws -> Int {
    guard bytes.count >= 22 else {
      throw PyTorchBinError.badData(source, "file of \(bytes.count) bytes is too short to be a zip archive")
    }
    let lowest = max(0, bytes.count - 22 - 65_535)
    var i = bytes.count - 22
    while i >= lowest {
      if bytes[i] == 0x50, bytes[i + 1] == 0x4b, bytes[i + 2] == 0x05, bytes[i + 3] == 0x06 { return i }
      i -= 1
    }
    throw PyTorchBinError.badData(
      source, "no zip end-of-central-directory record; the file is truncated or not a torch.save zip")
  }

  private static func parseCentralEntry(_ r: ZipByteReader, at offset: inout Int, number: Int) throws
    -> ZipEntry
  {
    let o = offset
    guard try r.u32(at: o) == 0x0201_4b50 else {
      throw PyTorchBinError.badData(r.source, "zip central directory entry \(number) is corrupt (byte \(o))")
    }
    let flags = try r.u16(at: o + 8)
    let method = try r.u16(at: o + 10)
    let crc = try r.u32(at: o + 16)
    var compressed = Int(try r.u32(at: o + 20))
    var uncompressed = Int(try r.u32(at: o + 24))
    let nameLength = Int(try r.u16(at: o + 28))
    let extraLength = Int(try r.u16(at: o + 30))
    let commentLength = Int(try r.u16(at: o + 32))
    var localOffset = Int(try r.u32(at: o + 42))
    let name = try r.string(at: o + 46, count: nameLength)
    if flags & 1 != 0 {
      throw PyTorchBinError.badData(r.source, "zip member '\(name)' is encrypted")
    }
    // ZIP64 extended information: the 8-byte values present are exactly those whose 32-bit field is 0xFFFFFFFF.
    var e = o + 46 + nameLength
    let extraEnd = e + extraLength
    while e + 4 <= extraEnd {
      let id = try r.u16(at: e)
      let size = Int(try r.u16(at: e + 2))
      if id == 0x0001 {
        var p = e + 4
        if uncompressed == 0xFFFF_FFFF { uncompressed = try r.int64AsInt(at: p, what: "ZIP64 size"); p += 8 }
        if compressed == 0xFFFF_FFFF { compressed = try r.int64AsInt(at: p, what: "ZIP64 size"); p += 8 }
        if localOffset == 0xFFFF_FFFF { localOffset = try r.int64AsInt(at: p, what: "ZIP64 offset") }
      }
      e += 4 + size
    }
    offset = extraEnd + commentLength
    return ZipEntry(
      name: name, method: method, compressedSize: compressed, uncompressedSize: uncompressed, crc32: crc,
      localHeaderOffset: localOffset)
  }
}

/// Bounds-checked little-endian reads for the zip parser; every failure is a `SpiqaModelError`.
struct ZipByteReader {
  let bytes: UnsafeRawBufferPointer
  let source: String

  private func check(_ offset: Int, _ n: Int) throws {
    guard offset >= 0, n >= 0, offset <= bytes.count - n else {
      throw PyTorchBinError.badData(
        source, "zip structure points to byte \(offset), past the end of the \(bytes.count)-byte file; "
          + "the file is truncated or corrupt")
    }
  }

  func u16(at offset: Int) throws -> UInt16 {
    try check(offset, 2)
    return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
  }

  func u32(at offset: Int) throws -> UInt32 {
    try check(offset, 4)
    var v: UInt32 = 0
    for k in 0..<4 { v |= UInt32(bytes[offset + k]) << (8 * k) }
    return v
  }

  /// A little-endian UInt64 that must fit in a non-negative Int.
  func int64AsInt(at offset: Int, what: String) throws -> Int {
    try check(offset, 8)
    var v: UInt64 = 0
    for k in 0..<8 { v |= UInt64(bytes[offset + k]) << (8 * k) }
    guard v <= UInt64(Int.max) else { throw PyTorchBinError.badData(source, "\(what) \(v) is out of range") }
    return Int(v)
  }

  func string(at offset: Int, count: Int) throws -> String {
    try check(offset, count)
    return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]), as: UTF8.self)
  }
}

/// CRC-32 (IEEE, as zip uses) of `bytes`; table-driven, for small members such as `data.pkl`.
func zipCRC32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
  var table = [UInt32](repeating: 0, count: 256)
  for i in 0..<256 {
    var c = UInt32(i)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    table[i] = c
  }
  var crc: UInt32 = 0xFFFF_FFFF
  for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
  return crc ^ 0xFFFF_FFFF
}
