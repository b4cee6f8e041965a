import SpiqaTokenizers

/// One or two text segments as model input, the way Hugging Face tokenizers call them with `truncation=True`:
/// the one place sentence and sentence-pair sequences are laid out (SQuAD features have their own featurizer).
public struct SegmentEncoder: Sendable {
  /// Tokens per sequence, special tokens included.
  public var maxLength: Int
  /// How a pair that does not fit is cut (`longest_first` of the Python or the Rust tokenizers).
  public var pairTruncation: PairTruncation

  public init(maxLength: Int, pairTruncation: PairTruncation = .slow) {
    self.maxLength = maxLength
    self.pairTruncation = pairTruncation
  }

  /// Special tokens a single segment / a pair adds (`[CLS] a [SEP]`, `[CLS] a [SEP] b [SEP]`; RoBERTa
  /// `<s> a </s>`, `<s> a </s></s> b </s>`).
  public static func addedTokens(_ layout: PairLayout, pair: Bool) -> Int {
    pair ? layout.pairAddedTokens : 2
  }

  /// `(ids, tokenTypes)`: token types only for a BERT-layout pair (0 for `[CLS] a [SEP]`, 1 for `b [SEP]`); single
  /// segments and RoBERTa pairs have none (all 0).
  /// - Throws: `TasksError.usage` when `maxLength` leaves no room for text.
  public func encode(_ a: String, pair b: String?, tokenizer: TaskTokenizer) throws -> (ids: [Int], types: [Int]?) {
    let layout = tokenizer.layout
    let added = Self.addedTokens(layout, pair: b != nil)
    guard maxLength >= added else {
      throw TasksError.usage("a sequence of \(maxLength) tokens leaves no room for text after \(added) special tokens")
    }
    var first = tokenizer.ids(a)
    guard let b else {
      return ([tokenizer.clsId] + first.prefix(maxLength - added) + [tokenizer.sepId], nil)
    }
    var second = tokenizer.ids(b)
    truncatePair(&first, &second, maxLength: maxLength - added, strategy: .longestFirst, style: pairTruncation)
    switch layout {
    case .bert:
      let ids = [tokenizer.clsId] + first + [tokenizer.sepId] + second + [tokenizer.sepId]
      return (ids, Array(repeating: 0, count: first.count + 2) + Array(repeating: 1, count: second.count + 1))
    case .roberta:
      return ([tokenizer.clsId] + first + [tokenizer.sepId, tokenizer.sepId] + second + [tokenizer.sepId], nil)
    }
  }
}
