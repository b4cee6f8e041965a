/// The one error type of SpiqaModel: what went wrong, where, and what to do about it.
public struct SpiqaModelError: Error, CustomStringConvertible, Sendable {
  /// Process exit code a tool should use: 65 bad data, 74 I/O, 64 usage, 1 other.
  public var exitCode: Int32
  /// One line: "<where>: <what>; <what to do>".
  public var description: String

  public init(exitCode: Int32, _ description: String) {
    self.exitCode = exitCode
    self.description = description
  }

  /// Malformed or unsupported checkpoint / input data (exit 65).
  static func badData(_ message: String) -> SpiqaModelError { SpiqaModelError(exitCode: 65, message) }
  /// A file could not be read (exit 74).
  static func io(_ message: String) -> SpiqaModelError { SpiqaModelError(exitCode: 74, message) }
  /// The caller asked for something impossible (exit 64).
  static func usage(_ message: String) -> SpiqaModelError { SpiqaModelError(exitCode: 64, message) }
}
