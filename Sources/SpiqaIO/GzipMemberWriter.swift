import CZlib
import Dispatch

/// Turns the uncompressed stream into self-contained gzip members, compressed on worker threads and written
/// in order. Each member holds one chunk (≈ 1 MiB) of the stream; chunks may split records.
final class GzipMemberWriter {
  private let sink: AtomicFile
  private let compression: StreamCompression
  private var inFlight: [MemberJob] = []
  private let maxInFlight: Int
  private var chunks = BlockCache(keep: 8)
  private var outputs = BlockCache(keep: 8)
  private let chunkSize: Int

  init(sink: AtomicFile, compression: StreamCompression, chunkSize: Int, maxInFlight: Int = 3) {
    self.sink = sink
    self.compression = compression
    self.chunkSize = chunkSize
    self.maxInFlight = max(1, maxInFlight)
  }

  /// An empty chunk of `chunkSize` bytes to fill (recycled).
  func freshChunk() -> ByteBlock { chunks.take(capacity: chunkSize) }

  /// Queues one chunk; writes finished members while more than `maxInFlight` are pending.
  func submit(_ chunk: ByteBlock) throws {
    let job = MemberJob(input: chunk)
    // Worst case of deflate on chunkSize bytes (zlib's deflateBound for stored blocks) + header + trailer.
    job.output = outputs.take(capacity: Gzip.headerSize + chunkSize + chunkSize / 1000 + 1024 + 8)
    let level = compression.level
    let strategy = compression.strategy
    job.run { job in
      if strategy == .huffmanOnly {
        GzipMemberWriter.compressLiterals(job, level: level)
      } else {
        GzipMemberWriter.compress(job, level: level, strategy: strategy.zlibValue)
      }
    }
    inFlight.append(job)
    while inFlight.count > maxInFlight { try writeOldest() }
  }

  /// Waits for every pending member and writes it.
  func drain() throws {
    while !inFlight.isEmpty { try writeOldest() }
  }

  private func writeOldest() throws {
    let job = inFlight.removeFirst()
    job.wait()
    if let f = job.failure { throw f.located(source: sink.name, record: nil, offset: nil) }
    if let out = job.output { try sink.write(out.bytes) }
    chunks.give(job.input)
    outputs.give(job.output)
  }

  /// Huffman-only members through `HuffmanDeflate` (zlib's Huffman-only output format, several times faster).
  static func compressLiterals(_ job: MemberJob, level: Int32) {
    guard let input = job.input else { return }
    var out = job.output ?? ByteBlock(capacity: 0)
    let bound = HuffmanDeflate.bound(input.count)
    if out.capacity < Gzip.headerSize + bound + 8 { out = ByteBlock(capacity: Gzip.headerSize + bound + 8) }
    let csize = HuffmanDeflate.compress(input.bytes, into: out.base + Gzip.headerSize)
    finishMember(out, input: input, compressedSize: csize, level: level)
    job.output = out
  }

  /// Writes the member header in front of `compressedSize` deflate bytes already at `out.base + headerSize`,
  /// and the CRC-32 / ISIZE trailer after them.
  private static func finishMember(_ out: ByteBlock, input: ByteBlock, compressedSize csize: Int, level: Int32) {
    let header = Gzip.header(compressedSize: csize, uncompressedSize: input.count, level: level)
    header.withUnsafeBytes { h in UnsafeMutableRawBufferPointer(start: out.base, count: h.count).copyMemory(from: h) }
    out.count = Gzip.headerSize + csize
    out.appendLE32(UInt32(truncatingIfNeeded: Gzip.crc(0, input.bytes)))
    out.appendLE32(UInt32(truncatingIfNeeded: input.count))
  }

  /// Deflates `job.input` into a complete member (header with the `SQ` field, raw deflate, CRC-32, ISIZE).
  static func compress(_ job: MemberJob, level: Int32, strategy: Int32) {
    guard let input = job.input else { return }
    let zs = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    zs.initialize(to: z_stream())
    defer {
      deflateEnd(zs)
      zs.deinitialize(count: 1)
      zs.deallocate()
    }
    guard spiqa_deflateInit2(zs, level, -15, 8, strategy) == Z_OK else {
      job.failure = DecodeFailure(.io, "zlib deflateInit2 failed")
      return
    }
    let bound = Int(deflateBound(zs, uLong(input.count)))
    var out = job.output ?? ByteBlock(capacity: 0)
    if out.capacity < Gzip.headerSize + bound + 8 { out = ByteBlock(capacity: Gzip.headerSize + bound + 8) }
    zs.pointee.next_in = input.base.assumingMemoryBound(to: Bytef.self)
    zs.pointee.avail_in = uInt(input.count)
    zs.pointee.next_out = (out.base + Gzip.headerSize).assumingMemoryBound(to: Bytef.self)
    zs.pointee.avail_out = uInt(bound)
    let ret = deflate(zs, Z_FINISH)
    guard ret == Z_STREAM_END else {
      job.failure = DecodeFailure(.io, "zlib deflate failed (\(ret))")
      return
    }
    finishMember(out, input: input, compressedSize: Int(zs.pointee.total_out), level: level)
    job.output = out
  }
}
