import Foundation
import SpiqaCore

// Reading vocab.txt, vocab.json, merges.txt and tokenizer_config.json the way the Python
// reference tokenizers read them.

enum VocabFiles {
  /// The largest vocabulary, merges or tokenizer config file read (a large vocab.json is ~10 MB).
  static let maxFileBytes = 256 << 20

  /// The bytes of a regular file (a FIFO or device in a model folder is refused, never read).
  static func read(_ path: String) throws -> Data {
    do {
      return Data(try RegularFile.read(path, limit: maxFileBytes))
    } catch let e as FileError {
      throw TokenizerError(e.kind, e.kind == .io ? "\(path): cannot read file" : e.description)
    }
  }

  static func readText(_ path: String) throws -> String {
    let data = try read(path)
    guard let text = String(data: data, encoding: .utf8) else {
      throw TokenizerError(.badData, "\(path): not valid UTF-8")
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
    guard !lines.isEmpty else { throw TokenizerError(.badData, "\(path): empty vocabulary") }
    return lines
  }

  /// `vocab.json`: {"token": id, ...}.
  static func loadJSONVocab(_ path: String) throws -> [String: Int] {
    let data = try read(path)
    let object: JSONValue
    do { object = try JSONValue(parsing: [UInt8](data)) } catch {
      throw TokenizerError(.badData, "\(path): invalid JSON; expected {\"token\": id, ...}")
    }
    guard let dict = object.objectValue else {
      throw TokenizerError(.badData, "\(path): not a JSON object; expected {\"token\": id, ...}")
    }
    var vocab: [String: Int] = [:]
    vocab.reserveCapacity(dict.count)
    for (k, v) in dict {
      guard let id = v.intValue, id >= 0 else {
        throw TokenizerError(.badData, "\(path): token \(k.debugDescription) has id \(text(v)); expected an integer ≥ 0")
      }
      vocab[k] = id
    }
    guard !vocab.isEmpty else { throw TokenizerError(.badData, "\(path): empty vocabulary") }
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
  static func loadConfig(directory: String) throws -> [String: JSONValue] {
    let path = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    guard FileManager.default.fileExists(atPath: path) else { return [:] }
    let data = try read(path)
    guard let dict = (try? JSONValue(parsing: [UInt8](data)))?.objectValue else {
      throw TokenizerError(.badData, "\(path): not a JSON object")
    }
    return dict
  }

  /// A boolean setting (absent or null → nil).
  static func bool(_ config: [String: JSONValue], _ key: String, in path: String) throws -> Bool? {
    guard let v = config[key], v != .null else { return nil }
    if let b = v.boolValue { return b }
    throw TokenizerError(.badData, "\(path): \(key) is \(v.jsonText); expected true, false or null")
  }

  /// A special token given as "text" or {"content": "text", ...}.
  static func tokenString(_ config: [String: JSONValue], _ key: String) -> String? {
    if let s = config[key]?.stringValue { return s }
    return config[key]?.objectValue?["content"]?.stringValue
  }

  /// A value for a message: a string as it is, anything else as JSON.
  private static func text(_ v: JSONValue) -> String { v.stringValue ?? v.jsonText }
}
