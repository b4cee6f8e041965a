import SpiqaCore

/// An error of the command-line layer itself: a default or a named path that cannot be used.
public struct CLIError: SpiqaError, Sendable {
  /// `.usage` (64) or `.io` (74).
  public var kind: SpiqaErrorKind
  /// One line: what went wrong and, where it helps, which flag to pass.
  public var description: String

  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  /// Flags that cannot be honoured together or a required one that is missing (exit 64).
  public static func usage(_ message: String) -> CLIError { CLIError(.usage, message) }
  /// A file or folder that is not there or cannot be read (exit 74).
  public static func io(_ message: String) -> CLIError { CLIError(.io, message) }
}
