/// The one error type of SpiqaTasks: bad data sets, bad selections, mismatched replay streams.
public struct TasksError: Error, CustomStringConvertible, Sendable {
  /// Process exit code the command-line tools use: 65 bad data, 74 I/O, 64 bad usage, 1 other.
  public var exitCode: Int32
  /// One line: where, what, and what was expected.
  public var description: String

  public init(exitCode: Int32, _ description: String) {
    self.exitCode = exitCode
    self.description = description
  }

  /// Malformed or inconsistent input data (exit 65).
  public static func badData(_ message: String) -> TasksError { TasksError(exitCode: 65, message) }
  /// A file could not be read or written (exit 74).
  public static func io(_ message: String) -> TasksError { TasksError(exitCode: 74, message) }
  /// Options that cannot be honoured for this data (exit 64).
  public static func usage(_ message: String) -> TasksError { TasksError(exitCode: 64, message) }
}
