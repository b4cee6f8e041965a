#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte sink: a file being written under a temporary name, or standard output.
///
/// A file is created at once as `<path>.tmp-XXXXXX` in the destination folder (so an unwritable path fails
/// before any work starts), renamed to `path` by `commit()`, and removed if the object goes away uncommitted.
public final class AtomicFile {
  /// The final path, or nil for standard output.
  public let path: String?
  /// `path`, or `stdout`; used in error messages.
  public let name: String
  private let fd: Int32
  private var tempPath: String?
  private var finished = false

  /// Opens `path` for writing under a temporary name; nil or `-` means standard output.
  ///
  /// - Throws: `SpiqaIOError` (74) if the temporary file cannot be created.
  public init(path: String?) throws {
    guard let path, path != "-" else {
      self.path = nil
      name = "stdout"
      fd = 1
      return
    }
    self.path = path
    name = path
    var st = stat()
    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
      throw SpiqaIOError(.io, source: path, what: "is a directory", expected: "a file path for the output")
    }
    var template = Array((path + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { buf -> Int32 in
      guard let base = buf.baseAddress else { return -1 }
      return mkstemp(base)
    }
    guard fd >= 0 else {
      throw SpiqaIOError(.io, source: path, what: "cannot create output file: \(errnoText(errno))")
    }
    self.fd = fd
    tempPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // mkstemp makes 0600; give the file the usual 0666 & ~umask.
    let mask = umask(0)
    umask(mask)
    fchmod(fd, 0o666 & ~mask)
  }

  deinit {
    if let tempPath, !finished {
      close(fd)
      unlink(tempPath)
    }
  }

  /// Writes all bytes, retrying short writes and `EINTR`.
  ///
  /// - Throws: `SpiqaIOError` (74, or `.brokenPipe` for `EPIPE`).
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
      let n = Glibc.write(fd, p, left)
      if n < 0 {
        if errno == EINTR { continue }
        let e = errno
        if e == EPIPE { throw SpiqaIOError(.brokenPipe, source: name, what: "the reader closed the pipe") }
        throw SpiqaIOError(.io, source: name, what: "write error: \(errnoText(e))")
      }
      p += n
      left -= n
    }
  }

  /// Writes all bytes of an array.
  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Closes the file and renames it into place (for standard output: nothing to do).
  ///
  /// - Throws: `SpiqaIOError` (74) if closing or renaming fails.
  public func commit() throws {
    guard !finished else { return }
    finished = true
    guard let tempPath, let path else { return }
    if close(fd) != 0 {
      let e = errno
      unlink(tempPath)
      throw SpiqaIOError(.io, source: path, what: "close failed: \(errnoText(e))")
    }
    if rename(tempPath, path) != 0 {
      let e = errno
      unlink(tempPath)
      throw SpiqaIOError(.io, source: path, what: "cannot rename \(tempPath) into place: \(errnoText(e))")
    }
  }

  /// Removes the temporary file without renaming it.
  public func discard() {
    guard !finished else { return }
    finished = true
    if let tempPath {
      close(fd)
      unlink(tempPath)
    }
  }
}
