/// One or two text segments as model input, the way Hugging Face tokenizers call them with `truncation=True`:
/// the one place sentence and sentence-pair sequences are laid out (SQuAD features have their own featurizer).
public struct SegmentEncoder: Sendable {
  /// Tokens per sequence, special tokens included.
  public var maxLength: Int

  public init(maxLength: Int) { self.maxLength = maxLength }

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
    Self.truncateLongestFirst(&first, &second, remove: first.count + second.count + added - maxLength)
    switch layout {
    case .bert:
      let ids = [tokenizer.clsId] + first + [tokenizer.sepId] + second + [tokenizer.sepId]
      return (ids, Array(repeating: 0, count: first.count + 2) + Array(repeating: 1, count: second.count + 1))
    case .roberta:
      return ([tokenizer.clsId] + first + [tokenizer.sepId, tokenizer.sepId] + second + [tokenizer.sepId], nil)
    }
  }

  /// transformers' `longest_first` for a pair (right side): first even out the lengths, then take the rest
  /// alternately, the first segment getting the smaller half.
  static func truncateLongestFirst(_ a: inout [Int], _ b: inout [Int], remove: Int) {
    guard remove > 0 else { return }
    let firstRemove = min(abs(b.count - a.count), remove)
    let secondRemove = remove - firstRemove
    let fromA: Int
    let fromB: Int
    if a.count > b.count {
      fromA = firstRemove + secondRemove / 2
      fromB = secondRemove - secondRemove / 2
    } else {
      fromA = secondRemove / 2
      fromB = firstRemove + secondRemove - secondRemove / 2
    }
    a.removeLast(min(fromA, a.count))
    b.removeLast(min(fromB, b.count))
  }
}
