/// An error in statistics input (bad edges, mismatched shapes, bad options): a one-line description.
public struct StatsError: Error, CustomStringConvertible, Sendable {
  /// What went wrong and what was expected.
  public var description: String
  /// Creates an error with a one-line description.
  public init(_ description: String) { self.description = description }
}
