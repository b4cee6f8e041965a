/// How a question/context pair is laid out around the special tokens.
public enum PairLayout: String, Sendable {
  /// `[CLS] Q [SEP] C [SEP]`, token types 0 then 1 (HF 3.1: 2 single-sentence / 3 pair added tokens).
  case bert
  /// `<s> Q </s></s> C </s>`, no token types (HF 3.1: 3 / 4 added tokens).
  case roberta

  /// Tokens before the context: `[CLS] Q [SEP]` or `<s> Q </s></s>` minus the question (HF `sequence_added_tokens`).
  public var tokensBeforeContext: Int { self == .bert ? 2 : 3 }
  /// All special tokens of a pair (HF `sequence_pair_added_tokens`).
  public var pairAddedTokens: Int { self == .bert ? 3 : 4 }
}

/// What featurization needs from a tokenizer: ids of a piece of text without special tokens, and the specials.
public protocol TaskTokenizer {
  /// Token ids of `text`, no special tokens added (the slow HF `tokenize` + `convert_tokens_to_ids`).
  func ids(_ text: String) -> [Int]
  /// Token strings for the ids (for records that carry tokens); may return `nil` when unavailable.
  func tokens(_ ids: [Int]) -> [String]?
  var clsId: Int { get }
  var sepId: Int { get }
  var padId: Int { get }
  var layout: PairLayout { get }
  /// The mask token's id (`[MASK]`, `<mask>`), nil when the vocabulary has none (task mlm needs it).
  var maskId: Int? { get }
}

extension TaskTokenizer {
  public var maskId: Int? { nil }
}

/// The featurization parameters (HF 3.1 pipeline defaults used by the paper).
public struct SquadFeaturizer: Sendable {
  public var maxSeqLen = 320
  public var docStride = 128
  public var maxQueryLen = 64
  public init(maxSeqLen: Int = 320, docStride: Int = 128, maxQueryLen: Int = 64) {
    self.maxSeqLen = maxSeqLen
    self.docStride = docStride
    self.maxQueryLen = maxQueryLen
  }

  /// HF `_is_whitespace` used by `SquadExample`: space, tab, CR, LF, U+202F (not other Unicode spaces).
  public static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    s == " " || s == "\t" || s == "\r" || s == "\n" || s.value == 0x202F
  }

  /// `SquadExample`'s whitespace words of a context.
  public static func docTokens(_ context: String) -> [String] {
    splitWords(context.unicodeScalars, isSeparator: isWhitespace)
  }

  /// `squad_convert_example_to_features(is_training=False, padding="max_length")` for one question.
  ///
  /// Words are tokenized one by one; the question is tokenized whole and cut to `maxQueryLen` tokens. Spans come from
  /// HF 3.1's overflow loop: each round truncates the remaining context to what fits (`only_second`) and continues
  /// with the overflowing tail of `stride = maxSeqLen − docStride − |Q| − pairAdded` kept tokens plus the removed ones,
  /// so span k starts at context token k·docStride as long as the stride is within the span.
  /// - Throws: `TasksError.usage` when the question leaves no room for context or the stride exceeds that room.
  public func featurize(question: String, context: String, tokenizer: TaskTokenizer) throws -> SquadExampleFeatures {
    let words = Self.docTokens(context)
    var docIds: [Int] = []
    var tokenToWord: [Int] = []
    for (w, word) in words.enumerated() {
      for id in tokenizer.ids(word) {
        docIds.append(id)
        tokenToWord.append(w)
      }
    }
    let query = Array(tokenizer.ids(question).prefix(maxQueryLen))
    let layout = tokenizer.layout
    let room = maxSeqLen - query.count - layout.pairAddedTokens
    guard room > 0 else {
      throw TasksError.usage(
        "max_seq_len \(maxSeqLen) leaves no room for context after a \(query.count)-token question")
    }
    let stride = maxSeqLen - docStride - query.count - layout.pairAddedTokens
    guard docStride > 0, stride >= 0 else {
      throw TasksError.usage(
        "doc_stride \(docStride) must be in 1...\(room) (the context room of a \(query.count)-token question)")
    }
    var features: [SquadFeature] = []
    var span = docIds[...]
    var spanStart = 0  // position of `span` in docIds
    while features.count * docStride < docIds.count {
      // encode_plus(query, span, truncation="only_second", stride, return_overflowing_tokens=True)
      var kept = span
      var overflow: ArraySlice<Int> = []
      let total = query.count + span.count + layout.pairAddedTokens
      if total > maxSeqLen {
        let remove = total - maxSeqLen
        let window = min(span.count, stride + remove)
        overflow = span.suffix(window)
        kept = span.dropLast(remove)
      }
      let paragraphStart = features.count * docStride
      let paragraphLen = min(docIds.count - paragraphStart, room)
      var ids: [Int]
      var types: [Int]
      switch layout {
      case .bert:
        ids = [tokenizer.clsId] + query + [tokenizer.sepId] + kept + [tokenizer.sepId]
        types = Array(repeating: 0, count: query.count + 2) + Array(repeating: 1, count: kept.count + 1)
      case .roberta:
        ids = [tokenizer.clsId] + query + [tokenizer.sepId, tokenizer.sepId] + kept + [tokenizer.sepId]
        types = Array(repeating: 0, count: ids.count)
      }
      let n = ids.count
      let contextStart = query.count + layout.tokensBeforeContext
      // token_to_orig_map: position contextStart+i → word of doc token paragraphStart+i (HF indexes docIds here,
      // not the overflow window, which is why the stride matters only through where `kept` begins).
      let mapLen = max(0, min(paragraphLen, docIds.count - paragraphStart))
      let map = (0..<mapLen).map { tokenToWord[paragraphStart + $0] }
      // Allowed answer positions: p_mask == 0 && attention_mask == 1, i.e. [CLS] and context tokens that are not
      // [CLS]/[SEP] ids (HF 3.1 get_special_tokens_mask(already_has_special_tokens=True)).
      var allowed = [Bool](repeating: false, count: maxSeqLen)
      allowed[0] = true
      if n - 1 > contextStart {
        for i in contextStart..<(n - 1) where ids[i] != tokenizer.clsId && ids[i] != tokenizer.sepId {
          allowed[i] = true
        }
      }
      ids += Array(repeating: tokenizer.padId, count: maxSeqLen - n)
      types += Array(repeating: 0, count: maxSeqLen - n)
      features.append(
        SquadFeature(
          inputIds: ids, tokenTypeIds: types, length: n, contextStart: contextStart,
          spanStart: spanStart, tokenToWord: map, allowed: allowed))
      if overflow.isEmpty { break }
      spanStart += span.count - overflow.count
      span = overflow
    }
    return SquadExampleFeatures(docTokens: words, features: features, queryLength: query.count)
  }
}

/// One model input of a SQuAD question (a window over its context).
public struct SquadFeature: Sendable, Equatable {
  /// [maxSeqLen] token ids, padded with the pad id.
  public var inputIds: [Int]
  /// [maxSeqLen] token types (BERT: 0 for `[CLS] Q [SEP]` and padding, 1 for `C [SEP]`; RoBERTa: all 0).
  public var tokenTypeIds: [Int]
  /// Real tokens (the rest is padding).
  public var length: Int
  /// Sequence position of the first context token.
  public var contextStart: Int
  /// Index in the question's context tokens where this window's ids begin.
  public var spanStart: Int
  /// `token_to_orig_map`: whitespace-word index of sequence position `contextStart + i`.
  public var tokenToWord: [Int]
  /// [maxSeqLen] positions that may hold an answer boundary ([CLS] — scored 0 — and context tokens).
  public var allowed: [Bool]
}

/// All features of one question plus its whitespace words (the answer is built from them).
public struct SquadExampleFeatures: Sendable {
  public var docTokens: [String]
  public var features: [SquadFeature]
  /// Question tokens after truncation.
  public var queryLength: Int
}
