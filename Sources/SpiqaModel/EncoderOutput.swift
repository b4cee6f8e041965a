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
