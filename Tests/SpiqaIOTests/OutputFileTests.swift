import Foundation
import Testing

import SpiqaCore
@testable import SpiqaIO

#if canImport(Glibc)
import Glibc
#endif

/// What `AtomicFile` does with special output paths, modes and full devices (docs/robustness.md).
@Suite("Output files")
struct OutputFileTests {
  private func fileType(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
  }

  private func temporaries(in dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
  }

  private func write(_ text: String, to path: String) throws {
    let f = try AtomicFile(path: path)
    try f.write(Array(text.utf8))
    try f.commit()
  }

  @Test("a symbolic link's target is replaced and the link stays, also when the target does not exist yet")
  func symlink() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let target = dir.appendingPathComponent("target.txt").path
    let link = dir.appendingPathComponent("link.txt").path
    try "old".write(toFile: target, atomically: false, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "target.txt")
    try write("new", to: link)
    #expect(fileType(link) == S_IFLNK)
    #expect(try String(contentsOfFile: target, encoding: .utf8) == "new")
    // Dangling: the target is created beside it.
    let dangling = dir.appendingPathComponent("dangling.txt").path
    try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: "made.txt")
    try write("made", to: dangling)
    #expect(fileType(dangling) == S_IFLNK)
    #expect(try String(contentsOfFile: dir.appendingPathComponent("made.txt").path, encoding: .utf8) == "made")
    #expect(try temporaries(in: dir).isEmpty)
  }

  @Test("a FIFO is written through: its reader gets the bytes and the FIFO stays")
  func fifo() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("fifo").path
    #expect(mkfifo(path, 0o600) == 0)
    let received = ReceivedBytes()
    let reader = Thread {
      received.set(FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() ?? Data())
    }
    reader.start()
    try write("through the fifo", to: path)
    #expect(received.wait() == Data("through the fifo".utf8))
    #expect(fileType(path) == S_IFIFO)
    #expect(try temporaries(in: dir).isEmpty)
  }

  @Test("/dev/null is written through and stays a character device")
  func devNull() throws {
    try write("nothing", to: "/dev/null")
    #expect(fileType("/dev/null") == S_IFCHR)
  }

  @Test("a write error on /dev/full is an I/O error (74)")
  func devFull() throws {
    let f = try AtomicFile(path: "/dev/full")
    let e = try #require(throws: SpiqaIOError.self) { try f.write([UInt8](repeating: 1, count: 1 << 16)) }
    #expect(e.exitCode == 74)
    #expect(e.description.contains("/dev/full"))
  }

  @Test("overwriting keeps the file's permissions (0600 stays 0600); a new file gets 0666 & ~umask")
  func keepsMode() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("secret.txt").path
    try "old".write(toFile: path, atomically: false, encoding: .utf8)
    #expect(chmod(path, 0o600) == 0)
    try write("new", to: path)
    var st = stat()
    #expect(stat(path, &st) == 0 && st.st_mode & 0o7777 == 0o600)
    let fresh = dir.appendingPathComponent("fresh.txt").path
    try write("x", to: fresh)
    let mask = umask(0)
    umask(mask)
    #expect(stat(fresh, &st) == 0 && st.st_mode & 0o7777 == 0o666 & ~mask)
  }

  @Test("a directory is refused (74); an uncommitted file leaves no temporary behind and is unregistered")
  func refusedAndDiscarded() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let e = try #require(throws: SpiqaIOError.self) { _ = try AtomicFile(path: dir.path) }
    #expect(e.exitCode == 74)
    let path = dir.appendingPathComponent("out.npy").path
    var f: AtomicFile? = try AtomicFile(path: path)
    let temps = try temporaries(in: dir)
    #expect(temps.count == 1)
    let registered = (0..<TempFiles.capacity).contains { i in
      TempFiles.slots[i].map { String(cString: $0).hasSuffix(temps[0]) } ?? false
    }
    #expect(registered, "the temporary file is registered for the signal handlers")
    f = nil
    _ = f
    #expect(try temporaries(in: dir).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: path))
    let stillRegistered = (0..<TempFiles.capacity).contains { i in
      TempFiles.slots[i].map { String(cString: $0).hasSuffix(temps[0]) } ?? false
    }
    #expect(!stillRegistered)
  }
}

/// Bytes handed from a reader thread to the test.
final class ReceivedBytes: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var data = Data()
  func set(_ d: Data) {
    data = d
    done.signal()
  }
  func wait() -> Data {
    done.wait()
    return data
  }
}

/// Limits on what one record may cost (`ResourceLimits`, `RecordReader.maxRecordBytes`/`maxMetadataBytes`).
@Suite("Record limits")
struct RecordLimitTests {
  @Test("sizes parse with binary suffixes; nonsense is nil")
  func parseSizes() {
    #expect(ResourceLimits.parseSize("1024") == 1024)
    #expect(ResourceLimits.parseSize("64K") == 65536)
    #expect(ResourceLimits.parseSize("512M") == 512 << 20)
    #expect(ResourceLimits.parseSize("4GiB") == 4 << 30)
    #expect(ResourceLimits.parseSize("1gb") == 1 << 30)
    #expect(ResourceLimits.parseSize("lots") == nil)
    #expect(ResourceLimits.parseSize("-5") == nil)
    #expect(ResourceLimits.parseSize("99999999999T") == nil)
  }

  @Test("a small gzip member inflating to a record past the limit is refused (65) before the record is read")
  func gzipBomb() throws {
    // 32 MiB of zeros compresses to ~32 KiB; the reader must refuse it from the NPY header.
    let zeros = NPYArray(dtype: .float32, shape: [8, 1024, 1024], bytes: [UInt8](repeating: 0, count: 32 << 20))
    let bytes = try writeStream(StreamCompression(level: 9), [(["kind": "attention"], zeros)])
    #expect(bytes.count < 1 << 20)
    let r = RecordReader(bytes: bytes, source: "bomb")
    r.maxRecordBytes = 1 << 20
    let e = try #require(throws: SpiqaIOError.self) { while try r.next() != nil {} }
    #expect(e.exitCode == 65)
    #expect(e.description.contains("at most 1048576 bytes"))
    #expect(e.description.contains(ResourceLimits.recordBytesVariable))
  }

  @Test("a huge array where metadata belongs is refused from its header, with the metadata limit")
  func hugeMetadata() throws {
    // Only the NPY header of a 1 GiB |u1 array: the limit must trip before any data is expected.
    let header = NPY.headerBytes(dtype: .uint8, shape: [1 << 30])
    let r = RecordReader(bytes: header, source: "meta")
    let e = try #require(throws: SpiqaIOError.self) { _ = try r.next() }
    #expect(e.exitCode == 65)
    #expect(e.description.contains("where a metadata record belongs"))
    #expect(e.description.contains(ResourceLimits.metadataBytesVariable))
  }
}
