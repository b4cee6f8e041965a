import SpiqaCore
import SpiqaTokenizers

/// Rows of a TSV, CSV or JSON-lines file by column name, each with the 1-based line it starts on (for messages).
/// Blank lines are skipped; a row whose field count differs from the header's is an error naming its line.
public struct DataTable: Sendable {
  public var source: String
  public var header: [String]
  public var rows: [(line: Int, values: [String?])]

  /// The file format, from the extension (`.tsv`, `.csv`, `.jsonl`/`.json`); anything else reads as TSV.
  public enum Format: String, Sendable { case tsv, csv, jsonl }

  public static func format(of path: String) -> Format {
    let lower = path.lowercased()
    if lower.hasSuffix(".csv") { return .csv }
    if lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") || lower.hasSuffix(".ndjson") { return .jsonl }
    return .tsv
  }

  /// Reads `path` in `format` (nil: the one its extension names); `columns` are the names JSON lines must provide
  /// (TSV/CSV take theirs from the header line).
  /// - Throws: `TasksError.badData` naming the file and line (empty file, ragged row, bad JSON).
  public static func read(_ path: String, columns: [String], format given: Format? = nil) throws -> DataTable {
    var text = try readText(path)
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark (spreadsheet exports)
    switch given ?? format(of: path) {
    case .tsv: return try tsv(text, source: path)
    case .csv: return try csv(text, source: path)
    case .jsonl: return try jsonl(text, source: path, columns: columns)
    }
  }

  /// Tab-separated, no quoting (the GLUE files, read by Python's `csv` with `quotechar=None`). With `header` nil
  /// the first line is a header; otherwise every line is a row of `header.count` fields.
  public static func tsv(_ text: String, source: String, header fixed: [String]? = nil) throws -> DataTable {
    let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    var lines = splitLines(text).enumerated().filter { !isPythonBlank($0.element) }
      .map { (line: $0.offset + 1, text: $0.element) }
    guard !lines.isEmpty else {
      throw TasksError.badData("\(source): empty; expected \(fixed == nil ? "a header line and rows" : "rows")")
    }
    let header = fixed ?? lines.removeFirst().text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    var rows: [(line: Int, values: [String?])] = []
    for (line, text) in lines {
      let fields = text.split(separator: "\t", omittingEmptySubsequences: false).map { String?(String($0)) }
      guard fields.count == header.count else {
        throw TasksError.badData(
          "\(source): line \(line): \(fields.count) tab-separated field(s), expected \(header.count)"
            + (fixed == nil ? " (as the header)" : ""))
      }
      rows.append((line, fields))
    }
    return DataTable(source: source, header: header, rows: rows)
  }

  /// Comma-separated with a header line, Python `csv`'s default dialect: fields in double quotes may hold commas,
  /// line breaks and `""` for a quote.
  public static func csv(_ text: String, source: String) throws -> DataTable {
    var records: [(line: Int, values: [String?])] = []
    var field = String.UnicodeScalarView()
    var fields: [String?] = []
    var quoted = false, wasQuoted = false
    var line = 1, start = 1
    var scalars = Array(text.unicodeScalars)
    if scalars.last != "\n" { scalars.append("\n") }
    var i = 0
    while i < scalars.count {
      let c = scalars[i]
      if quoted {
        if c == "\"" {
          if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.append("\""); i += 1 } else { quoted = false }
        } else {
          if c == "\n" || (c == "\r" && (i + 1 == scalars.count || scalars[i + 1] != "\n")) { line += 1 }
          field.append(c)
        }
      } else if c == "\"" && field.isEmpty && !wasQuoted {
        quoted = true
        wasQuoted = true
      } else if c == "," {
        fields.append(String(field))
        field = String.UnicodeScalarView()
        wasQuoted = false
      } else if c == "\n" || c == "\r" {
        // "\r\n", "\n" or a lone "\r" ends a record (Python's csv); a blank line is no record.
        if c == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
        fields.append(String(field))
        if !(fields.count == 1 && isPythonBlank(fields[0] ?? "") && !wasQuoted) { records.append((start, fields)) }
        field = String.UnicodeScalarView()
        fields = []
        wasQuoted = false
        line += 1
        start = line
      } else {
        field.append(c)
      }
      i += 1
    }
    if quoted { throw TasksError.badData("\(source): line \(start): a quoted field is not closed") }
    guard let head = records.first else { throw TasksError.badData("\(source): empty; expected a header line and rows") }
    for r in records.dropFirst() where r.values.count != head.values.count {
      throw TasksError.badData(
        "\(source): line \(r.line): \(r.values.count) comma-separated field(s), expected \(head.values.count) (as the header)")
    }
    return DataTable(source: source, header: head.values.map { $0 ?? "" }, rows: Array(records.dropFirst()))
  }

  /// One JSON object per line; `columns` are looked up in each (strings as they are, numbers and booleans as their
  /// JSON text but integral floats as integers, null or absent as missing; an array or object is an error).
  public static func jsonl(_ text: String, source: String, columns: [String]) throws -> DataTable {
    var rows: [(line: Int, values: [String?])] = []
    for (i, text) in splitLines(text).enumerated() where !isPythonBlank(text) {
      let value: JSONValue
      do { value = try JSONValue(parsing: Array(text.utf8)) } catch {
        throw TasksError.badData("\(source): line \(i + 1): not valid JSON (\(error.what) at byte \(error.offset))")
      }
      guard let obj = value.objectValue else {
        throw TasksError.badData("\(source): line \(i + 1): expected a JSON object")
      }
      rows.append(
        (i + 1, try columns.map { key in
          switch obj[key] {
          case nil, .null?: return nil
          case .string(let s)?: return s
          case .double(let d)? where !d.isFinite:  // 1e400: the parser's infinity
            throw TasksError.badData("\(source): line \(i + 1): '\(key)' is a number out of range")
          // 1.0 names the same label as 1 (pandas writes integer columns with a missing value as floats).
          case .double(let d)? where d == d.rounded() && abs(d) < 9.0e18: return String(Int(d))
          case .array?, .object?:
            throw TasksError.badData(
              "\(source): line \(i + 1): '\(key)' is a JSON \(obj[key]?.arrayValue != nil ? "array" : "object"); "
                + "expected a string, number or boolean")
          case let v?: return v.jsonText
          }
        }))
    }
    guard !rows.isEmpty else { throw TasksError.badData("\(source): empty; expected one JSON object per line") }
    return DataTable(source: source, header: columns, rows: rows)
  }

  /// The position of column `name`.
  /// - Throws: `TasksError.badData` naming the header line and the columns there are, or when the header names it
  ///   twice (Python's csv would take the last, pandas renames the second: neither is an obvious choice).
  public func column(_ name: String) throws -> Int {
    guard let k = header.firstIndex(of: name) else {
      throw TasksError.badData(
        "\(source): line 1: no column '\(name)' (columns: \(header.joined(separator: ", ")))")
    }
    guard header.lastIndex(of: name) == k else {
      throw TasksError.badData("\(source): line 1: the header names column '\(name)' more than once")
    }
    return k
  }

  /// Row `r`'s value in column `k`.
  /// - Throws: `TasksError.badData` naming the line when it is missing (JSON lines without the key).
  public func value(_ r: Int, _ k: Int) throws -> String {
    guard let v = rows[r].values[k] else {
      throw TasksError.badData("\(source): line \(rows[r].line): no value for '\(header[k])'")
    }
    return v
  }
}
