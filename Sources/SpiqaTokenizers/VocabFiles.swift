import Foundation

// Reading vocab.txt, vocab.json, merges.txt and tokenizer_config.json the way the Python
// reference tokenizers read them.

enum VocabFiles {
  static func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TokenizerError(exitCode: 74, "\(path): cannot read file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw TokenizerError(exitCode: 65, "\(path): not valid UTF-8")
    }
    return text
  }

  /// Python `open(path).readlines()` with universal newlines, each line without its terminator.
  static func pythonLines(_ text: String) -> [String] {
    var lines: [String] = []
    var current = String.UnicodeScalarView()
    var pendingCR = false
    var sawAny = false
    for s in text.unicodeScalars {
      sawAny = true
      if pendingCR {
        pendingCR = false
        if s == "\n" { continue }
      }
      if s == "\n" || s == "\r" {
        lines.append(String(current))
        current = String.UnicodeScalarView()
        pendingCR = s == "\r"
      } else {
        current.append(s)
      }
    }
    if sawAny && !current.isEmpty { lines.append(String(current)) }
    return lines
  }

  /// BERT `load_vocab`: line i → id i; a repeated token keeps its LAST id.
  static func loadWordPieceVocab(_ path: String) throws -> [String] {
    let lines = pythonLines(try readText(path))
    guard !lines.isEmpty else { throw TokenizerError(exitCode: 65, "\(path): empty vocabulary") }
    return lines
  }

  /// `vocab.json`: {"token": id, ...}.
  static func loadJSONVocab(_ path: String) throws -> [String: Int] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TokenizerError(exitCode: 74, "\(path): cannot read file")
    }
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data) } catch {
      throw TokenizerError(exitCode: 65, "\(path): invalid JSON; expected {\"token\": id, ...}")
    }
    guard let dict = object as? [String: Any] else {
      throw TokenizerError(exitCode: 65, "\(path): not a JSON object; expected {\"token\": id, ...}")
    }
    var vocab: [String: Int] = [:]
    vocab.reserveCapacity(dict.count)
    for (k, v) in dict {
      guard let n = v as? NSNumber, let id = Int(exactly: n.doubleValue), id >= 0 else {
        throw TokenizerError(exitCode: 65, "\(path): token \(k.debugDescription) has id \(v); expected an integer ≥ 0")
      }
      vocab[k] = id
    }
    guard !vocab.isEmpty else { throw TokenizerError(exitCode: 65, "\(path): empty vocabulary") }
    return vocab
  }

  /// HF slow GPT-2 `merges.txt` reading: `read().split("\n")[1:-1]` (the first line is always
  /// skipped, and so is the text after the last newline), each line split on whitespace; lines
  /// that are not two fields never match. A repeated pair keeps its LAST rank.
  static func loadMerges(_ path: String) throws -> [(String, String)?] {
    let text = try readText(path)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count >= 2 else { return [] }
    lines.removeFirst()
    lines.removeLast()
    return lines.map { line in
      let parts = line.unicodeScalars.split(whereSeparator: PyUnicode.isPythonSpace)
      return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
    }
  }

  /// tokenizer_config.json (optional) as a dictionary.
  static func loadConfig(directory: String) throws -> [String: Any] {
    let path = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    guard FileManager.default.fileExists(atPath: path) else { return [:] }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TokenizerError(exitCode: 74, "\(path): cannot read file")
    }
    guard let obj = try? JSONSerialization.jsonObject(with: data), let dict = obj as? [String: Any] else {
      throw TokenizerError(exitCode: 65, "\(path): not a JSON object")
    }
    return dict
  }

  /// A boolean setting (absent or null → nil).
  static func bool(_ config: [String: Any], _ key: String, in path: String) throws -> Bool? {
    guard let v = config[key], !(v is NSNull) else { return nil }
    if let b = v as? Bool { return b }
    throw TokenizerError(exitCode: 65, "\(path): \(key) is \(v); expected true, false or null")
  }

  /// A special token given as "text" or {"content": "text", ...}.
  static func tokenString(_ config: [String: Any], _ key: String) -> String? {
    if let s = config[key] as? String { return s }
    if let d = config[key] as? [String: Any], let s = d["content"] as? String { return s }
    return nil
  }
}

/// Splits text on occurrences of special-token strings (leftmost match, longest special first).
/// Segments are scalar ranges of the text, each either a special (with its id) or plain text.
struct SpecialTokenSplitter: Sendable {
  struct Segment {
    var range: Range<Int>
    var specialId: Int?
    /// Position of the matched special in the list given to `init`.
    var specialIndex: Int? = nil
  }

  private struct Candidate: Sendable {
    var scalars: [Unicode.Scalar]
    var id: Int
    var index: Int
  }
  private let candidates: [Candidate]
  private let firsts: [Unicode.Scalar]

  init(_ specials: [(scalars: [Unicode.Scalar], id: Int)]) {
    candidates = specials.enumerated().filter { !$0.element.scalars.isEmpty }
      .map { Candidate(scalars: $0.element.scalars, id: $0.element.id, index: $0.offset) }
      .sorted { $0.scalars.count > $1.scalars.count }
    var f: [Unicode.Scalar] = []
    for c in candidates where !f.contains(c.scalars[0]) { f.append(c.scalars[0]) }
    firsts = f
  }

  func split(_ scalars: [Unicode.Scalar]) -> [Segment] {
    let n = scalars.count
    var out: [Segment] = []
    var start = 0
    var i = 0
    while i < n {
      if firsts.contains(scalars[i]) {
        var matched: Candidate? = nil
        for c in candidates where i + c.scalars.count <= n {
          var ok = true
          for k in 0..<c.scalars.count where scalars[i + k] != c.scalars[k] { ok = false; break }
          if ok { matched = c; break }
        }
        if let c = matched {
          if start < i { out.append(Segment(range: start..<i, specialId: nil)) }
          out.append(Segment(range: i..<(i + c.scalars.count), specialId: c.id, specialIndex: c.index))
          i += c.scalars.count
          start = i
          continue
        }
      }
      i += 1
    }
    if start < n { out.append(Segment(range: start..<n, specialId: nil)) }
    return out
  }
}

/// Open-addressing hash map UInt64 → UInt64 for the hot lookups (trie edges, BPE merges):
/// a multiplicative hash and linear probing, several times faster than `Dictionary`'s SipHash.
/// `UInt64.max` is reserved as the empty-slot key.
struct FlatMap64: Sendable {
  private var keys: [UInt64]
  private var values: [UInt64]
  private var shift: UInt64
  private var mask: Int
  private(set) var count = 0

  init(minimumCapacity: Int) {
    var bits = 4
    while (1 << bits) < max(16, minimumCapacity * 2) { bits += 1 }
    keys = [UInt64](repeating: .max, count: 1 << bits)
    values = [UInt64](repeating: 0, count: 1 << bits)
    shift = UInt64(64 - bits)
    mask = (1 << bits) - 1
  }

  @inline(__always)
  private func slot(_ k: UInt64) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> shift) }

  @inline(__always)
  func get(_ k: UInt64) -> UInt64? {
    var i = slot(k)
    while true {
      let kk = keys[i]
      if kk == k { return values[i] }
      if kk == .max { return nil }
      i = (i + 1) & mask
    }
  }

  mutating func set(_ k: UInt64, _ v: UInt64) {
    precondition(k != .max)
    if (count + 1) * 2 > keys.count { grow() }
    var i = slot(k)
    while keys[i] != .max && keys[i] != k { i = (i + 1) & mask }
    if keys[i] == .max { count += 1 }
    keys[i] = k
    values[i] = v
  }

  private mutating func grow() {
    var bigger = FlatMap64(minimumCapacity: keys.count)
    for i in keys.indices where keys[i] != .max { bigger.set(keys[i], values[i]) }
    self = bigger
  }
}
