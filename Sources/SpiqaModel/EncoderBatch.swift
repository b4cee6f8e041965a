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
