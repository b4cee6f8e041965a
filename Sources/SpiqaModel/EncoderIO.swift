/// One batch of right-padded token sequences for `Encoder.forward`.
public struct EncoderBatch: Sendable {
  /// `[batch][T]` token ids, every row the same length T (padded with the model's pad id).
  public var inputIds: [[Int]]
  /// Real tokens per row (1...T); positions `>= lengths[b]` are padding.
  public var lengths: [Int]
  /// `[batch][T]` segment ids, or nil for all zeros.
  public var tokenTypeIds: [[Int]]?

  /// A batch from already padded rows.
  public init(inputIds: [[Int]], lengths: [Int], tokenTypeIds: [[Int]]? = nil) {
    self.inputIds = inputIds
    self.lengths = lengths
    self.tokenTypeIds = tokenTypeIds
  }

  /// Right-pads `sequences` (and their `tokenTypes`, with 0) to the longest one.
  public init(sequences: [[Int]], tokenTypes: [[Int]]? = nil, padTokenId: Int) {
    let t = sequences.map(\.count).max() ?? 0
    inputIds = sequences.map { $0 + Array(repeating: padTokenId, count: t - $0.count) }
    lengths = sequences.map(\.count)
    tokenTypeIds = tokenTypes.map { types in types.map { $0 + Array(repeating: 0, count: max(0, t - $0.count)) } }
  }

  public var batchSize: Int { inputIds.count }
  public var seqLen: Int { inputIds.first?.count ?? 0 }
}

/// Task head of an encoder.
public enum Head: Sendable, Equatable {
  /// Encoder only (hidden states and the mean-pooled embedding).
  case none
  /// Extractive QA (`qa_outputs`): start and end logits per token.
  case questionAnswering
  /// Sequence classification: one logit per label (`labels` from config.json id2label).
  case sequenceClassification(labels: [String])
}

/// Results of `Encoder.forward`.
public struct EncoderOutput: Sendable {
  public var batch: Int
  public var seqLen: Int
  public var hiddenSize: Int
  public var lengths: [Int]
  /// Last layer output `[batch, T, hidden]`, row-major (padded rows included).
  public var lastHiddenState: [Float]
  /// With `outputHiddenStates`: layers + 1 arrays of `[batch, T, hidden]` — the embeddings output, then each
  /// layer's output (Hugging Face `output_hidden_states`); nil otherwise.
  public var hiddenStates: [[Float]]?
  /// Attention-mask-weighted mean of the last hidden state over real tokens: `[batch][hidden]`
  /// (the sentence-transformers embedding, before any normalisation).
  public var meanPooled: [[Float]]
  /// QA head: `[batch][T]` start and end logits (padded positions included).
  public var startLogits: [[Float]]?
  public var endLogits: [[Float]]?
  /// Classification head: `[batch][labels]`.
  public var logits: [[Float]]?
}
