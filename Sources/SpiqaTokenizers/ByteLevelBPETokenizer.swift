import Foundation
import SpiqaCore

/// RoBERTa / GPT-2 byte-level BPE: GPT-2 pre-tokenizer regex, UTF-8 bytes mapped to printable
/// characters (`bytes_to_unicode`), then merges by rank (lowest first, all non-overlapping
/// occurrences left to right) until none applies. Matches Hugging Face 3.x's slow
/// `RobertaTokenizer` (see docs/tokenizers.md), including its special-token handling.
public final class ByteLevelBPETokenizer: Tokenizer, @unchecked Sendable {
  public struct Options: Sendable, Equatable {
    /// Prepend a space to a text that does not start with whitespace (`add_prefix_space`).
    public var addPrefixSpace = false
    public var bosToken = "<s>", eosToken = "</s>", unkToken = "<unk>", padToken = "<pad>", maskToken = "<mask>"
    /// Pre-tokens remembered by the BPE cache before it is cleared.
    public var cacheLimit = 500_000
    /// Pieces longer than this many bytes are merged with the heap algorithm (same result,
    /// O(n log n)); shorter ones with encoder.py's direct loop.
    public var heapMergeThreshold = 48
    public init() {}
  }

  public let kind = TokenizerKind.byteLevelBPE
  public let options: Options
  public let specials: SpecialTokens
  public let vocabSize: Int

  private let vocab: [String: Int]
  private let idToToken: [String?]
  /// Symbol table: vocabulary strings and merge results, by dense symbol id.
  private let symbolText: [String]
  private let symbolVocabId: [Int32]
  private let byteSymbol: [Int32]
  let merger: BPEMerger
  private let splitter: SpecialTokenSplitter

  /// BPE cache: FNV-1a hash of a pre-token's bytes → index into `cacheEntries` (bytes compared on hit).
  private let cacheLock = NSLock()
  private var cacheIndex = FlatMap64(minimumCapacity: 1 << 14)
  private var cacheEntries: [(bytes: [UInt8], result: BPEResult)] = []

  private typealias BPEResult = (symbols: [Int32], lengths: [Int32])

  /// GPT-2 `bytes_to_unicode`: printable bytes map to themselves, the other 68 to U+0100….
  public static let byteToUnicode: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var n: UInt32 = 0
    for b in 0..<256 {
      if (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(256 + n)!
        n += 1
      }
    }
    return table
  }()

  /// - Parameters:
  ///   - vocabulary: token → id (`vocab.json`).
  ///   - merges: pairs in rank order; nil entries are lines that can never match.
  public init(vocabulary: [String: Int], merges mergeList: [(String, String)?], options: Options = Options()) throws {
    self.options = options
    vocab = vocabulary
    let maxId = vocabulary.values.max() ?? -1
    guard maxId < max(1 << 20, vocabulary.count * 4) else {
      throw TokenizerError(.badData, "vocabulary ids go up to \(maxId) for \(vocabulary.count) tokens; expected dense ids")
    }
    var idToToken = [String?](repeating: nil, count: maxId + 1)
    for (t, i) in vocabulary { idToToken[i] = t }
    self.idToToken = idToToken
    vocabSize = maxId + 1

    var symbolIds: [String: Int32] = [:]
    var symbolText: [String] = []
    func symbol(_ s: String) -> Int32 {
      if let i = symbolIds[s] { return i }
      let i = Int32(symbolText.count)
      symbolIds[s] = i
      symbolText.append(s)
      return i
    }
    byteSymbol = Self.byteToUnicode.map { symbol(String(Character($0))) }
    var merges = FlatMap64(minimumCapacity: mergeList.count)
    for (rank, pair) in mergeList.enumerated() {
      guard let (a, b) = pair else { continue }
      let l = symbol(a), r = symbol(b), m = symbol(a + b)
      merges.set(UInt64(UInt32(l)) << 32 | UInt64(UInt32(r)), UInt64(rank) << 32 | UInt64(UInt32(m)))
    }
    merger = BPEMerger(merges: merges, heapThreshold: options.heapMergeThreshold)
    self.symbolText = symbolText
    symbolVocabId = symbolText.map { vocabulary[$0].map(Int32.init) ?? -1 }

    // Like HF `convert_tokens_to_ids`: a special missing from the vocabulary maps to <unk>.
    guard let unkId = vocabulary[options.unkToken] else {
      throw TokenizerError(.badData, "vocabulary has no unknown token \(options.unkToken)")
    }
    func id(_ name: String) -> Int { vocabulary[name] ?? unkId }
    specials = SpecialTokens(
      cls: options.bosToken, sep: options.eosToken, pad: options.padToken, unk: options.unkToken,
      mask: options.maskToken, clsId: id(options.bosToken), sepId: id(options.eosToken),
      padId: id(options.padToken), unkId: unkId, maskId: id(options.maskToken))
    splitter = SpecialTokenSplitter(specials.all.map { (Array($0.unicodeScalars), id($0)) })
  }

  /// Loads explicit `vocab.json` and `merges.txt` files.
  public convenience init(vocabFile: String, mergesFile: String, options: Options = Options()) throws {
    let v = try VocabFiles.loadJSONVocab(vocabFile)
    let m = try VocabFiles.loadMerges(mergesFile)
    do { try self.init(vocabulary: v, merges: m, options: options) } catch let e as TokenizerError {
      throw TokenizerError(e.kind, "\(vocabFile): \(e.description)")
    }
  }

  /// Loads a Hugging Face folder: `vocab.json`, `merges.txt`, and `tokenizer_config.json`
  /// (`add_prefix_space`, special tokens) if present.
  public static func load(directory: String) throws -> ByteLevelBPETokenizer {
    let config = try VocabFiles.loadConfig(directory: directory)
    let cfgPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    var o = Options()
    if let b = try VocabFiles.bool(config, "add_prefix_space", in: cfgPath) { o.addPrefixSpace = b }
    if let s = VocabFiles.tokenString(config, "bos_token") ?? VocabFiles.tokenString(config, "cls_token") {
      o.bosToken = s
    }
    if let s = VocabFiles.tokenString(config, "eos_token") ?? VocabFiles.tokenString(config, "sep_token") {
      o.eosToken = s
    }
    if let s = VocabFiles.tokenString(config, "unk_token") { o.unkToken = s }
    if let s = VocabFiles.tokenString(config, "pad_token") { o.padToken = s }
    if let s = VocabFiles.tokenString(config, "mask_token") { o.maskToken = s }
    let dir = directory as NSString
    return try ByteLevelBPETokenizer(
      vocabFile: dir.appendingPathComponent("vocab.json"), mergesFile: dir.appendingPathComponent("merges.txt"),
      options: o)
  }

  public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
    let specialIds: Set<Int> = [specials.clsId, specials.sepId, specials.padId, specials.maskId]
    var bytes: [UInt8] = []
    for id in ids {
      guard let t = token(forId: id) else { continue }
      if specialIds.contains(id) || id == specials.unkId {
        if !skipSpecialTokens || id == specials.unkId { bytes.append(contentsOf: Array(t.utf8)) }
        continue
      }
      for s in t.unicodeScalars {
        if let b = Self.unicodeToByte[s.value] { bytes.append(b) } else { bytes.append(contentsOf: Array(String(s).utf8)) }
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private static let unicodeToByte: [UInt32: UInt8] = {
    var m: [UInt32: UInt8] = [:]
    for (b, s) in byteToUnicode.enumerated() { m[s.value] = UInt8(b) }
    return m
  }()

  /// Initial BPE symbol of a byte (tests).
  func byteSymbolForTesting(_ b: UInt8) -> Int32 { byteSymbol[Int(b)] }

  public func id(forToken token: String) -> Int? { vocab[token] }
  public func token(forId id: Int) -> String? { idToToken.indices.contains(id) ? idToToken[id] : nil }

  public func tokenize(_ text: String) -> [Token] { tokenize(text, addPrefixSpace: options.addPrefixSpace) }

  /// HF `tokenize(text, add_prefix_space=...)`: overrides the option for one call (transformers
  /// 4.x SQuAD featurization passes true for each context word; 3.1 used the default, false).
  public func tokenize(_ text: String, addPrefixSpace: Bool) -> [Token] {
    var scalars = Array(text.unicodeScalars)
    var shift = 0
    if addPrefixSpace, let f = scalars.first, !PyUnicode.isPythonSpace(f) {
      scalars.insert(" ", at: 0)
      shift = 1
    }
    // HF slow: a text that `str.strip()`s to nothing gives no tokens.
    if scalars.allSatisfy(PyUnicode.isPythonSpace) { return [] }
    var segments = splitter.split(scalars)
    // `<mask>` has lstrip=True: the text before it loses its trailing whitespace.
    let maskIndex = specials.all.count - 1  // `all` ends with the mask token
    for k in segments.indices where segments[k].specialIndex == maskIndex && k > 0 {
      if segments[k - 1].specialId == nil {
        var r = segments[k - 1].range
        while !r.isEmpty && PyUnicode.isPythonSpace(scalars[r.upperBound - 1]) { r = r.lowerBound..<(r.upperBound - 1) }
        segments[k - 1].range = r
      }
    }
    var out: [Token] = []
    out.reserveCapacity(scalars.count / 3 + 4)
    func original(_ r: Range<Int>) -> Range<Int> {
      let lo = max(0, r.lowerBound - shift)
      return lo..<max(lo, r.upperBound - shift)
    }
    var bytes: [UInt8] = []
    var owner: [Int32] = []
    bytes.reserveCapacity(64)
    owner.reserveCapacity(64)
    for seg in segments where !seg.range.isEmpty {
      if let id = seg.specialId {
        out.append(
          Token(id: id, text: String(String.UnicodeScalarView(scalars[seg.range])), scalarRange: original(seg.range)))
        continue
      }
      for piece in GPT2PreTokenizer.split(scalars, seg.range) {
        appendBPE(
          scalars, piece, shift: shift, prefixOption: addPrefixSpace, bytes: &bytes, owner: &owner, into: &out,
          original: original)
      }
    }
    return out
  }

  // MARK: - BPE

  private func appendBPE(
    _ s: [Unicode.Scalar], _ piece: Range<Int>, shift: Int, prefixOption: Bool, bytes: inout [UInt8],
    owner: inout [Int32],
    into out: inout [Token], original: (Range<Int>) -> Range<Int>
  ) {
    // UTF-8 bytes of the piece and the scalar index of each byte (reused buffers).
    bytes.removeAll(keepingCapacity: true)
    owner.removeAll(keepingCapacity: true)
    for i in piece {
      let before = bytes.count
      UTF8.encode(s[i]) { bytes.append($0) }
      for _ in before..<bytes.count { owner.append(Int32(i)) }
    }
    let (symbols, lengths) = bpe(bytes)
    var p = 0
    for (k, sym) in symbols.enumerated() {
      let len = Int(lengths[k])
      // HF `trim_offsets` (Rust ByteLevel.process_offsets): leading then trailing spaces leave
      // the span; with add_prefix_space a first token keeps a single leading space.
      var lead = 0, trail = 0
      while lead < len && bytes[p + lead] == 0x20 { lead += 1 }
      while trail < len && bytes[p + len - 1 - trail] == 0x20 { trail += 1 }
      var lo = Int(owner[p])
      var hi = Int(owner[p + len - 1]) + 1
      let isFirst = out.isEmpty || lo - shift <= 0
      if lead > 0 && !(prefixOption && isFirst && lead == 1) { lo = min(lo + lead, hi) }
      if trail > 0 && hi >= trail { hi = max(hi - trail, lo) }
      let vid = symbolVocabId[Int(sym)]
      let id = vid >= 0 ? Int(vid) : specials.unkId
      out.append(Token(id: id, text: symbolText[Int(sym)], scalarRange: original(lo..<hi)))
      p += len
    }
  }

  private func bpe(_ bytes: [UInt8]) -> BPEResult {
    if bytes.count == 1 { return ([byteSymbol[Int(bytes[0])]], [1]) }
    var key: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { key = (key ^ UInt64(b)) &* 0x100_0000_01b3 }
    if key == .max { key = 0 }
    cacheLock.lock()
    if let i = cacheIndex.get(key), cacheEntries[Int(i)].bytes == bytes {
      let hit = cacheEntries[Int(i)].result
      cacheLock.unlock()
      return hit
    }
    cacheLock.unlock()

    let result = merger.merge(bytes.map { byteSymbol[Int($0)] })
    cacheLock.lock()
    if cacheEntries.count >= options.cacheLimit {
      cacheEntries.removeAll()
      cacheIndex = FlatMap64(minimumCapacity: 1 << 14)
    }
    if cacheIndex.get(key) == nil {  // on a (rare) hash collision the first entry stays
      cacheIndex.set(key, UInt64(cacheEntries.count))
      cacheEntries.append((bytes, result))
    }
    cacheLock.unlock()
    return result
  }
}
