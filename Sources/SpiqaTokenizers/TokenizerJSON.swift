import Foundation
import SpiqaCore

/// Reads a Hugging Face tokenizers `tokenizer.json` (the format the Hub ships today) into a SpiqaTokenizers
/// tokenizer: the normalizer, pre-tokenizer, model and post-processor (special-token template) it describes.
///
/// Supported (docs/tokenizers.md): `WordPiece` with `BertNormalizer` + `BertPreTokenizer` and a `[CLS] A [SEP]
/// (B [SEP])` template (`TemplateProcessing` or `BertProcessing`), and byte-level `BPE` with the `ByteLevel`
/// pre-tokenizer and `<s> A </s>(</s> B </s>)` (`RobertaProcessing` or `TemplateProcessing`), and SentencePiece
/// `Unigram` with `Precompiled`/`Replace`/`Lowercase`/`NFKD`…/`StripAccents`/`Strip` normalizers and
/// `WhitespaceSplit`/`Metaspace` pre-tokenizers under either template (`UnigramTokenizer`). Rust semantics
/// where they differ from the Python slow tokenizers: lower-casing is per scalar (no Final_Sigma). Anything else is
/// refused with one line naming what was found.
public enum TokenizerJSON {
  /// Loads `path`; `config` is the folder's tokenizer_config.json (pad / mask token names), may be empty.
  public static func load(path: String, config: [String: JSONValue] = [:]) throws -> any Tokenizer {
    let data = try VocabFiles.read(path)  // a regular file of at most 256 MiB, as the other vocabulary files
    let root: [String: JSONValue]
    do {
      guard let obj = try JSONValue(parsing: [UInt8](data)).objectValue else { throw TokenizerError(.badData, "") }
      root = obj
    } catch {
      throw TokenizerError(.badData, "\(path): not a JSON object; expected a Hugging Face tokenizer.json")
    }
    func fail(_ what: String) -> TokenizerError { TokenizerError(.badData, "\(path): \(what)") }
    guard let model = root["model"]?.objectValue else { throw fail("no \"model\" object") }
    let modelType = model["type"]?.stringValue ?? (model["merges"] != nil ? "BPE" : "")
    let template = try Template(root["post_processor"], fail: fail)
    switch modelType {
    case "WordPiece":
      return try wordPiece(root: root, model: model, template: template, config: config, fail: fail)
    case "BPE":
      return try bytePairs(root: root, model: model, template: template, config: config, fail: fail)
    case "Unigram":
      return try unigram(root: root, model: model, template: template, config: config, fail: fail)
    default:
      throw fail("tokenizer model \"\(modelType)\" is not supported; supported: WordPiece, byte-level BPE, Unigram")
    }
  }

  /// The special-token frame of the post-processor: first and separator token names, and whether a pair puts two
  /// separators between its segments.
  struct Template {
    var first: String?, separator: String?, doubleSeparator = false

    init(_ value: JSONValue?, fail: (String) -> TokenizerError) throws {
      guard let p = value?.objectValue else { return }
      switch p["type"]?.stringValue ?? "" {
      case "BertProcessing", "RobertaProcessing":
        first = p["cls"]?.arrayValue?.first?.stringValue
        separator = p["sep"]?.arrayValue?.first?.stringValue
        doubleSeparator = p["type"]?.stringValue == "RobertaProcessing"
      case "TemplateProcessing":
        func pieces(_ key: String) -> [String] {
          (p[key]?.arrayValue ?? []).map { piece in
            if let s = piece.objectValue?["SpecialToken"]?.objectValue?["id"]?.stringValue { return s }
            return "$" + (piece.objectValue?["Sequence"]?.objectValue?["id"]?.stringValue ?? "?")
          }
        }
        let single = pieces("single"), pair = pieces("pair")
        guard single.count == 3, single[1] == "$A", let f = single.first, let s = single.last else {
          throw fail("post_processor template \(single) is not supported; expected <first> $A <separator>")
        }
        first = f; separator = s
        if pair == [f, "$A", s, "$B", s] {
          doubleSeparator = false
        } else if pair == [f, "$A", s, s, "$B", s] {
          doubleSeparator = true
        } else {
          throw fail("post_processor pair template \(pair) is not supported")
        }
      default:
        throw fail("post_processor \"\(p["type"]?.stringValue ?? "?")\" is not supported")
      }
    }
  }

  private static func wordPiece(
    root: [String: JSONValue], model: [String: JSONValue], template: Template, config: [String: JSONValue],
    fail: (String) -> TokenizerError
  ) throws -> WordPieceTokenizer {
    guard let vocab = model["vocab"]?.objectValue else { throw fail("WordPiece model without a vocab") }
    var byId = [String?](repeating: nil, count: vocab.count)
    for (token, v) in vocab {
      guard let id = v.intValue, id >= 0, id < vocab.count, byId[id] == nil else {
        throw fail("WordPiece vocab ids must be 0..<\(vocab.count), each once; \(token.debugDescription) has \(v.jsonText)")
      }
      byId[id] = token
    }
    guard (model["continuing_subword_prefix"]?.stringValue ?? "##") == "##" else {
      throw fail("WordPiece continuing_subword_prefix other than \"##\" is not supported")
    }
    var o = WordPieceTokenizer.Options()
    o.finalSigma = false  // the Rust normalizer lower-cases one scalar at a time
    if let n = model["max_input_chars_per_word"]?.intValue { o.maxInputCharsPerWord = n }
    if let s = model["unk_token"]?.stringValue { o.unkToken = s }
    let norm = root["normalizer"]?.objectValue
    guard norm?["type"]?.stringValue == "BertNormalizer" else {
      throw fail("WordPiece normalizer \(norm?["type"]?.stringValue ?? "null") is not supported; expected BertNormalizer")
    }
    guard norm?["clean_text"]?.boolValue ?? true else { throw fail("BertNormalizer clean_text false is not supported") }
    o.doLowerCase = norm?["lowercase"]?.boolValue ?? true
    o.tokenizeChineseChars = norm?["handle_chinese_chars"]?.boolValue ?? true
    o.stripAccents = norm?["strip_accents"]?.boolValue
    let pre = root["pre_tokenizer"]?.objectValue?["type"]?.stringValue
    guard pre == "BertPreTokenizer" else {
      throw fail("WordPiece pre_tokenizer \(pre ?? "null") is not supported; expected BertPreTokenizer")
    }
    guard !template.doubleSeparator else { throw fail("a WordPiece model with a <s> A </s></s> B </s> template") }
    if let s = template.first { o.clsToken = s }
    if let s = template.separator { o.sepToken = s }
    if let s = VocabFiles.tokenString(config, "pad_token") { o.padToken = s }
    if let s = VocabFiles.tokenString(config, "mask_token") { o.maskToken = s }
    return try WordPieceTokenizer(vocabulary: byId.map { $0 ?? "" }, options: o)
  }

  private static func bytePairs(
    root: [String: JSONValue], model: [String: JSONValue], template: Template, config: [String: JSONValue],
    fail: (String) -> TokenizerError
  ) throws -> ByteLevelBPETokenizer {
    guard let vocabObject = model["vocab"]?.objectValue else { throw fail("BPE model without a vocab") }
    var vocab: [String: Int] = [:]
    for (token, v) in vocabObject {
      guard let id = v.intValue, id >= 0 else { throw fail("BPE token \(token.debugDescription) has id \(v.jsonText)") }
      vocab[token] = id
    }
    // Merges are "a b" strings (tokenizers < 0.20) or ["a", "b"] pairs.
    let merges: [(String, String)?] = (model["merges"]?.arrayValue ?? []).map { m in
      if let pair = m.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
        return (a, b)
      }
      let parts = (m.stringValue ?? "").split(separator: " ", omittingEmptySubsequences: false)
      return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
    }
    let pre = root["pre_tokenizer"]?.objectValue
    guard pre?["type"]?.stringValue == "ByteLevel" else {
      throw fail("BPE pre_tokenizer \(pre?["type"]?.stringValue ?? "null") is not supported; expected ByteLevel")
    }
    guard root["normalizer"] == nil || root["normalizer"] == .null else {
      throw fail("a normalizer before byte-level BPE is not supported")
    }
    guard template.first == nil || template.doubleSeparator else {
      throw fail("a byte-level BPE model with a [CLS] A [SEP] B [SEP] template")
    }
    var o = ByteLevelBPETokenizer.Options()
    o.addPrefixSpace = pre?["add_prefix_space"]?.boolValue ?? false
    if let s = template.first { o.bosToken = s }
    if let s = template.separator { o.eosToken = s }
    if let s = model["unk_token"]?.stringValue { o.unkToken = s }
    if let s = VocabFiles.tokenString(config, "pad_token") { o.padToken = s }
    if let s = VocabFiles.tokenString(config, "mask_token") { o.maskToken = s }
    return try ByteLevelBPETokenizer(vocabulary: vocab, merges: merges, options: o)
  }

  private static func unigram(
    root: [String: JSONValue], model: [String: JSONValue], template: Template, config: [String: JSONValue],
    fail: (String) -> TokenizerError
  ) throws -> UnigramTokenizer {
    guard let entries = model["vocab"]?.arrayValue else { throw fail("Unigram model without a vocab list") }
    var vocab: [(String, Double)] = []
    vocab.reserveCapacity(entries.count)
    for (i, e) in entries.enumerated() {
      guard let pair = e.arrayValue, pair.count == 2, let piece = pair[0].stringValue, let score = pair[1].doubleValue,
        score.isFinite
      else { throw fail("Unigram vocab entry \(i) is \(e.jsonText.prefix(60)); expected [piece, score]") }
      vocab.append((piece, score))
    }
    guard let unkId = model["unk_id"]?.intValue else {
      throw fail("Unigram model without unk_id is not supported (every unknown character needs the unknown token)")
    }
    var added: [UnigramTokenizer.AddedToken] = []
    for a in root["added_tokens"]?.arrayValue ?? [] {
      guard let o = a.objectValue, let content = o["content"]?.stringValue, let id = o["id"]?.intValue, id >= 0 else {
        throw fail("added_tokens entry \(a.jsonText.prefix(60)) lacks content or id")
      }
      added.append(.init(content: content, id: id, special: o["special"]?.boolValue ?? false,
                         lstrip: o["lstrip"]?.boolValue ?? false, rstrip: o["rstrip"]?.boolValue ?? false))
    }
    do {
      return try UnigramTokenizer(
        vocab: vocab, unkId: unkId, byteFallback: model["byte_fallback"]?.boolValue ?? false,
        normalizers: try boundedGrowth(try normalizers(root["normalizer"], fail: fail), fail: fail),
        preTokenizers: try preTokenizers(root["pre_tokenizer"], fail: fail), added: added,
        first: template.first, separator: template.separator, doubleSeparator: template.doubleSeparator,
        padToken: VocabFiles.tokenString(config, "pad_token"), maskToken: VocabFiles.tokenString(config, "mask_token"))
    } catch let e as TokenizerError where e.description.hasPrefix("Unigram") {
      throw fail(e.description)
    }
  }

  /// Most times the `Replace` steps together may lengthen a text.
  static let maxReplaceGrowth = 16

  /// `steps`, unless their `Replace`s could multiply a text's length by more than `maxReplaceGrowth`: three steps
  /// replacing "a" by 1,000 of them asked for 2 GB per input character. Real ones keep the length (" " → "▁") or
  /// shorten it (runs of spaces → " ").
  static func boundedGrowth(_ steps: [SentencePieceNormalizer], fail: (String) -> TokenizerError) throws
    -> [SentencePieceNormalizer]
  {
    var growth = 1.0
    for step in steps {
      switch step {
      case .replaceLiteral(let pattern, let content): growth *= max(1, Double(content.count) / Double(pattern.count))
      case .replaceRun(_, let minimum, let content): growth *= max(1, Double(content.count) / Double(max(1, minimum)))
      default: break
      }
    }
    guard growth <= Double(maxReplaceGrowth) else {
      throw fail(
        "the Replace normalizers can lengthen a text \(Int(min(growth, 1e15))) times; at most \(maxReplaceGrowth)")
    }
    return steps
  }

  /// The normalizer steps of a Unigram tokenizer.json, `Sequence`s flattened.
  static func normalizers(_ value: JSONValue?, fail: (String) -> TokenizerError) throws -> [SentencePieceNormalizer] {
    guard let n = value?.objectValue else { return [] }
    let type = n["type"]?.stringValue ?? "?"
    switch type {
    case "Sequence":
      return try (n["normalizers"]?.arrayValue ?? []).flatMap { try normalizers($0, fail: fail) }
    case "Precompiled":
      let text = n["precompiled_charsmap"]?.stringValue ?? ""
      if text.isEmpty { return [] }
      guard let data = Data(base64Encoded: text) else { throw fail("precompiled_charsmap is not valid base64") }
      do { return [.precompiled(try PrecompiledCharsmap(bytes: [UInt8](data)))] } catch { throw fail(error.description) }
    case "Replace":
      let content = Array((n["content"]?.stringValue ?? "").unicodeScalars)
      let pattern = n["pattern"]?.objectValue
      if let literal = pattern?["String"]?.stringValue, !literal.isEmpty {
        return [.replaceLiteral(Array(literal.unicodeScalars), with: content)]
      }
      if let regex = pattern?["Regex"]?.stringValue, let run = repeatedScalar(regex) {
        return [.replaceRun(run.0, minimum: run.1, with: content)]
      }
      throw fail("Replace pattern \(pattern.map { JSONValue.object($0).jsonText } ?? "null") is not supported; "
                 + "supported: a literal string, or a regex c{n,} / c+ of one character")
    case "Lowercase": return [.lowercase]
    case "NFC": return [.unicode(.nfc)]
    case "NFD": return [.unicode(.nfd)]
    case "NFKC": return [.unicode(.nfkc)]
    case "NFKD": return [.unicode(.nfkd)]
    case "StripAccents": return [.stripAccents]
    case "Strip":
      return [.strip(left: n["strip_left"]?.boolValue ?? true, right: n["strip_right"]?.boolValue ?? true)]
    case "Prepend": return [.prepend(Array((n["prepend"]?.stringValue ?? "").unicodeScalars))]
    default:
      throw fail("normalizer \"\(type)\" before a Unigram model is not supported; supported: Precompiled, Replace, "
                 + "Lowercase, NFC, NFD, NFKC, NFKD, StripAccents, Strip, Prepend, Sequence")
    }
  }

  /// `c{n,}` or `c+` (c one character, possibly backslash-escaped) as (c, n).
  private static func repeatedScalar(_ regex: String) -> (Unicode.Scalar, Int)? {
    var s = Array(regex.unicodeScalars)
    var c: Unicode.Scalar
    if s.first == "\\", s.count >= 2, !("a"..."z").contains(s[1]), !("A"..."Z").contains(s[1]), !("0"..."9").contains(s[1]) {
      c = s[1]
      s.removeFirst(2)
    } else if let f = s.first, !"\\.[](){}*+?|^$".unicodeScalars.contains(f) {
      c = f
      s.removeFirst()
    } else {
      return nil
    }
    if s == ["+"] { return (c, 1) }
    let rest = String(String.UnicodeScalarView(s))
    guard rest.hasPrefix("{"), rest.hasSuffix(",}"), let n = Int(rest.dropFirst().dropLast(2)), n >= 1 else { return nil }
    return (c, n)
  }

  /// The pre-tokenizer steps of a Unigram tokenizer.json, `Sequence`s flattened.
  static func preTokenizers(_ value: JSONValue?, fail: (String) -> TokenizerError) throws -> [UnigramTokenizer.PreTokenizer] {
    guard let p = value?.objectValue else { return [] }
    let type = p["type"]?.stringValue ?? "?"
    switch type {
    case "Sequence":
      return try (p["pretokenizers"]?.arrayValue ?? []).flatMap { try preTokenizers($0, fail: fail) }
    case "WhitespaceSplit": return [.whitespaceSplit]
    case "Metaspace":
      let r = Array((p["replacement"]?.stringValue ?? "\u{2581}").unicodeScalars)
      guard r.count == 1 else { throw fail("Metaspace replacement must be one character") }
      var scheme = UnigramTokenizer.PrependScheme.always
      if let s = p["prepend_scheme"]?.stringValue {
        guard let v = UnigramTokenizer.PrependScheme(rawValue: s) else { throw fail("Metaspace prepend_scheme \"\(s)\"") }
        scheme = v
      } else if let b = p["add_prefix_space"]?.boolValue {
        scheme = b ? .always : .never  // tokenizers < 0.19
      }
      return [.metaspace(replacement: r[0], prepend: scheme, split: p["split"]?.boolValue ?? true)]
    default:
      throw fail("pre_tokenizer \"\(type)\" before a Unigram model is not supported; supported: Metaspace, "
                 + "WhitespaceSplit, Sequence")
    }
  }
}
