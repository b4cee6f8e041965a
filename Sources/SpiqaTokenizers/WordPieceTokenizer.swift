import Foundation
import SpiqaCore

/// BERT tokenizer: basic tokenization (clean text, CJK spacing, lower-casing and accent stripping
/// when uncased, punctuation split) followed by greedy longest-match-first WordPiece with `##`
/// continuations. Matches Hugging Face's slow `BertTokenizer` (Python `BasicTokenizer` +
/// `WordpieceTokenizer`), see docs/tokenizers.md.
public final class WordPieceTokenizer: Tokenizer, Sendable {
  public struct Options: Sendable, Equatable {
    /// Lower-case (and, unless `stripAccents == false`, strip accents). `do_lower_case`.
    public var doLowerCase: Bool = true
    /// `tokenize_chinese_chars`: put spaces around CJK ideographs.
    public var tokenizeChineseChars: Bool = true
    /// `strip_accents`: nil = follow `doLowerCase`.
    public var stripAccents: Bool? = nil
    /// Python `str.lower()` on each whole word, with the Final_Sigma rule (Google's
    /// tokenization.py, transformers ≥ 5 slow). false = lower-case each scalar on its own
    /// (transformers 2–4 slow when `do_lower_case` is in the tokenizer config, and the Rust fast
    /// tokenizer); the two differ only for a capital sigma ending a word.
    public var finalSigma: Bool = true
    /// Words longer than this many scalars become `[UNK]`.
    public var maxInputCharsPerWord: Int = 100
    public var unkToken = "[UNK]", sepToken = "[SEP]", padToken = "[PAD]", clsToken = "[CLS]"
    public var maskToken = "[MASK]"

    public init() {}
  }

  public let kind = TokenizerKind.wordPiece
  public let options: Options
  public let specials: SpecialTokens
  public var vocabSize: Int { idToToken.count }

  private let vocab: [String: Int]
  private let idToToken: [String]
  private let wordStart: ScalarTrie
  private let continuation: ScalarTrie
  private let splitter: SpecialTokenSplitter

  /// Builds from the vocabulary lines (line i = id i).
  public init(vocabulary: [String], options: Options = Options()) throws {
    self.options = options
    var vocab: [String: Int] = [:]
    vocab.reserveCapacity(vocabulary.count)
    var start = ScalarTrie()
    var cont = ScalarTrie()
    for (i, t) in vocabulary.enumerated() {
      vocab[t] = i
      let s = Array(t.unicodeScalars)
      start.insert(s[...], id: i)
      if s.count > 2 && s[0] == "#" && s[1] == "#" { cont.insert(s[2...], id: i) }
    }
    self.vocab = vocab
    idToToken = vocabulary
    wordStart = start
    continuation = cont
    // Like HF `convert_tokens_to_ids`: a special missing from the vocabulary maps to [UNK].
    guard let unkId = vocab[options.unkToken] else {
      throw TokenizerError(.badData, "vocabulary has no unknown token \(options.unkToken)")
    }
    func id(_ name: String) -> Int { vocab[name] ?? unkId }
    specials = SpecialTokens(
      cls: options.clsToken, sep: options.sepToken, pad: options.padToken, unk: options.unkToken,
      mask: options.maskToken, clsId: id(options.clsToken), sepId: id(options.sepToken),
      padId: id(options.padToken), unkId: unkId, maskId: id(options.maskToken))
    splitter = SpecialTokenSplitter(specials.all.map { (Array($0.unicodeScalars), id($0)) })
  }

  /// Loads `vocab.txt`.
  public convenience init(vocabFile: String, options: Options = Options()) throws {
    do {
      try self.init(vocabulary: try VocabFiles.loadWordPieceVocab(vocabFile), options: options)
    } catch let e as TokenizerError where !e.description.hasPrefix(vocabFile) {
      throw TokenizerError(e.kind, "\(vocabFile): \(e.description)")
    }
  }

  /// Loads a Hugging Face folder: `vocab.txt` plus `tokenizer_config.json` (`do_lower_case`,
  /// `tokenize_chinese_chars`, `strip_accents`, special tokens) if present.
  public static func load(directory: String) throws -> WordPieceTokenizer {
    let config = try VocabFiles.loadConfig(directory: directory)
    let cfgPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    var o = Options()
    if let b = try VocabFiles.bool(config, "do_lower_case", in: cfgPath) { o.doLowerCase = b }
    if let b = try VocabFiles.bool(config, "tokenize_chinese_chars", in: cfgPath) { o.tokenizeChineseChars = b }
    o.stripAccents = try VocabFiles.bool(config, "strip_accents", in: cfgPath)
    if let s = VocabFiles.tokenString(config, "unk_token") { o.unkToken = s }
    if let s = VocabFiles.tokenString(config, "sep_token") { o.sepToken = s }
    if let s = VocabFiles.tokenString(config, "pad_token") { o.padToken = s }
    if let s = VocabFiles.tokenString(config, "cls_token") { o.clsToken = s }
    if let s = VocabFiles.tokenString(config, "mask_token") { o.maskToken = s }
    return try WordPieceTokenizer(vocabFile: (directory as NSString).appendingPathComponent("vocab.txt"), options: o)
  }

  public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
    let specialIds: Set<Int> = [specials.clsId, specials.sepId, specials.padId, specials.maskId, specials.unkId]
    var out = ""
    for id in ids {
      guard let t = token(forId: id) else { continue }
      if skipSpecialTokens && specialIds.contains(id) && t != specials.unk { continue }
      if t.hasPrefix("##") && !out.isEmpty {
        out += t.dropFirst(2)
      } else {
        if !out.isEmpty { out += " " }
        out += t
      }
    }
    return out
  }

  public func id(forToken token: String) -> Int? { vocab[token] }
  public func token(forId id: Int) -> String? { idToToken.indices.contains(id) ? idToToken[id] : nil }

  public func tokenize(_ text: String) -> [Token] {
    let scalars = Array(text.unicodeScalars)
    var out: [Token] = []
    out.reserveCapacity(scalars.count / 4 + 4)
    var word = TrackedScalars()
    word.scalars.reserveCapacity(32)
    word.origins.reserveCapacity(32)
    for seg in splitter.split(scalars) {
      if let id = seg.specialId {
        out.append(Token(id: id, text: String(String.UnicodeScalarView(scalars[seg.range])), scalarRange: seg.range))
      } else {
        basicTokenize(scalars, seg.range, word: &word, into: &out)
      }
    }
    return out
  }

  // MARK: - Basic tokenizer

  /// Clean text + CJK spacing + whitespace split, then per word: normalize, punctuation split,
  /// WordPiece. `word` is a reusable buffer.
  private func basicTokenize(
    _ s: [Unicode.Scalar], _ range: Range<Int>, word: inout TrackedScalars, into out: inout [Token]
  ) {
    var ascii = true
    for i in range {
      let c = s[i]
      let v = c.value
      if v < 128 {
        if v > 32 && v != 127 {
          word.append(c, from: i)
        } else if v == 32 || v == 9 || v == 10 || v == 13 {
          flushWord(&word, ascii: ascii, into: &out)
          ascii = true
        }  // else: control character, dropped
        continue
      }
      if v == 0xFFFD || PyUnicode.isBertControl(c) { continue }
      if PyUnicode.isBertSplitter(c) {
        flushWord(&word, ascii: ascii, into: &out)
        ascii = true
      } else if options.tokenizeChineseChars && v >= 0x3400 && PyUnicode.isCJK(v) {
        flushWord(&word, ascii: ascii, into: &out)
        word.append(c, from: i)
        flushWord(&word, ascii: false, into: &out)
        ascii = true
      } else {
        word.append(c, from: i)
        ascii = false
      }
    }
    flushWord(&word, ascii: ascii, into: &out)
  }

  private func flushWord(_ word: inout TrackedScalars, ascii: Bool, into out: inout [Token]) {
    guard !word.isEmpty else { return }
    defer { word.removeAll() }
    if ascii {
      // ASCII: lower-casing is A–Z only, and nothing has accents to strip.
      if options.doLowerCase {
        for i in 0..<word.count where (65...90).contains(word.scalars[i].value) {
          word.scalars[i] = Unicode.Scalar(word.scalars[i].value + 32)!
        }
      }
      splitPunctuation(word, into: &out)
      return
    }
    var w = word
    if options.doLowerCase {
      w = TextNormalization.lowercase(w, finalSigma: options.finalSigma)
      if options.stripAccents != false { w = TextNormalization.stripAccents(w) }
    } else if options.stripAccents == true {
      w = TextNormalization.stripAccents(w)
    }
    splitPunctuation(w, into: &out)
  }

  /// Each punctuation scalar is its own piece; the runs between are WordPiece'd.
  private func splitPunctuation(_ w: TrackedScalars, into out: inout [Token]) {
    var pieceStart = 0
    for i in 0..<w.count where PyUnicode.isBertPunctuation(w.scalars[i]) {
      if pieceStart < i { wordPiece(w, pieceStart..<i, into: &out) }
      wordPiece(w, i..<(i + 1), into: &out)
      pieceStart = i + 1
    }
    if pieceStart < w.count { wordPiece(w, pieceStart..<w.count, into: &out) }
  }

  // MARK: - WordPiece

  private func wordPiece(_ w: TrackedScalars, _ r: Range<Int>, into out: inout [Token]) {
    let whole = w.origins[r.lowerBound]..<(w.origins[r.upperBound - 1] + 1)
    if r.count > options.maxInputCharsPerWord {
      out.append(Token(id: specials.unkId, text: specials.unk, scalarRange: whole))
      return
    }
    let mark = out.count
    var start = r.lowerBound
    while start < r.upperBound {
      let match =
        start == r.lowerBound
        ? wordStart.longestPrefix(w.scalars, from: start, to: r.upperBound)
        : continuation.longestPrefix(w.scalars, from: start, to: r.upperBound)
      guard let (end, id) = match else {
        out.removeLast(out.count - mark)
        out.append(Token(id: specials.unkId, text: specials.unk, scalarRange: whole))
        return
      }
      let lo = w.origins[start]
      let hi = w.origins[end - 1] + 1
      out.append(Token(id: id, text: idToToken[id], scalarRange: lo..<max(hi, lo)))
      start = end
    }
  }
}

/// A trie over Unicode scalars for longest-prefix vocabulary matches.
struct ScalarTrie: Sendable {
  private var edges = FlatMap64(minimumCapacity: 1 << 16)
  private var terminal: [Int32] = [-1]

  mutating func insert(_ s: ArraySlice<Unicode.Scalar>, id: Int) {
    guard !s.isEmpty else { return }
    var node: UInt64 = 0
    for c in s {
      let key = node << 21 | UInt64(c.value)
      if let next = edges.get(key) {
        node = next
      } else {
        let next = UInt64(terminal.count)
        terminal.append(-1)
        edges.set(key, next)
        node = next
      }
    }
    terminal[Int(node)] = Int32(id)
  }

  /// Longest `s[from..<end]` (end ≤ limit, non-empty) in the vocabulary: (end, id).
  @inline(__always)
  func longestPrefix(_ s: [Unicode.Scalar], from: Int, to limit: Int) -> (Int, Int)? {
    var node: UInt64 = 0
    var best: (Int, Int)? = nil
    var i = from
    while i < limit, let next = edges.get(node << 21 | UInt64(s[i].value)) {
      node = next
      i += 1
      let t = terminal[Int(node)]
      if t >= 0 { best = (i, Int(t)) }
    }
    return best
  }

  /// Every vocabulary entry that is a prefix of `s[from...]`, shortest first: `body(end, id)`.
  @inline(__always)
  func forEachPrefix(_ s: [Unicode.Scalar], from: Int, _ body: (Int, Int) -> Void) {
    var node: UInt64 = 0
    var i = from
    while i < s.count, let next = edges.get(node << 21 | UInt64(s[i].value)) {
      node = next
      i += 1
      let t = terminal[Int(node)]
      if t >= 0 { body(i, Int(t)) }
    }
  }

  /// The id of exactly `s`, if it is in the vocabulary.
  func exact(_ s: [Unicode.Scalar]) -> Int? {
    guard let (end, id) = longestPrefix(s, from: 0, to: s.count), end == s.count else { return nil }
    return id
  }
}
