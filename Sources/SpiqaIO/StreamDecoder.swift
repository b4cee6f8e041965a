import CDeflate
import CStreamKernels
import CZlib
import Dispatch

/// The uncompressed byte stream of an input: plain bytes, or gzip members (any number, concatenated).
///
/// Members carrying the `SQ` subfield (written by `RecordWriter`) are cut without inflating and inflated
/// ahead on worker threads, up to `lookahead` at a time, `membersPerJob` consecutive members per job (see
/// `inflateIndexed`); other members (from `gzip`, Python) are inflated as a stream on the calling thread.
/// Memory stays bounded by `lookahead` members and about `lookaheadBytes`.
final class StreamDecoder {
  private enum Mode { case undetermined, plain, gzip }

  private let buffer: InputBuffer
  private var mode = Mode.undetermined
  private let lookahead: Int
  /// Members being inflated by workers, in stream order.
  private var pending: [MemberJob] = []
  /// Compressed bytes of the `pending` members, plus the uncompressed bytes of those with their own buffers.
  private var pendingBytes = 0
  /// Bytes ahead at most (besides the members of one job): members may announce up to 64 MiB each, and a few
  /// such members ahead must not multiply memory.
  private let lookaheadBytes = 24 << 20
  /// The inflated member being served and the read position in it.
  private var current: ByteBlock?
  private var currentPos = 0
  /// A member without the `SQ` field whose header was read; it is inflated here once `pending` drains.
  private var streamingWaiting = false
  private var streamer: StreamingMember?
  private var streaming = false
  private var endReached = false
  private var scheduleFailed = false
  private var bodies = BlockCache(keep: 4 * StreamDecoder.membersPerJob)
  private var outputs = BlockCache(keep: 4 * StreamDecoder.membersPerJob)
  /// During `read(into:)`: where the next member scheduled would land in the caller's destination, and the room
  /// left there. A member that fits is inflated straight into it (no copy out of a member buffer, the way a
  /// record's payload is read); `read(into:)` waits for every such member before it returns or throws.
  private var direct: (next: UnsafeMutableRawPointer, room: Int)?
  /// Set when a read failed while members were still inflating into its destination (they were waited for and
  /// abandoned, so the stream cannot go on): every later read throws it.
  private var abandoned: DecodeFailure?
  /// Members served from the caller's destination (inflated in place), for tests and curiosity.
  private(set) var membersInflatedInPlace = 0

  /// Members one worker inflates together: `spiqa_inflate_literals` interleaves up to 4 streams, and 3 keeps
  /// its hot loop in registers.
  static let membersPerJob = 3

  /// Four jobs ahead: the workers keep inflating while the caller is busy with a record (12 MiB at most).
  init(input: ByteInput, lookahead: Int = 4 * StreamDecoder.membersPerJob) {
    // A small buffer: member headers are read through it, but most of each member body then comes straight
    // from the input into the body's block (`InputBuffer.read` bypasses the buffer for large reads) instead of
    // being copied twice.
    buffer = InputBuffer(input: input, capacity: 64 << 10)
    self.lookahead = max(StreamDecoder.membersPerJob, lookahead)
  }

  /// Offset in the raw input (compressed bytes for gzip).
  var rawOffset: Int { buffer.consumedTotal }

  /// Whether the input was gzip (known after the first read).
  var isGzip: Bool { mode == .gzip }

  /// Fills `dst` completely unless the stream ends; returns the number of bytes read.
  func read(into dst: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> Int {
    if mode == .undetermined {
      _ = try buffer.fill(atLeast: 2)
      mode = buffer.count >= 2 && buffer.byte(at: 0) == Gzip.id1 && buffer.byte(at: 1) == Gzip.id2 ? .gzip : .plain
    }
    if mode == .plain { return try buffer.read(into: dst) }
    if let abandoned { throw abandoned }
    guard let base = dst.baseAddress else { return 0 }
    // Members scheduled from here on land after what the current member and the pending ones hold.
    if !streaming && !streamingWaiting {
      let ahead = (current.map { $0.count - currentPos } ?? 0) + pending.reduce(0) { $0 + $1.outputSize }
      if ahead < dst.count { direct = (base + ahead, dst.count - ahead) }
    }
    defer { direct = nil }
    do {
      let n = try readMembers(into: base, count: dst.count)
      // Members in place end inside dst, so a read that returns has served them all.
      precondition(!pending.contains { $0.inflatesInPlace }, "a member still inflating into a returned buffer")
      return n
    } catch {
      // Workers may still be inflating into dst: the caller gets it back only once they are done.
      let inPlace = pending.filter(\.inflatesInPlace)
      if !inPlace.isEmpty {
        for job in inPlace { job.wait() }
        abandoned = error
      }
      throw error
    }
  }

  /// The gzip part of `read(into:)`.
  private func readMembers(into base: UnsafeMutableRawPointer, count: Int) throws(DecodeFailure) -> Int {
    var done = 0
    while done < count {
      if let cur = current {
        let n = min(cur.count - currentPos, count - done)
        if n > 0 {
          (base + done).copyMemory(from: cur.base + currentPos, byteCount: n)
          currentPos += n
          done += n
          continue
        }
        outputs.give(cur)
        current = nil
      }
      if streaming, let s = streamer {
        let rest = UnsafeMutableRawBufferPointer(start: base + done, count: count - done)
        let (n, ended) = try s.inflate(from: buffer, into: rest)
        done += n
        if ended { streaming = false }
        continue
      }
      if !pending.isEmpty {
        let job = pending.removeFirst()
        pendingBytes -= job.byteCount
        do { try scheduleMore() } catch {
          job.wait()  // (it may be inflating into the destination)
          throw error
        }
        job.wait()
        if let f = job.failure { throw f }
        bodies.give(job.input)
        if job.inflatesInPlace, let out = job.output {
          // Inflated in place.
          precondition(out.base == base + done && out.count == job.outputSize, "member inflated out of place")
          done += out.count
          membersInflatedInPlace += 1
          continue
        }
        current = job.output
        currentPos = 0
        continue
      }
      if streamingWaiting {
        streamingWaiting = false
        if streamer == nil { streamer = StreamingMember() }
        streaming = true
        continue
      }
      if endReached { break }
      try scheduleMore()
      if pending.isEmpty && !streamingWaiting && !endReached {
        break  // defensive: no progress possible
      }
    }
    return done
  }

  /// Reads member headers and starts inflating indexed members, `membersPerJob` per job, while a whole job
  /// fits under `lookahead` (fewer at the end of the input or before a member without the `SQ` field).
  private func scheduleMore() throws(DecodeFailure) {
    while lookahead - pending.count >= Self.membersPerJob && pendingBytes < lookaheadBytes && !streamingWaiting
      && !endReached && !scheduleFailed
    {
      var batch: [(job: MemberJob, size: Int)] = []
      var failure: DecodeFailure?
      do throws(DecodeFailure) {
        while batch.count < Self.membersPerJob && pendingBytes < lookaheadBytes {
          guard let header = try Gzip.parseHeader(buffer) else {
            endReached = true
            break
          }
          guard let (csize, usize) = header.indexed else {
            streamingWaiting = true
            direct = nil  // its size is unknown: what follows it cannot be placed
            break
          }
          let body = bodies.take(capacity: csize + 8)
          let got = try buffer.read(into: UnsafeMutableRawBufferPointer(start: body.base, count: csize + 8))
          body.count = got
          guard got == csize + 8 else {
            throw DecodeFailure(
              "truncated gzip member: \(got) of \(csize + 8) bytes after its header", expected: "the complete member")
          }
          let job = MemberJob(input: body)
          job.outputSize = usize
          if let d = direct, usize <= d.room {
            job.output = ByteBlock(borrowing: d.next, capacity: usize)
            job.byteCount = csize
            direct = (d.next + usize, d.room - usize)
          } else {
            direct = nil  // the destination ends inside this member
            job.output = outputs.take(capacity: usize)
            job.byteCount = csize + usize
          }
          pendingBytes += job.byteCount
          batch.append((job, usize))
        }
      } catch {
        scheduleFailed = true
        failure = error
      }
      if !batch.isEmpty {
        let jobs = batch.map(\.job), sizes = batch.map(\.size)
        MemberJob.run(jobs) { jobs in StreamDecoder.inflateIndexed(jobs, uncompressedSizes: sizes) }
        pending.append(contentsOf: jobs)
      }
      if let failure {
        // Members before the failure are still served first, so errors come in stream order.
        guard !pending.isEmpty else { throw failure }
        pending.append(MemberJob.failed(failure))
      }
    }
  }

  /// Inflates whole member bodies (deflate data + 8-byte trailer) of known uncompressed sizes, and checks
  /// their trailers.
  ///
  /// Literal-only members (what spiqa writes by default) go through `spiqa_inflate_literals`, all at once: it
  /// interleaves them, about 2× libdeflate's speed on such data. Any member it does not take (LZ77 matches,
  /// a fixed-code block, bad data) is inflated by libdeflate, which reports the errors.
  static func inflateIndexed(_ jobs: [MemberJob], uncompressedSizes: [Int]) {
    var streams: [spiqa_lit_stream] = []
    for (job, usize) in zip(jobs, uncompressedSizes) {
      if job.output == nil || job.output!.capacity < usize { job.output = ByteBlock(capacity: usize) }
      let body = job.input!, out = job.output!
      streams.append(
        spiqa_lit_stream(
          in: body.base.assumingMemoryBound(to: UInt8.self), in_size: max(0, body.count - 8),
          out: out.base.assumingMemoryBound(to: UInt8.self), out_size: usize, in_used: 0, out_made: 0,
          status: Int32(SPIQA_LIT_OTHER)))
    }
    if spiqa_inflate_literals(&streams, Int32(streams.count)) != 0 {
      for i in streams.indices { streams[i].status = Int32(SPIQA_LIT_OTHER) }
    }
    for (i, job) in jobs.enumerated() {
      let s = streams[i]
      let done = s.status == Int32(SPIQA_LIT_DONE) && s.in_used == s.in_size && s.out_made == s.out_size
      if done {
        job.output!.count = s.out_made
      } else {
        inflateWithLibdeflate(job, uncompressedSize: uncompressedSizes[i])
      }
      if job.failure == nil { checkTrailer(job) }
    }
  }

  /// Inflates one member body with libdeflate (any DEFLATE data), setting `job.failure` on errors.
  static func inflateWithLibdeflate(_ job: MemberJob, uncompressedSize usize: Int) {
    guard let body = job.input, let out = job.output else { return }
    out.count = 0
    guard let inflater = libdeflate_alloc_decompressor() else {
      job.failure = DecodeFailure(.io, "libdeflate: cannot allocate a decompressor")
      return
    }
    defer { libdeflate_free_decompressor(inflater) }
    let csize = body.count - 8
    var consumed = 0, produced = 0
    let ret = libdeflate_deflate_decompress_ex(inflater, body.base, csize, out.base, usize, &consumed, &produced)
    switch ret {
    case LIBDEFLATE_SUCCESS:
      break
    case LIBDEFLATE_INSUFFICIENT_SPACE:
      job.failure = DecodeFailure(
        "gzip member inflates to more than the \(usize) bytes its SQ field announces", expected: "a consistent member")
      return
    default:  // LIBDEFLATE_BAD_DATA (libdeflate does not say where)
      job.failure = DecodeFailure("corrupt gzip data: invalid or truncated deflate data", expected: "valid deflate data")
      return
    }
    // With the sizes asked for, a stream that ends early is a success with fewer bytes: checked here.
    guard consumed == csize, produced == usize else {
      job.failure = DecodeFailure(
        "gzip member size does not match its SQ field (\(produced) bytes, \(csize - consumed) compressed bytes left)",
        expected: "\(usize) bytes")
      return
    }
    out.count = produced
  }

  /// Checks an inflated member against its trailer (CRC-32 and length).
  static func checkTrailer(_ job: MemberJob) {
    guard let body = job.input, let out = job.output else { return }
    let trailer = body.base + (body.count - 8)
    let crcWant = UInt(trailer.loadUnaligned(as: UInt32.self).littleEndian)
    let sizeWant = UInt32(littleEndian: (trailer + 4).loadUnaligned(as: UInt32.self))
    let crcGot = Gzip.crc(0, out.bytes)
    guard crcGot == crcWant else {
      job.failure = DecodeFailure("gzip CRC mismatch in a member", expected: "CRC-32 \(crcWant), got \(crcGot)")
      return
    }
    guard sizeWant == UInt32(truncatingIfNeeded: out.count) else {
      job.failure = DecodeFailure("gzip length mismatch: trailer says \(sizeWant)", expected: "\(out.count)")
      return
    }
  }
}

/// zlib's message for the last error, or "unknown".
func zlibMessage(_ zs: UnsafeMutablePointer<z_stream>) -> String {
  guard let m = zs.pointee.msg else { return "unknown error" }
  return String(cString: m)
}

/// Inflates one member without the `SQ` field, as a stream, on the reading thread.
final class StreamingMember {
  private let zs: UnsafeMutablePointer<z_stream>
  private var ok = false
  private var crc: UInt = 0
  private var size: UInt32 = 0

  init() {
    zs = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    zs.initialize(to: z_stream())
    ok = spiqa_inflateInit2(zs, -15) == Z_OK
  }

  deinit {
    if ok { inflateEnd(zs) }
    zs.deinitialize(count: 1)
    zs.deallocate()
  }

  /// Inflates into `dst`; returns the bytes produced and whether the member (trailer checked) ended.
  func inflate(from buffer: InputBuffer, into dst: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> (Int, Bool) {
    guard ok else { throw DecodeFailure(.io, "zlib inflateInit2 failed") }
    guard let base = dst.baseAddress else { return (0, false) }
    var produced = 0
    while produced < dst.count {
      guard try buffer.refillIfEmpty() else {
        throw DecodeFailure("truncated gzip member (input ends inside deflate data)", expected: "the rest of the member")
      }
      let avail = buffer.available
      zs.pointee.next_in = UnsafeMutablePointer(mutating: avail.baseAddress?.assumingMemoryBound(to: Bytef.self))
      zs.pointee.avail_in = uInt(avail.count)
      zs.pointee.next_out = (base + produced).assumingMemoryBound(to: Bytef.self)
      zs.pointee.avail_out = uInt(dst.count - produced)
      let ret = CZlib.inflate(zs, Z_NO_FLUSH)
      let used = avail.count - Int(zs.pointee.avail_in)
      let made = dst.count - produced - Int(zs.pointee.avail_out)
      buffer.consume(used)
      crc = Gzip.crc(crc, UnsafeRawBufferPointer(start: base + produced, count: made))
      size &+= UInt32(truncatingIfNeeded: made)
      produced += made
      switch ret {
      case Z_STREAM_END:
        try finishMember(buffer)
        return (produced, true)
      case Z_OK, Z_BUF_ERROR:
        continue
      default:
        throw DecodeFailure("corrupt gzip data: \(zlibMessage(zs))", expected: "valid deflate data")
      }
    }
    return (produced, false)
  }

  private func finishMember(_ buffer: InputBuffer) throws(DecodeFailure) {
    guard try buffer.fill(atLeast: 8) else {
      throw DecodeFailure("truncated gzip trailer", expected: "8 bytes of CRC-32 and length")
    }
    let crcWant = UInt(buffer.le32(at: 0))
    let sizeWant = UInt32(buffer.le32(at: 4))
    buffer.consume(8)
    guard crcWant == crc else {
      throw DecodeFailure("gzip CRC mismatch", expected: "CRC-32 \(crcWant), got \(crc)")
    }
    guard sizeWant == size else {
      throw DecodeFailure("gzip length mismatch: trailer says \(sizeWant)", expected: "\(size) (mod 2^32)")
    }
    inflateReset(zs)
    crc = 0
    size = 0
  }
}
