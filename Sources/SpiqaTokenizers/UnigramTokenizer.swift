import Foundation
import SpiqaCore

/// SentencePiece Unigram (ALBERT, XLM-RoBERTa) as a Hugging Face `tokenizer.json` describes it, with the Rust
/// tokenizers crate's semantics (docs/tokenizers.md): added tokens cut out of the raw text, then per remaining
/// segment the normalizers (`Precompiled` charsmap, `Replace`, `Lowercase`, NFKD…), the pre-tokenizers
/// (`WhitespaceSplit`, `Metaspace`) and the Unigram model's Viterbi segmentation (best total piece score; a
/// scalar no piece starts with costs the lowest score minus 10 and becomes the unknown token, consecutive unknowns
/// fused into one).
public final class UnigramTokenizer: Tokenizer, @unchecked Sendable {
  /// `Metaspace` prefix rule: `always` prefixes every pre-token, `first` only the one at the text's start.
  public enum PrependScheme: String, Sendable { case always, first, never }

  /// One pre-tokenizer step.
  enum PreTokenizer: Sendable {
    /// Split on White_Space, dropping it.
    case whitespaceSplit
    /// Spaces → `replacement`, prefix it per `prepend`, and with `split` cut before every `replacement`.
    case metaspace(replacement: Unicode.Scalar, prepend: PrependScheme, split: Bool)
  }

  /// An added token cut out of the text before normalization (`lstrip`/`rstrip`: it absorbs the whitespace on
  /// that side).
  struct AddedToken: Sendable {
    var content: String, id: Int, special: Bool, lstrip: Bool, rstrip: Bool
  }

  public let kind = TokenizerKind.unigram
  public let specials: SpecialTokens
  public let vocabSize: Int
  /// `<s> A </s></s> B </s>` (XLM-R, all type 0) rather than `[CLS] A [SEP] B [SEP]` (ALBERT, B type 1).
  public let doubleSeparator: Bool

  private let pieces: [String]
  private let scores: [Double]
  private let unkId: Int
  private let unkScore: Double
  private let byteFallback: Bool
  private let trie: ScalarTrie
  private let normalizers: [SentencePieceNormalizer]
  private let preTokenizers: [PreTokenizer]
  private let added: [AddedToken]
  private let splitter: SpecialTokenSplitter
  /// Decoder: the Metaspace replacement and whether a leading space is dropped.
  private let replacement: Unicode.Scalar
  private let stripLeadingSpace: Bool

  init(
    vocab: [(String, Double)], unkId: Int, byteFallback: Bool, normalizers: [SentencePieceNormalizer],
    preTokenizers: [PreTokenizer], added: [AddedToken], first: String?, separator: String?, doubleSeparator: Bool,
    padToken: String?, maskToken: String?
  ) throws(TokenizerError) {
    guard !vocab.isEmpty else { throw TokenizerError(.badData, "Unigram model with an empty vocab") }
    guard unkId >= 0 && unkId < vocab.count else {
      throw TokenizerError(.badData, "Unigram unk_id \(unkId) is outside the vocab (0..<\(vocab.count))")
    }
    pieces = vocab.map(\.0)
    scores = vocab.map(\.1)
    self.unkId = unkId
    // The Rust crate's K_UNK_PENALTY: an unknown scalar scores 10 below the worst piece.
    unkScore = (scores.min() ?? 0) - 10
    self.byteFallback = byteFallback
    var t = ScalarTrie()
    for (id, p) in pieces.enumerated() { t.insert(ArraySlice(p.unicodeScalars), id: id) }  // a repeated piece: last id
    trie = t
    vocabSize = max(vocab.count, (added.map(\.id).max() ?? -1) + 1)  // added tokens may lie past the pieces
    self.normalizers = normalizers
    self.preTokenizers = preTokenizers
    self.added = added
    splitter = SpecialTokenSplitter(added.map { (Array($0.content.unicodeScalars), $0.id) })
    self.doubleSeparator = doubleSeparator
    var rep: Unicode.Scalar = "\u{2581}"
    var strip = true
    for case .metaspace(let r, let p, _) in preTokenizers {
      rep = r
      strip = p != .never
    }
    replacement = rep
    stripLeadingSpace = strip

    var index: [String: Int] = [:]
    for (id, p) in pieces.enumerated() { index[p] = id }
    for a in added { index[a.content] = a.id }
    func named(_ given: String?, _ fallbacks: [String]) -> (String, Int) {
      for n in ([given].compactMap { $0 } + fallbacks) { if let id = index[n] { return (n, id) } }
      return (given ?? fallbacks[0], unkId)
    }
    let cls = named(first, ["<s>", "[CLS]"]), sep = named(separator, ["</s>", "[SEP]"])
    let pad = named(padToken, ["<pad>", "[PAD]"]), mask = named(maskToken, ["<mask>", "[MASK]"])
    specials = SpecialTokens(
      cls: cls.0, sep: sep.0, pad: pad.0, unk: pieces[unkId], mask: mask.0,
      clsId: cls.1, sepId: sep.1, padId: pad.1, unkId: unkId, maskId: mask.1)
  }

  public static func load(directory: String) throws -> UnigramTokenizer {
    let path = (directory as NSString).appendingPathComponent("tokenizer.json")
    guard let t = try TokenizerJSON.load(path: path, config: try VocabFiles.loadConfig(directory: directory))
      as? UnigramTokenizer
    else { throw TokenizerError(.badData, "\(path): not a Unigram (SentencePiece) tokenizer") }
    return t
  }

  public func id(forToken token: String) -> Int? {
    if let a = added.first(where: { $0.content == token }) { return a.id }
    return trie.exact(Array(token.unicodeScalars))
  }

  public func token(forId id: Int) -> String? {
    if let a = added.first(where: { $0.id == id }) { return a.content }
    return id >= 0 && id < pieces.count ? pieces[id] : nil
  }

  public func tokenize(_ text: String) -> [Token] {
    let scalars = Array(text.unicodeScalars)
    var segments = splitter.split(scalars)
    // lstrip / rstrip added tokens take the whitespace next to them out of the neighbouring text.
    for (k, s) in segments.enumerated() {
      guard let i = s.specialIndex else { continue }
      if added[i].lstrip, k > 0, segments[k - 1].specialId == nil {
        var r = segments[k - 1].range
        while !r.isEmpty && isWhiteSpace(scalars[r.upperBound - 1]) { r = r.lowerBound..<(r.upperBound - 1) }
        segments[k - 1].range = r
      }
      if added[i].rstrip, k + 1 < segments.count, segments[k + 1].specialId == nil {
        var r = segments[k + 1].range
        while !r.isEmpty && isWhiteSpace(scalars[r.lowerBound]) { r = (r.lowerBound + 1)..<r.upperBound }
        segments[k + 1].range = r
      }
    }
    var out: [Token] = []
    for s in segments {
      if let id = s.specialId {
        out.append(Token(id: id, text: added[s.specialIndex!].content, scalarRange: s.range))
      } else if !s.range.isEmpty {
        encodeSegment(scalars, s.range, into: &out)
      }
    }
    return out
  }

  /// A pre-token: `buffer[range]`, preceded by a virtual replacement character when `prefixed`.
  private struct Piece {
    var prefixed: Bool
    var range: Range<Int>
  }

  private func encodeSegment(_ scalars: [Unicode.Scalar], _ range: Range<Int>, into out: inout [Token]) {
    var t = AlignedScalars()
    t.reserve(range.count)
    for i in range { t.append(scalars[i], i, i + 1) }
    for n in normalizers { t = n.apply(t) }
    var pieces = t.count > 0 ? [Piece(prefixed: false, range: 0..<t.count)] : []
    for p in preTokenizers {
      switch p {
      case .whitespaceSplit:
        pieces = pieces.flatMap { piece -> [Piece] in
          var r: [Piece] = []
          var prefixed = piece.prefixed
          var i = piece.range.lowerBound
          let end = piece.range.upperBound
          if prefixed && (i == end || isWhiteSpace(t.scalars[i])) {
            r.append(Piece(prefixed: true, range: i..<i))  // the virtual replacement is a word of its own
            prefixed = false
          }
          while i < end {
            while i < end && isWhiteSpace(t.scalars[i]) { i += 1 }
            let start = i
            while i < end && !isWhiteSpace(t.scalars[i]) { i += 1 }
            if start < i || prefixed { r.append(Piece(prefixed: prefixed, range: start..<i)) }
            prefixed = false
          }
          return r
        }
      case .metaspace(let rep, let prepend, let split):
        for piece in pieces { for i in piece.range where t.scalars[i] == " " { t.scalars[i] = rep } }
        pieces = pieces.flatMap { piece -> [Piece] in
          var piece = piece
          let startsWithRep = piece.prefixed || (!piece.range.isEmpty && t.scalars[piece.range.lowerBound] == rep)
          if !startsWithRep && !piece.range.isEmpty {
            switch prepend {
            case .always: piece.prefixed = true
            case .first: if t.lo[piece.range.lowerBound] == 0 { piece.prefixed = true }
            case .never: break
            }
          }
          guard split else { return [piece] }
          // Cut before each replacement character (it starts the next pre-token).
          var r: [Piece] = []
          var cur = Piece(prefixed: piece.prefixed, range: piece.range.lowerBound..<piece.range.lowerBound)
          for i in piece.range {
            if t.scalars[i] == rep && (cur.prefixed || !cur.range.isEmpty) {
              r.append(cur)
              cur = Piece(prefixed: false, range: i..<i)
            }
            cur.range = cur.range.lowerBound..<(i + 1)
          }
          if cur.prefixed || !cur.range.isEmpty { r.append(cur) }
          return r
        }
      }
    }
    for piece in pieces { encodePiece(t, piece, into: &out) }
  }

  /// Viterbi over the scalars of one pre-token, then the tokens with their original scalar ranges.
  private func encodePiece(_ t: AlignedScalars, _ piece: Piece, into out: inout [Token]) {
    var s: [Unicode.Scalar] = []
    var lo: [Int] = [], hi: [Int] = []
    s.reserveCapacity(piece.range.count + 1)
    if piece.prefixed {
      let j = piece.range.isEmpty ? max(0, min(piece.range.lowerBound, t.count - 1)) : piece.range.lowerBound
      s.append(replacement)
      lo.append(t.count > 0 ? t.lo[j] : 0)
      hi.append(t.count > 0 ? t.hi[j] : 0)
    }
    for i in piece.range {
      s.append(t.scalars[i])
      lo.append(t.lo[i])
      hi.append(t.hi[i])
    }
    let n = s.count
    guard n > 0 else { return }
    // best[e]: score of the best segmentation of s[0..<e]; from[e]/node[e]: its last piece's start and id.
    var best = [Double](repeating: 0, count: n + 1)
    var from = [Int](repeating: -1, count: n + 1)
    var node = [Int](repeating: 0, count: n + 1)
    for start in 0..<n {
      let base = best[start]
      var single = false
      trie.forEachPrefix(s, from: start) { end, id in
        let score = scores[id] + base
        if from[end] < 0 || score > best[end] {
          best[end] = score
          from[end] = start
          node[end] = id
        }
        if end == start + 1 { single = true }
      }
      if !single {
        let score = unkScore + base
        if from[start + 1] < 0 || score > best[start + 1] {
          best[start + 1] = score
          from[start + 1] = start
          node[start + 1] = unkId
        }
      }
    }
    // Back to front; runs of unknown pieces become one token.
    var spans: [(Range<Int>, Int)] = []
    var e = n
    while e > 0 {
      let b = from[e]
      if node[e] == unkId, let last = spans.last, last.1 == unkId, last.0.lowerBound == e {
        spans[spans.count - 1].0 = b..<last.0.upperBound
      } else {
        spans.append((b..<e, node[e]))
      }
      e = b
    }
    for (r, nodeId) in spans.reversed() {
      let range = lo[r.lowerBound]..<max(lo[r.lowerBound], hi[r.upperBound - 1])
      var id = nodeId
      if id == unkId {
        // A fused run is looked up again as a whole (the Rust crate maps strings, not nodes, to ids).
        if r.count > 1, let (end, v) = trie.longestPrefix(s, from: r.lowerBound, to: r.upperBound), end == r.upperBound {
          id = v
        } else if byteFallback {
          let bytes = s[r].flatMap { Array(UTF8.encode($0)!) }
          let ids = bytes.map { b in trie.exact(Array(String(format: "<0x%02X>", b).unicodeScalars)) }
          if ids.allSatisfy({ $0 != nil }) {
            for (b, i) in zip(bytes, ids) { out.append(Token(id: i!, text: String(format: "<0x%02X>", b), scalarRange: range)) }
            continue
          }
        }
      }
      out.append(Token(id: id, text: pieces[id], scalarRange: range))
    }
  }

  /// Metaspace decoding: pieces joined, the replacement character back to a space, the text's leading space
  /// dropped (unless the prefix scheme is `never`); `<0xNN>` byte pieces become bytes again.
  public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
    var bytes: [UInt8] = []
    for id in ids {
      if let a = added.first(where: { $0.id == id }) {
        if !(skipSpecialTokens && a.special) { bytes.append(contentsOf: Array(a.content.utf8)) }
        continue
      }
      guard let p = token(forId: id) else { continue }
      if byteFallback, p.utf8.count == 6, p.hasPrefix("<0x"), p.hasSuffix(">"),
        let b = UInt8(p.dropFirst(3).dropLast(), radix: 16)
      {
        bytes.append(b)
        continue
      }
      for s in p.unicodeScalars {
        if s == replacement { bytes.append(0x20) } else { bytes.append(contentsOf: Array(UTF8.encode(s)!)) }
      }
    }
    if stripLeadingSpace && bytes.first == 0x20 { bytes.removeFirst() }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// White_Space (Rust `char::is_whitespace`), with ASCII answered without the property tables.
@inline(__always)
func isWhiteSpace(_ s: Unicode.Scalar) -> Bool {
  s.value < 0x80 ? (s.value == 0x20 || (0x09...0x0D).contains(s.value)) : s.properties.isWhitespace
}
