import SpiqaCore

/// An error in statistics input (bad edges, mismatched shapes, bad options): a one-line description.
public struct StatsError: SpiqaError, Sendable {
  /// What went wrong and what was expected.
  public var description: String
  /// Creates an error with a one-line description.
  public init(_ description: String) { self.description = description }
  /// Bad data: the tools validate their flags before the statistics see them.
  public var kind: SpiqaErrorKind { .badData }
}
