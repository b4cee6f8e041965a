#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that cannot be used as one of a model folder's files: missing, unreadable, too large, or not a
/// regular file (a FIFO would block the reader forever, a device never ends).
public struct FileError: SpiqaError, Sendable {
  /// `.io` (74) when the system refused, `.badData` (65) when the file is of the wrong kind or too large.
  public var kind: SpiqaErrorKind
  public var description: String

  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}

/// Opening and reading files that must be regular files (config, vocabulary and weight files).
///
/// The open never blocks: it uses `O_NONBLOCK` (a FIFO opens at once), checks the kind with `fstat`, and only
/// then clears the flag. See docs/robustness.md.
public enum RegularFile {
  /// Opens `path` read-only; refuses anything but a regular file.
  ///
  /// - Returns: the descriptor (the caller closes it) and the file size in bytes.
  /// - Throws: `FileError` (.io 74 when it cannot be opened, .badData 65 when it is not a regular file).
  public static func open(_ path: String) throws -> (fd: Int32, size: Int) {
    let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(.io, "\(path): cannot open (\(systemMessage(errno)))") }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = errno
      close(fd)
      throw FileError(.io, "\(path): cannot stat (\(systemMessage(e)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw FileError(.badData, "\(path): is \(kindName(st.st_mode)), not a regular file")
    }
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
    return (fd, Int(st.st_size))
  }

  /// Reads a whole regular file of at most `limit` bytes.
  ///
  /// - Throws: `FileError`: not regular or larger than `limit` (65), a read error (74).
  public static func read(_ path: String, limit: Int) throws -> [UInt8] {
    let (fd, size) = try open(path)
    defer { close(fd) }
    guard size <= limit else {
      throw FileError(.badData, "\(path): \(size) bytes; files of this kind are at most \(limit) bytes")
    }
    var out = [UInt8](repeating: 0, count: size)
    var done = 0
    while done < size {
      let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
      if n < 0 {
        if errno == EINTR { continue }
        throw FileError(.io, "\(path): read error (\(systemMessage(errno)))")
      }
      if n == 0 { break }  // shrank while reading: keep what is there
      done += n
    }
    if done < size { out.removeLast(size - done) }
    return out
  }

  /// "a FIFO", "a character device", ... for messages.
  public static func kindName(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    case S_IFDIR: return "a directory"
    case S_IFLNK: return "a symbolic link"
    default: return "a regular file"
    }
  }

  /// `strerror` text.
  public static func systemMessage(_ code: Int32) -> String { String(cString: strerror(code)) }
}
