import SpiqaIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Text results on standard output, unbuffered, with write errors reported (a full disk or `/dev/full` is exit
/// 74 with one line, not a silent exit 0; a closed pipe ends quietly as `SIGPIPE` would).
public enum StandardOutput {
  /// Writes `text` to file descriptor 1.
  ///
  /// - Throws: `SpiqaIOError` (74) on a write error.
  public static func write(_ text: String) throws {
    var bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeMutableBytes { buf -> Int in
        guard let base = buf.baseAddress else { return 0 }
        return Glibc.write(1, base + off, buf.count - off)
      }
      if n < 0 {
        let e = errno
        if e == EINTR { continue }
        if e == EPIPE { exitQuietlyOnBrokenPipe() }
        throw SpiqaIOError(.io, source: "stdout", what: "write error: \(String(cString: strerror(e)))")
      }
      off += n
    }
    bytes.removeAll()
  }

  /// Writes `line` and a newline.
  public static func writeLine(_ line: String) throws { try write(line + "\n") }
}
