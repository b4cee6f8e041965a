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

/// Shape of one layer's attention probabilities handed to a hook: [batch, heads, seqLen, seqLen], row-major.
public struct AttentionDims: Sendable, Equatable {
  public var batch: Int
  public var heads: Int
  public var seqLen: Int
  /// Real tokens per batch row.
  public var lengths: [Int]
  public init(batch: Int, heads: Int, seqLen: Int, lengths: [Int]) {
    self.batch = batch
    self.heads = heads
    self.seqLen = seqLen
    self.lengths = lengths
  }
}

/// Shape of hidden states handed to a hook: [batch, seqLen, hidden], row-major.
public struct HiddenDims: Sendable, Equatable {
  public var batch: Int
  public var seqLen: Int
  public var hidden: Int
  public init(batch: Int, seqLen: Int, hidden: Int) {
    self.batch = batch
    self.seqLen = seqLen
    self.hidden = hidden
  }
}

/// Hooks a task model calls during its forward pass (the evaluation's prune/quantize/replay/record points).
public struct TaskHooks {
  /// Per layer after softmax and the zeroing of padded rows/columns, before P·V; may modify in place.
  public var attention: ((_ layer: Int, _ probs: UnsafeMutableBufferPointer<Float>, _ dims: AttentionDims) throws -> Void)?
  /// Each layer's input hidden states (the §1.3 hidden-state quantization point).
  public var layerInput: ((_ layer: Int, _ states: UnsafeMutableBufferPointer<Float>, _ dims: HiddenDims) throws -> Void)?
  /// Each layer's output hidden states (the §1.3 hidden-state threshold point).
  public var layerOutput: ((_ layer: Int, _ states: UnsafeMutableBufferPointer<Float>, _ dims: HiddenDims) throws -> Void)?

  public init() {}
}

/// What the evaluators need from a model runtime (SpiqaModel's `Encoder` is adapted to it; tests use stand-ins).
public protocol TaskModel: AnyObject {
  /// Transformer layers and attention heads per layer.
  var layerCount: Int { get }
  var headCount: Int { get }
  /// Longest sequence the position embeddings allow.
  var maxPositions: Int { get }
  /// Extractive QA: start and end logits, each [batch][seqLen].
  func questionAnswering(_ batch: TaskBatch, hooks: TaskHooks) throws -> (start: [[Float]], end: [[Float]])
  /// Sequence classification: logits [batch][labels].
  func classify(_ batch: TaskBatch, hooks: TaskHooks) throws -> [[Float]]
}
