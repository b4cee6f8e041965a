import SpiqaCore

/// An error reading or writing NPY records and record streams.
///
/// The description is one line: `<source>: record <i> (byte <off>): <what>; expected <what>`, where the
/// record index counts NPY arrays from 0 and the byte offset is in the uncompressed stream.
public struct SpiqaIOError: SpiqaError, Sendable {
  /// What kind of failure this is (`.badData`, `.io`, `.brokenPipe`, `.other`); decides the exit code.
  public var kind: SpiqaErrorKind
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
    _ kind: SpiqaErrorKind, source: String, recordIndex: Int? = nil, byteOffset: Int? = nil, what: String,
    expected: String? = nil
  ) {
    self.kind = kind
    self.source = source
    self.recordIndex = recordIndex
    self.byteOffset = byteOffset
    self.what = what
    self.expected = expected
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
  var kind: SpiqaErrorKind
  var what: String
  var expected: String?
  /// Offset in the uncompressed stream, when the thrower knows better than the reader's position.
  var offset: Int?

  init(_ what: String, expected: String? = nil, offset: Int? = nil) {
    self.init(.badData, what, expected: expected, offset: offset)
  }

  init(_ kind: SpiqaErrorKind, _ what: String, expected: String? = nil, offset: Int? = nil) {
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
