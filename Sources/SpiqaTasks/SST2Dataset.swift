import Foundation
import SpiqaCore
import SpiqaTokenizers

/// One labelled sentence of GLUE SST-2.
public struct SST2Example: Sendable, Equatable {
  /// Row in the TSV (0-based, header excluded).
  public var index: Int
  public var sentence: String
  /// 0 = negative, 1 = positive.
  public var label: Int

  public init(index: Int, sentence: String, label: Int) {
    self.index = index
    self.sentence = sentence
    self.label = label
  }
}

/// GLUE SST-2 TSV: a header `sentence\tlabel`, then one `sentence<TAB>label` row per line (dev: 872 rows).
public struct SST2Dataset: Sendable {
  public var examples: [SST2Example]

  /// Parse TSV text; `source` names the input in errors.
  public init(text: String, source: String = "sst2") throws {
    let lines = splitLines(text)
    guard let header = lines.first, header.split(separator: "\t", omittingEmptySubsequences: false) == ["sentence", "label"]
    else {
      throw TasksError.badData("\(source): line 1: expected the GLUE SST-2 header \"sentence<TAB>label\"")
    }
    var examples: [SST2Example] = []
    for (i, line) in lines.enumerated().dropFirst() where !isPythonBlank(line) {
      guard let tab = line.lastIndex(of: "\t"), let label = Int(line[line.index(after: tab)...]),
        label == 0 || label == 1
      else {
        throw TasksError.badData("\(source): line \(i + 1): expected \"sentence<TAB>0|1\"")
      }
      examples.append(SST2Example(index: examples.count, sentence: String(line[..<tab]), label: label))
    }
    self.examples = examples
  }

  /// Read and parse a GLUE SST-2 TSV file.
  public init(path: String) throws {
    try self.init(text: try readText(path), source: path)
  }
}

/// Plain text, one example per line (blank lines skipped; ids `text-<line>` use the 0-based line number).
public struct TextLines: Sendable {
  /// (0-based line number, text) of every line that is not blank.
  public var lines: [(line: Int, text: String)]

  public init(text: String) {
    var out: [(Int, String)] = []
    for (i, s) in splitLines(text).enumerated() where !isPythonBlank(s) {
      out.append((i, s))
    }
    lines = out
  }

  public init(path: String) throws {
    self.init(text: try readText(path))
  }
}

/// The lines of a text file as Python reads it (universal newlines): "\n", "\r\n" and a lone "\r" each end a line.
/// Split on the UTF-8 bytes: both are ASCII, so they never occur inside another character's encoding.
func splitLines(_ text: String) -> [String] {
  var text = text
  return text.withUTF8 { bytes in
    var lines: [String] = []
    var start = 0, i = 0
    while i < bytes.count {
      let b = bytes[i]
      if b == 0x0A || b == 0x0D {
        lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
        if b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
        start = i + 1
      }
      i += 1
    }
    lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
    return lines
  }
}

/// Read a data file (`-` = stdin; a pipe or FIFO too), at most `SPIQA_MAX_DATA_BYTES`, or throw a one-line error.
func readData(_ path: String) throws -> Data {
  do {
    let limit = try ResourceLimits.value(ResourceLimits.dataBytesVariable, default: ResourceLimits.defaultDataBytes)
    return Data(try InputFile.readAll(path, limit: limit, limitVariable: ResourceLimits.dataBytesVariable))
  } catch let e as any SpiqaError {
    throw TasksError(e.kind, e.description)
  }
}

/// Read a UTF-8 text file (`-` = stdin) or throw a one-line `TasksError`.
func readText(_ path: String) throws -> String {
  let data = try readData(path)
  guard let text = String(data: data, encoding: .utf8) else {
    let (line, byte) = firstInvalidUTF8(Array(data))
    throw TasksError.badData("\(path): line \(line): not valid UTF-8 (byte \(byte) of the file)")
  }
  return text
}

/// The line (from 1; `\n`, `\r\n` or a lone `\r` end one) and byte offset (from 0) of the first byte sequence that
/// is not UTF-8.
func firstInvalidUTF8(_ bytes: [UInt8]) -> (line: Int, byte: Int) {
  var parser = Unicode.UTF8.ForwardParser()
  var it = bytes.makeIterator()
  var offset = 0
  loop: while true {
    switch parser.parseScalar(from: &it) {
    case .valid(let scalar): offset += scalar.count
    case .error: break loop
    case .emptyInput: break loop
    }
  }
  // The valid text before it, split as the readers split lines (a "\r" just before it ends a line, as there).
  return (splitLines(String(decoding: bytes[..<offset], as: UTF8.self)).count, offset)
}
