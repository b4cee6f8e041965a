/// An error of the command-line layer itself: a default or a named path that cannot be used.
public struct CLIError: ToolError, Sendable {
  /// Process exit code: 64 usage, 74 I/O.
  public var exitCode: Int32
  /// One line: what went wrong and, where it helps, which flag to pass.
  public var description: String

  public init(exitCode: Int32, _ description: String) {
    self.exitCode = exitCode
    self.description = description
  }

  /// Flags that cannot be honoured together or a required one that is missing (exit 64).
  public static func usage(_ message: String) -> CLIError { CLIError(exitCode: 64, message) }
  /// A file or folder that is not there or cannot be read (exit 74).
  public static func io(_ message: String) -> CLIError { CLIError(exitCode: 74, message) }
}
