/// A selected layer or head that the data (a model, a stream) does not have: a request that cannot be honoured.
///
/// Libraries throw it with what went wrong; the command-line tools, which know which flag made the selection,
/// turn it into a usage error naming the flag (exit 64).
public struct SelectionError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What was selected.
  public enum Axis: String, Sendable {
    case layer, head
  }

  public var axis: Axis
  /// The index asked for.
  public var index: Int
  /// The indices the data has, in its order.
  public var available: [Int]
  /// What lacks the index, for messages ("the model", a stream's name).
  public var source: String

  public init(_ axis: Axis, index: Int, available: [Int], source: String) {
    self.axis = axis
    self.index = index
    self.available = available
    self.source = source
  }

  /// The available indices as a comma list (`2,5`).
  public var availableList: String { available.map(String.init).joined(separator: ",") }

  /// `<source> has no layer 7 (it has layers 0,1,2)`.
  public var description: String {
    "\(source) has no \(axis.rawValue) \(index) (it has \(axis.rawValue)s \(availableList))"
  }
}
