import SpiqaCore

/// An error of the Hub client: a model argument that cannot resolve, a server answer that cannot be used, or a
/// network / cache failure.
public struct HubError: SpiqaError, Sendable {
  /// `.usage` bad model argument, `.badData` unusable server answer, `.io` network or I/O.
  public var kind: SpiqaErrorKind
  /// One line: what went wrong, and where.
  public var description: String

  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }

  /// A model argument that can never resolve (exit 64).
  static func usage(_ what: String) -> HubError { HubError(.usage, what) }
  /// A server answer that cannot be used (exit 65).
  static func badData(_ what: String) -> HubError { HubError(.badData, what) }
  /// The network, the cache or a file failed (exit 74).
  static func io(_ what: String) -> HubError { HubError(.io, what) }
}
