#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte sink: a file being written under a temporary name, a device or FIFO written through, or standard output.
///
/// What happens depends on what the path is (docs/robustness.md):
/// - a new path or a regular file: written as `<file>.tmp-XXXXXX` beside it (so an unwritable path fails before
///   any work starts) and renamed over it by `commit()`; an existing file's permission bits are kept; the
///   temporary file is removed if the object goes away uncommitted, or by the tools' signal handlers;
/// - a symbolic link: the file it points to is what gets written (as above); the link stays;
/// - a character device (`/dev/null`) or a FIFO: opened for writing and written through, never replaced;
/// - standard output under another name (`/dev/stdout` redirected to a file): written as standard output;
/// - a directory, block device or socket: refused (74).
public final class AtomicFile {
  /// The final path as given, or nil for standard output.
  public let path: String?
  /// `path`, or `stdout`; used in error messages.
  public let name: String
  /// True when writing to a terminal (the tools refuse binary output there).
  public var isTerminal: Bool { isatty(fd) != 0 }
  private let fd: Int32
  /// The file renamed over (the symlink's target, else `path`), when writing under a temporary name.
  private var target: String?
  private var tempPath: String?
  private var tempSlot: Int?
  private var finished = false
  private let ownsFD: Bool

  /// Opens `path` for writing; nil or `-` means standard output.
  ///
  /// - Throws: `SpiqaIOError` (74) if the output cannot be created or opened.
  public init(path: String?) throws {
    guard let path, path != "-" else {
      self.path = nil
      name = "stdout"
      fd = 1
      ownsFD = false
      return
    }
    self.path = path
    name = path
    var direct = stat()
    if stat(path, &direct) == 0 {  // through every link, as the kernel resolves them (/dev/stdout too)
      let kind = direct.st_mode & S_IFMT
      if kind == S_IFREG, Self.isStandardOutput(direct) {
        // Standard output by another name (/dev/stdout redirected to a file): renaming a new file over it would
        // lose what else goes to standard output, so write there.
        fd = 1
        ownsFD = false
        return
      }
      if kind == S_IFCHR || kind == S_IFIFO {
        // Written through; opened by its own name, since readlink cannot follow /dev/stdout to a pipe:[…].
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
          throw SpiqaIOError(.io, source: path, what: "cannot open for writing: \(errnoText(errno))")
        }
        self.fd = fd
        ownsFD = true
        return
      }
    }
    ownsFD = true
    let resolved = try Self.resolveLinks(path)
    var st = stat()
    var keepMode: mode_t?
    if stat(resolved, &st) == 0 {
      switch st.st_mode & S_IFMT {
      case S_IFREG:
        keepMode = st.st_mode & 0o7777
      default:
        let kind = (st.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file, device or FIFO"
        throw SpiqaIOError(.io, source: path, what: "is \(kind)", expected: "a file path for the output")
      }
    }
    TempFiles.prepare()
    // No signal between creating the file and registering it, or its handler would leave it behind.
    let blocked = TempFiles.blockSignals()
    defer { TempFiles.restoreSignals(blocked) }
    var template = Array((resolved + ".tmp-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { buf -> Int32 in
      guard let base = buf.baseAddress else { return -1 }
      return mkstemp(base)
    }
    guard fd >= 0 else {
      throw SpiqaIOError(.io, source: path, what: "cannot create output file: \(errnoText(errno))")
    }
    self.fd = fd
    let temp = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    tempPath = temp
    tempSlot = TempFiles.register(temp)
    target = resolved
    // mkstemp makes 0600: give a new file the usual 0666 & ~umask, an existing one its old permissions.
    if let keepMode {
      fchmod(fd, keepMode)
    } else {
      let mask = umask(0)
      umask(mask)
      fchmod(fd, 0o666 & ~mask)
    }
  }

  deinit { discard() }

  /// `-`, or a path that is standard output itself (`/dev/stdout`): the file, pipe or terminal it writes to.
  public static func namesStandardOutput(_ path: String) -> Bool {
    var st = stat()
    return path == "-" || (stat(path, &st) == 0 && isStandardOutput(st))
  }

  /// True when `st` describes the file descriptor 1 writes to; never for `/dev/null`, which any number of outputs
  /// may share (`-o /dev/null --report /dev/null > /dev/null`, or a closed standard output: `RunTool`).
  private static func isStandardOutput(_ st: stat) -> Bool {
    var out = stat(), null = stat()
    let isNull = (st.st_mode & S_IFMT) == S_IFCHR && stat("/dev/null", &null) == 0 && null.st_rdev == st.st_rdev
    return !isNull && fstat(1, &out) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino
  }

  /// Follows symbolic links (also dangling ones) to the path that is to be written.
  public static func resolveLinks(_ path: String) throws -> String {
    var p = path
    for _ in 0..<40 {
      var st = stat()
      guard lstat(p, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return p }
      var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
      let n = readlink(p, &buf, buf.count - 1)
      guard n > 0 else { throw SpiqaIOError(.io, source: path, what: "cannot read the link: \(errnoText(errno))") }
      let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
      if link.hasPrefix("/") {
        p = link
      } else if let slash = p.lastIndex(of: "/") {
        p = String(p[...slash]) + link
      } else {
        p = link
      }
    }
    throw SpiqaIOError(.io, source: path, what: "too many levels of symbolic links")
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

  /// Closes the file and renames it into place (a device or FIFO is closed; standard output: nothing to do).
  ///
  /// - Throws: `SpiqaIOError` (74) if closing or renaming fails.
  public func commit() throws {
    guard !finished else { return }
    finished = true
    guard ownsFD else { return }
    if close(fd) != 0 {
      let e = errno
      removeTemp()
      throw SpiqaIOError(.io, source: name, what: "close failed: \(errnoText(e))")
    }
    guard let tempPath, let target else { return }
    let blocked = TempFiles.blockSignals()
    defer { TempFiles.restoreSignals(blocked) }
    if rename(tempPath, target) != 0 {
      let e = errno
      removeTemp()
      throw SpiqaIOError(.io, source: name, what: "cannot rename \(tempPath) into place: \(errnoText(e))")
    }
    TempFiles.unregister(tempSlot)
  }

  /// Removes the temporary file without renaming it (a device or FIFO is just closed).
  public func discard() {
    guard !finished else { return }
    finished = true
    guard ownsFD else { return }
    close(fd)
    removeTemp()
  }

  private func removeTemp() {
    if let tempPath { unlink(tempPath) }
    TempFiles.unregister(tempSlot)
  }
}
