import SpiqaModel

/// One batch of right-padded sequences for a task model.
public struct TaskBatch: Sendable {
  /// [batch][seqLen] token ids, padded with the pad id.
  public var inputIds: [[Int]]
  /// [batch][seqLen] token types, or `nil` (all 0).
  public var tokenTypeIds: [[Int]]?
  /// Real tokens per row (≤ seqLen).
  public var lengths: [Int]
  /// Padded length T shared by all rows.
  public var seqLen: Int { inputIds.first?.count ?? 0 }
  public var count: Int { inputIds.count }

  public init(inputIds: [[Int]], tokenTypeIds: [[Int]]?, lengths: [Int]) {
    self.inputIds = inputIds
    self.tokenTypeIds = tokenTypeIds
    self.lengths = lengths
  }
}

/// What the evaluators need from a model runtime (SpiqaModel's `Encoder` is adapted to it; tests use stand-ins).
public protocol TaskModel: AnyObject {
  /// Transformer layers and attention heads per layer.
  var layerCount: Int { get }
  var headCount: Int { get }
  /// Longest sequence the position embeddings allow.
  var maxPositions: Int { get }
  /// Extractive QA: start and end logits, each [batch][seqLen].
  func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]])
  /// Sequence classification: logits [batch][labels].
  func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]]
  /// The classifier's label names by output (`id2label`), or nil when the model has no classification head.
  var classifierLabels: [String]? { get }
  /// Masked LM: vocabulary logits [batch][vocab] at `positions[b]` of each row b.
  func maskedLM(_ batch: TaskBatch, positions: [Int], hooks: ForwardHooks) throws -> [[Float]]
  /// Whether the checkpoint has a masked-LM head.
  var hasMaskedLMHead: Bool { get }
  /// The model in messages (its folder).
  var name: String { get }
  /// The workers the model's forward pass uses (the attention hooks use as many for a layer's statistics).
  var computeThreads: Int { get }
}

extension TaskModel {
  public var computeThreads: Int { 1 }
  public var classifierLabels: [String]? { nil }
  public var hasMaskedLMHead: Bool { false }
  public func maskedLM(_ batch: TaskBatch, positions: [Int], hooks: ForwardHooks) throws -> [[Float]] {
    throw TasksError.usage("\(name): the model has no masked-LM head")
  }
  public var name: String { "the model" }
}
