import SpiqaCore

/// The one error type of SpiqaTasks: bad data sets, bad selections, mismatched replay streams.
public struct TasksError: SpiqaError, Sendable {
  /// What kind of failure this is: `.badData`, `.io` or `.usage`.
  public var kind: SpiqaErrorKind
  /// One line: where, what, and what was expected.
  public var description: String

  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  /// Malformed or inconsistent input data.
  public static func badData(_ message: String) -> TasksError { TasksError(.badData, message) }
  /// A file could not be read or written.
  public static func io(_ message: String) -> TasksError { TasksError(.io, message) }
  /// Options that cannot be honoured for this data.
  public static func usage(_ message: String) -> TasksError { TasksError(.usage, message) }
}
