#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a whole input that may be a regular file, a pipe (`-` = standard input, a FIFO, `<(…)`) or a character
/// device, with a cap on its size: past the cap the read stops and says which variable raises it, so an endless
/// pipe (`yes | …`) is an error instead of all of memory.
public enum InputFile {
  /// All bytes of `path` (`-` = standard input), at most `limit`.
  ///
  /// - Parameter limitVariable: the environment variable that sets `limit`, for the message.
  /// - Throws: `FileError` (.io 74) when it cannot be opened or read (a directory included), `LimitError` (65)
  ///   past `limit`.
  public static func readAll(_ path: String, limit: Int, limitVariable: String) throws -> [UInt8] {
    let fd = path == "-" ? 0 : Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(.io, "\(path): cannot open (\(RegularFile.systemMessage(errno)))") }
    defer { if fd != 0 { close(fd) } }
    let name = path == "-" ? "standard input" : path
    var st = stat()
    if fstat(fd, &st) == 0 {
      if (st.st_mode & S_IFMT) == S_IFDIR { throw FileError(.io, "\(name): is a directory, not a file") }
      if (st.st_mode & S_IFMT) == S_IFREG && Int(st.st_size) > limit { throw tooLarge(name, limit, limitVariable) }
    }
    var out: [UInt8] = []
    // A regular file's size is known: one allocation instead of a doubling for every read past it.
    if (st.st_mode & S_IFMT) == S_IFREG { out.reserveCapacity(Int(st.st_size)) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw FileError(.io, "\(name): read error (\(RegularFile.systemMessage(errno)))")
      }
      if n == 0 { return out }
      guard out.count + n <= limit else { throw tooLarge(name, limit, limitVariable) }
      out.append(contentsOf: chunk[0..<n])
    }
  }

  private static func tooLarge(_ name: String, _ limit: Int, _ variable: String) -> LimitError {
    LimitError(.badData, "\(name): more than \(limit) bytes; raise \(variable) to read it")
  }
}
