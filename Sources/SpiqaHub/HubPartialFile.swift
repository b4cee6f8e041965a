#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The `<blob>.incomplete` file of a download: appends through an 8 MiB buffer (URLSession hands over 16 KiB
/// chunks; one write per chunk made the disk side slower than the network on loopback).
final class HubPartialFile {
  let path: String
  private let fd: Int32
  private static let capacity = 8 << 20
  private let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
  private var buffered = 0
  /// Bytes written so far, including what is still buffered.
  private(set) var size: Int64

  /// Opens (creating if needed) `path` for appending; `size` starts at its current length.
  init(path: String) throws {
    self.path = path
    fd = open(path, O_WRONLY | O_CREAT, 0o644)
    guard fd >= 0 else { throw HubError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    let end = lseek(fd, 0, SEEK_END)
    guard end >= 0 else {
      close(fd)
      throw HubError.io("cannot seek in \(path): \(String(cString: strerror(errno)))")
    }
    size = Int64(end)
  }

  deinit {
    try? flush()
    close(fd)
    buffer.deallocate()
  }

  func append(_ data: Data) throws {
    try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      guard let base = raw.baseAddress else { return }
      if buffered + raw.count > Self.capacity { try flush() }
      if raw.count > Self.capacity {
        try writeAll(base, raw.count)
      } else {
        (buffer + buffered).copyMemory(from: base, byteCount: raw.count)
        buffered += raw.count
      }
    }
    size += Int64(data.count)
  }

  /// Writes the buffered bytes to the file.
  func flush() throws {
    let n = buffered
    buffered = 0
    try writeAll(buffer, n)
  }

  private func writeAll(_ base: UnsafeRawPointer, _ count: Int) throws {
    var offset = 0
    while offset < count {
      let n = write(fd, base + offset, count - offset)
      if n < 0 {
        if errno == EINTR { continue }
        throw HubError.io("cannot write \(path): \(String(cString: strerror(errno)))")
      }
      offset += n
    }
  }

  /// Empties the file (the server ignored the Range request and sends everything again).
  func truncate() throws {
    buffered = 0
    guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
      throw HubError.io("cannot truncate \(path): \(String(cString: strerror(errno)))")
    }
    size = 0
  }

  /// Flushes and forces the bytes to disk (before the rename that publishes the blob).
  func sync() throws {
    try flush()
    guard fsync(fd) == 0 else { throw HubError.io("cannot sync \(path): \(String(cString: strerror(errno)))") }
  }
}
