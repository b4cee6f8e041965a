/// An error reading or writing NPY records and record streams.
///
/// The description is one line: `<source>: record <i> (byte <off>): <what>; expected <what>`, where the
/// record index counts NPY arrays from 0 and the byte offset is in the uncompressed stream.
public struct SpiqaIOError: Error, CustomStringConvertible, Sendable {
  /// What kind of failure this is; decides the exit code.
  public enum Kind: Sendable, Equatable {
    /// Malformed, truncated or inconsistent input data (exit code 65, `EX_DATAERR`).
    case badData
    /// The operating system refused a read, write, open or rename (exit code 74, `EX_IOERR`).
    case io
    /// The reader of our output went away (`EPIPE`); tools end quietly.
    case brokenPipe
    /// The API was used in a way that can never work (exit code 1).
    case misuse
  }

  /// What kind of failure this is.
  public var kind: Kind
  /// The file name, `stdin` or `stdout`.
  public var source: String
  /// Index of the NPY record (0-based, counting every array in the stream) being read or written, if known.
  public var recordIndex: Int?
  /// Offset in the uncompressed stream where the problem was found, if known.
  public var byteOffset: Int?
  /// What was found.
  public var what: String
  /// What was expected instead, if that can be said.
  public var expected: String?

  /// Creates an error; usually built by the readers and writers of this module.
  public init(
    _ kind: Kind, source: String, recordIndex: Int? = nil, byteOffset: Int? = nil, what: String,
    expected: String? = nil
  ) {
    self.kind = kind
    self.source = source
    self.recordIndex = recordIndex
    self.byteOffset = byteOffset
    self.what = what
    self.expected = expected
  }

  /// The process exit code a tool should end with: 65 bad data, 74 I/O, 141 broken pipe, 1 misuse.
  public var exitCode: Int32 {
    switch kind {
    case .badData: return 65
    case .io: return 74
    case .brokenPipe: return 141
    case .misuse: return 1
    }
  }

  /// `<source>: record <i> (byte <off>): <what>; expected <what>`.
  public var description: String {
    var s = source
    switch (recordIndex, byteOffset) {
    case let (r?, b?): s += ": record \(r) (byte \(b))"
    case let (r?, nil): s += ": record \(r)"
    case let (nil, b?): s += ": byte \(b)"
    case (nil, nil): break
    }
    s += ": " + what
    if let expected { s += "; expected " + expected }
    return s
  }
}

/// A failure found below the record layer, before the source, record and offset are known.
struct DecodeFailure: Error {
  var kind: SpiqaIOError.Kind
  var what: String
  var expected: String?
  /// Offset in the uncompressed stream, when the thrower knows better than the reader's position.
  var offset: Int?

  init(_ what: String, expected: String? = nil, offset: Int? = nil) {
    self.init(.badData, what, expected: expected, offset: offset)
  }

  init(_ kind: SpiqaIOError.Kind, _ what: String, expected: String? = nil, offset: Int? = nil) {
    self.kind = kind
    self.what = what
    self.expected = expected
    self.offset = offset
  }

  func located(source: String, record: Int?, offset: Int?) -> SpiqaIOError {
    SpiqaIOError(kind, source: source, recordIndex: record, byteOffset: offset, what: what, expected: expected)
  }
}

/// The text of `errno` (`strerror`).
func errnoText(_ code: Int32) -> String {
  guard let s = strerror(code) else { return "errno \(code)" }
  return String(cString: s)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
