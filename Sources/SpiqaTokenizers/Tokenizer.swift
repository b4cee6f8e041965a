// Common tokenizer API: tokens with offsets, special tokens, single/pair encodings, truncation.
//
// Offsets are Unicode-scalar offsets into the ORIGINAL text (the same numbers as Python `str`
// indices and Hugging Face fast tokenizers' `offset_mapping`). Use `TokenOffsets` to turn them into
// `String.Index` / UTF-16 ranges.

import SpiqaCore

/// One token of a tokenized text.
public struct Token: Sendable, Hashable {
  /// Vocabulary id.
  public var id: Int
  /// Vocabulary string (`##ing`, `Ġhello`, `[UNK]`).
  public var text: String
  /// Scalars `[lowerBound, upperBound)` of the original text this token was made from.
  /// WordPiece `##` pieces cover only their own characters; `[UNK]` covers the whole word.
  /// Byte-level BPE tokens do not cover the leading/trailing spaces they absorbed (like HF's
  /// `trim_offsets=True`), so a whitespace-only token has an empty range at its end.
  public var scalarRange: Range<Int>

  public init(id: Int, text: String, scalarRange: Range<Int>) {
    self.id = id
    self.text = text
    self.scalarRange = scalarRange
  }
}

public enum TokenizerKind: String, Sendable {
  case wordPiece = "wordpiece"
  case byteLevelBPE = "bpe"
  /// SentencePiece Unigram from tokenizer.json (ALBERT, XLM-RoBERTa).
  case unigram = "unigram"
}

/// Names and ids of a tokenizer's special tokens.
public struct SpecialTokens: Sendable, Equatable {
  public var cls: String, sep: String, pad: String, unk: String, mask: String
  public var clsId: Int, sepId: Int, padId: Int, unkId: Int, maskId: Int

  /// All special strings (never split when they occur in text), in a fixed order.
  public var all: [String] { [cls, sep, pad, unk, mask] }
}

/// Output of `encode` / `encodePair`: ids with the special tokens inserted.
/// Arrays all have the same length.
public struct Encoding: Sendable, Equatable {
  public var ids: [Int]
  public var tokens: [String]
  /// 0 for the first segment (and its specials), 1 for the second segment (WordPiece and ALBERT;
  /// RoBERTa's and XLM-R's are all 0, as in Hugging Face).
  public var tokenTypeIds: [Int]
  /// Scalar ranges into the segment's text; nil for inserted special tokens.
  public var scalarRanges: [Range<Int>?]
  /// 0 / 1 = which input text the token came from; nil for inserted special tokens.
  public var sequenceIds: [Int?]

  public var count: Int { ids.count }
  public var attentionMask: [Int] { Array(repeating: 1, count: ids.count) }
}

/// How `encodePair(maxLength:)` shortens a pair (Hugging Face `truncation=` values).
public enum TruncationStrategy: String, Sendable {
  /// Cut the longer segment first; see `PairTruncation` for how the two implementations share the room when both
  /// segments must be cut.
  case longestFirst = "longest_first"
  case onlyFirst = "only_first"
  case onlySecond = "only_second"
}

/// Whose `longest_first` a pair follows. The two agree unless both segments must be cut, the room left for them is
/// odd and the first segment is not the longer (docs/evaluation.md, "GLUE and sentence pairs").
public enum PairTruncation: String, Sendable, CaseIterable {
  /// transformers' Python tokenizers (`PreTrainedTokenizer`): one token at a time from the longer segment, from the
  /// second when they are equal, so the first keeps the odd token.
  case slow
  /// The Rust `tokenizers` library behind `PreTrainedTokenizerFast` (what `AutoTokenizer` loads): the shorter
  /// segment keeps what the longer leaves it room for, else each gets half and the longer one the odd token.
  case fast
}

/// An error loading a tokenizer: unreadable (`.io`) or malformed (`.badData`) vocabulary and config files.
public struct TokenizerError: SpiqaError, Sendable {
  public var kind: SpiqaErrorKind
  public var description: String
  public init(_ kind: SpiqaErrorKind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}

/// A subword tokenizer: WordPiece (BERT), byte-level BPE (RoBERTa/GPT-2) or SentencePiece Unigram.
public protocol Tokenizer: Sendable {
  var kind: TokenizerKind { get }
  /// Pair frame: `<s> A </s></s> B </s>` with all token types 0 (true: byte-level BPE, XLM-R) or
  /// `[CLS] A [SEP] B [SEP]` with the second segment type 1 (false: WordPiece, ALBERT).
  var doubleSeparator: Bool { get }
  var specials: SpecialTokens { get }
  /// Number of vocabulary entries (highest id + 1).
  var vocabSize: Int { get }
  /// Tokens of `text` without special tokens added (HF slow `tokenize` + `convert_tokens_to_ids`).
  /// Special-token strings occurring in the text come out as single special tokens.
  func tokenize(_ text: String) -> [Token]
  func id(forToken token: String) -> Int?
  func token(forId id: Int) -> String?
  /// Text of token ids (HF `decode` without cleanup): WordPiece joins words and glues `##`
  /// pieces; byte-level BPE turns the tokens back into bytes (lossless; invalid UTF-8 → U+FFFD);
  /// Unigram turns `▁` back into spaces.
  func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
  /// Loads a Hugging Face tokenizer folder.
  static func load(directory: String) throws -> Self
}

extension Tokenizer {
  /// `decode(ids, skipSpecialTokens: true)`.
  public func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: true) }

  public var doubleSeparator: Bool { kind == .byteLevelBPE }

  /// Number of specials around a single text (2) or a pair (3 for BERT/ALBERT, 4 for RoBERTa/XLM-R).
  public func numSpecialTokensToAdd(pair: Bool) -> Int { pair ? (doubleSeparator ? 4 : 3) : 2 }

  /// `[CLS] A [SEP]` / `<s> A </s>`, or just the tokens when `addSpecialTokens` is false.
  public func encode(_ text: String, addSpecialTokens: Bool = true) -> Encoding {
    let a = tokenize(text)
    if !addSpecialTokens {
      return Encoding(
        ids: a.map(\.id), tokens: a.map(\.text), tokenTypeIds: Array(repeating: 0, count: a.count),
        scalarRanges: a.map(\.scalarRange), sequenceIds: Array(repeating: 0, count: a.count))
    }
    return buildInputs(a, nil)
  }

  /// `[CLS] A [SEP] B [SEP]` (types 0…0 1…1) or `<s> A </s></s> B </s>` (types all 0).
  /// With `maxLength`, the segments are shortened first so that the total fits.
  public func encodePair(
    _ first: String, _ second: String, maxLength: Int? = nil, strategy: TruncationStrategy = .longestFirst
  ) -> Encoding {
    var a = tokenize(first)
    var b = tokenize(second)
    if let maxLength {
      truncatePair(&a, &b, maxLength: maxLength - numSpecialTokensToAdd(pair: true), strategy: strategy)
    }
    return buildInputs(a, b)
  }

  /// Inserts the special tokens around already tokenized segments.
  public func buildInputs(_ a: [Token], _ b: [Token]?) -> Encoding {
    var e = Encoding(ids: [], tokens: [], tokenTypeIds: [], scalarRanges: [], sequenceIds: [])
    let s = specials
    func special(_ id: Int, _ name: String, type: Int) {
      e.ids.append(id); e.tokens.append(name); e.tokenTypeIds.append(type)
      e.scalarRanges.append(nil); e.sequenceIds.append(nil)
    }
    func segment(_ tokens: [Token], seq: Int, type: Int) {
      for t in tokens {
        e.ids.append(t.id); e.tokens.append(t.text); e.tokenTypeIds.append(type)
        e.scalarRanges.append(t.scalarRange); e.sequenceIds.append(seq)
      }
    }
    special(s.clsId, s.cls, type: 0)
    segment(a, seq: 0, type: 0)
    special(s.sepId, s.sep, type: 0)
    if let b {
      let bType = doubleSeparator ? 0 : 1
      if doubleSeparator { special(s.sepId, s.sep, type: 0) }
      segment(b, seq: 1, type: bType)
      special(s.sepId, s.sep, type: bType)
    }
    return e
  }

  /// Tokenizes each word on its own (SQuAD featurization: `tokenizer.tokenize(word)` per
  /// whitespace-split word). `wordIndex[i]` is the word that token `i` came from; ranges are
  /// relative to that word.
  public func tokenizeWords(_ words: [String]) -> (tokens: [Token], wordIndex: [Int]) {
    var tokens: [Token] = []
    var wordIndex: [Int] = []
    for (w, word) in words.enumerated() {
      let t = tokenize(word)
      tokens.append(contentsOf: t)
      wordIndex.append(contentsOf: repeatElement(w, count: t.count))
    }
    return (tokens, wordIndex)
  }

  /// Ids → vocabulary strings (nil entries for unknown ids are skipped).
  public func tokens(forIds ids: [Int]) -> [String] { ids.compactMap { token(forId: $0) } }
}

/// Shortens two token lists to at most `maxLength` tokens together, from the right (HF `truncate_sequences`, or the
/// Rust library's `truncate_encodings` with `style: .fast`).
/// A negative budget or an impossible `onlyFirst`/`onlySecond` request empties what it may.
public func truncatePair<T>(
  _ a: inout [T], _ b: inout [T], maxLength: Int, strategy: TruncationStrategy, style: PairTruncation = .slow
) {
  let budget = max(0, maxLength)
  let remove = a.count + b.count - budget
  guard remove > 0 else { return }
  switch strategy {
  case .longestFirst:
    let (keepA, keepB) = longestFirstLengths(a.count, b.count, budget: budget, style: style)
    a.removeLast(a.count - keepA)
    b.removeLast(b.count - keepB)
  case .onlyFirst: a.removeLast(min(remove, a.count))
  case .onlySecond: b.removeLast(min(remove, b.count))
  }
}

/// The lengths `longest_first` keeps of segments of `n1` and `n2` tokens that do not fit in `budget` together.
func longestFirstLengths(_ n1: Int, _ n2: Int, budget: Int, style: PairTruncation) -> (Int, Int) {
  switch style {
  case .slow:
    // Removing one token at a time from the longer (the second when equal) first evens the lengths out, then
    // alternates starting with the second: the first ends with the larger half.
    if n1 + n2 - budget <= abs(n1 - n2) { return n1 > n2 ? (budget - n2, n2) : (n1, budget - n1) }
    return (budget - budget / 2, budget / 2)
  case .fast:
    // The shorter keeps its length if the longer can still have as much; otherwise both get half of the budget
    // and the longer (the second when equal) the odd token.
    let shorter = min(n1, n2)
    if 2 * shorter <= budget { return n1 <= n2 ? (n1, budget - n1) : (budget - n2, n2) }
    let half = budget / 2
    return n1 > n2 ? (half + budget % 2, half) : (half, half + budget % 2)
  }
}

/// Helpers to convert scalar offsets to other string index spaces.
public enum TokenOffsets {
  /// `String.Index` range of a scalar range (nil if out of bounds).
  public static func stringRange(_ r: Range<Int>, in text: String) -> Range<String.Index>? {
    let u = text.unicodeScalars
    guard r.lowerBound >= 0,
      let lo = u.index(u.startIndex, offsetBy: r.lowerBound, limitedBy: u.endIndex),
      let hi = u.index(lo, offsetBy: r.count, limitedBy: u.endIndex)
    else { return nil }
    return lo..<hi
  }

  /// UTF-16 offsets of a scalar range (what NSString / JavaScript count).
  public static func utf16Range(_ r: Range<Int>, in text: String) -> Range<Int>? {
    guard let sr = stringRange(r, in: text) else { return nil }
    let lo = text.utf16.distance(from: text.utf16.startIndex, to: sr.lowerBound)
    return lo..<(lo + text.utf16.distance(from: sr.lowerBound, to: sr.upperBound))
  }

  /// The original substring of a token.
  public static func substring(_ r: Range<Int>, in text: String) -> Substring? {
    stringRange(r, in: text).map { text[$0] }
  }
}
