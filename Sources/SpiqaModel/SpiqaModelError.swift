import SpiqaCore

/// The one error type of SpiqaModel: what went wrong, where, and what to do about it.
public struct SpiqaModelError: SpiqaError, Sendable {
  /// What kind of failure this is: `.badData`, `.io` or `.usage`.
  public var kind: SpiqaErrorKind
  /// One line: "<where>: <what>; <what to do>".
  public var description: String

  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  /// Malformed or unsupported checkpoint / input data.
  static func badData(_ message: String) -> SpiqaModelError { SpiqaModelError(.badData, message) }
  /// A file could not be read.
  static func io(_ message: String) -> SpiqaModelError { SpiqaModelError(.io, message) }
  /// The caller asked for something impossible.
  static func usage(_ message: String) -> SpiqaModelError { SpiqaModelError(.usage, message) }

  /// Runs `body`, turning a `FileError` (a missing or non-regular file) into this type with the same kind.
  static func mapping<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as FileError { throw SpiqaModelError(e.kind, e.description) }
  }
}
