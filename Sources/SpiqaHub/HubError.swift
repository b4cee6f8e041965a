/// The one error type of SpiqaHub: a model argument that names neither a folder nor a Hub repo, an unusable
/// server answer, or a network, cache or file failure. The description is one line saying what went wrong.
public struct HubError: Error, CustomStringConvertible, Sendable {
  /// Process exit code a tool should use: 64 bad model argument, 65 unusable server answer, 74 network or I/O.
  public var exitCode: Int32
  /// One line: what went wrong, and where.
  public var description: String

  public init(exitCode: Int32, _ description: String) {
    self.exitCode = exitCode
    self.description = description
  }

  /// A model argument that can never resolve (exit 64).
  static func usage(_ what: String) -> HubError { HubError(exitCode: 64, what) }
  /// A server answer that cannot be used (exit 65).
  static func badData(_ what: String) -> HubError { HubError(exitCode: 65, what) }
  /// The network, the cache or a file failed (exit 74).
  static func io(_ what: String) -> HubError { HubError(exitCode: 74, what) }
}
