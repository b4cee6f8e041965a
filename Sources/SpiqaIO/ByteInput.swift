#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of raw (possibly compressed) bytes.
protocol ByteInput: AnyObject {
  /// Reads up to `buffer.count` bytes; returns 0 only at the end of input.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> Int
}

/// Reads a file descriptor with `read(2)`, retrying on `EINTR`.
final class FileDescriptorInput: ByteInput {
  let fd: Int32
  private let closeOnDeinit: Bool

  init(fd: Int32, closeOnDeinit: Bool) {
    self.fd = fd
    self.closeOnDeinit = closeOnDeinit
  }

  /// Opens a file for reading.
  convenience init(path: String) throws(DecodeFailure) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DecodeFailure(.io, "cannot open for reading: \(errnoText(errno))") }
    var st = stat()
    if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw DecodeFailure(.io, "is a directory", expected: "a stream file")
    }
    self.init(fd: fd, closeOnDeinit: true)
  }

  deinit {
    if closeOnDeinit { close(fd) }
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    while true {
      let n = Glibc.read(fd, base, buffer.count)
      if n >= 0 { return n }
      if errno == EINTR { continue }
      throw DecodeFailure(.io, "read error: \(errnoText(errno))")
    }
  }
}

/// Serves bytes from memory (tests, fuzzing, `NPY.decode`).
final class MemoryInput: ByteInput {
  private let bytes: [UInt8]
  private var position = 0
  /// Largest piece returned by one read, to exercise short reads like a pipe.
  private let maxRead: Int

  init(_ bytes: [UInt8], maxRead: Int = Int.max) {
    self.bytes = bytes
    self.maxRead = max(1, maxRead)
  }

  func read(into buffer: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> Int {
    let n = min(buffer.count, bytes.count - position, maxRead)
    guard n > 0, let dst = buffer.baseAddress else { return 0 }
    bytes.withUnsafeBytes { src in
      if let s = src.baseAddress { dst.copyMemory(from: s + position, byteCount: n) }
    }
    position += n
    return n
  }
}

/// A refillable window over a `ByteInput` with look-ahead, used for gzip headers and plain reads.
final class InputBuffer {
  private let input: ByteInput
  private var storage: UnsafeMutableRawPointer
  private var capacity: Int
  private var start = 0
  private var end = 0
  private(set) var atEOF = false
  /// Bytes consumed so far (offset in the raw, possibly compressed, input).
  private(set) var consumedTotal = 0

  init(input: ByteInput, capacity: Int = 1 << 20) {
    self.input = input
    self.capacity = capacity
    storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
  }

  deinit { storage.deallocate() }

  /// Bytes buffered and not yet consumed.
  var available: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: storage + start, count: end - start)
  }

  var count: Int { end - start }

  /// Makes at least `n` bytes available unless the input ends first; returns whether it did.
  func fill(atLeast n: Int) throws(DecodeFailure) -> Bool {
    if end - start >= n { return true }
    if n > capacity - start {
      if n > capacity {
        let newCap = max(n, capacity * 2)
        let s = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 64)
        s.copyMemory(from: storage + start, byteCount: end - start)
        storage.deallocate()
        storage = s
        capacity = newCap
      } else {
        memmove(storage, storage + start, end - start)
      }
      end -= start
      start = 0
    }
    while end - start < n && !atEOF {
      let got = try input.read(into: UnsafeMutableRawBufferPointer(start: storage + end, count: capacity - end))
      if got == 0 { atEOF = true } else { end += got }
    }
    return end - start >= n
  }

  /// Reads more input if the buffer is empty; returns false at end of input.
  func refillIfEmpty() throws(DecodeFailure) -> Bool {
    if end > start { return true }
    start = 0
    end = 0
    return try fill(atLeast: 1)
  }

  func consume(_ n: Int) {
    start += n
    consumedTotal += n
    if start == end {
      start = 0
      end = 0
    }
  }

  func byte(at i: Int) -> UInt8 { (storage + start + i).load(as: UInt8.self) }

  /// Copies up to `dst.count` bytes: buffered ones first, then straight from the input. Short only at EOF.
  func read(into dst: UnsafeMutableRawBufferPointer) throws(DecodeFailure) -> Int {
    guard let base = dst.baseAddress else { return 0 }
    var done = min(dst.count, end - start)
    if done > 0 {
      base.copyMemory(from: storage + start, byteCount: done)
      consume(done)
    }
    while done < dst.count && !atEOF {
      let want = dst.count - done
      if want >= capacity / 2 {
        let got = try input.read(into: UnsafeMutableRawBufferPointer(start: base + done, count: want))
        if got == 0 { atEOF = true }
        done += got
        consumedTotal += got
      } else {
        guard try refillIfEmpty() else { break }
        let n = min(want, end - start)
        (base + done).copyMemory(from: storage + start, byteCount: n)
        consume(n)
        done += n
      }
    }
    return done
  }
}
