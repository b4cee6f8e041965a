/// Compact JSON text with sorted keys (Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)`), and a strict RFC 8259 parser.
extension JSONValue {
  /// Compact UTF-8 JSON with object keys sorted by code point; non-finite doubles become `null`.
  public var jsonText: String { String(decoding: jsonBytes, as: UTF8.self) }

  /// Compact UTF-8 JSON bytes with sorted keys.
  public var jsonBytes: [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    write(to: &out)
    return out
  }

  private func write(to out: inout [UInt8]) {
    switch self {
    case .null: out += Array("null".utf8)
    case .bool(let b): out += Array((b ? "true" : "false").utf8)
    case .int(let i): out += Array(String(i).utf8)
    case .double(let d):
      if d.isFinite {
        out += Array(d.description.utf8)
      } else {
        out += Array("null".utf8)
      }
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let a):
      out.append(UInt8(ascii: "["))
      for (i, v) in a.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        v.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let o):
      out.append(UInt8(ascii: "{"))
      let keys = o.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
      for (i, k) in keys.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONValue.writeString(k, to: &out)
        out.append(UInt8(ascii: ":"))
        o[k]?.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

  private static func writeString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for c in s.utf8 {
      switch c {
      case UInt8(ascii: "\""): out += [0x5C, 0x22]
      case 0x5C: out += [0x5C, 0x5C]
      case 0x0A: out += [0x5C, UInt8(ascii: "n")]
      case 0x0D: out += [0x5C, UInt8(ascii: "r")]
      case 0x09: out += [0x5C, UInt8(ascii: "t")]
      case 0x08: out += [0x5C, UInt8(ascii: "b")]
      case 0x0C: out += [0x5C, UInt8(ascii: "f")]
      case 0..<0x20, 0x7F:
        out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]]
      default: out.append(c)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// Parses UTF-8 JSON text (RFC 8259, strict: no NaN, no trailing commas, nesting ≤ 256).
  ///
  /// - Throws: `SpiqaIOError` (65) naming the problem and its byte offset.
  public init(parsing bytes: [UInt8], source: String = "JSON") throws {
    let r = bytes.withUnsafeBytes { JSONValue.parse($0) }
    switch r {
    case .success(let v): self = v
    case .failure(let e):
      throw SpiqaIOError(.badData, source: source, byteOffset: e.offset, what: "invalid JSON: \(e.what)", expected: "UTF-8 JSON text")
    }
  }

  /// Parses JSON text (UTF-8), returning the syntax error on failure.
  static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONValue, JSONSyntaxError> {
    var p = JSONParser(b: bytes)
    do throws(JSONSyntaxError) {
      p.skipSpace()
      let v = try p.value(depth: 0)
      p.skipSpace()
      guard p.i == bytes.count else { throw JSONSyntaxError(offset: p.i, what: "text after the JSON value") }
      return .success(v)
    } catch {
      return .failure(error)
    }
  }
}

/// Where and why JSON text did not parse.
struct JSONSyntaxError: Error {
  var offset: Int
  var what: String
}

private struct JSONParser {
  let b: UnsafeRawBufferPointer
  var i = 0

  mutating func skipSpace() {
    while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
  }

  func fail(_ what: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, what: what) }

  mutating func literal(_ word: String, _ v: JSONValue) throws(JSONSyntaxError) -> JSONValue {
    for c in word.utf8 {
      guard i < b.count, b[i] == c else { throw fail("invalid literal") }
      i += 1
    }
    return v
  }

  mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    guard depth < 256 else { throw fail("nesting deeper than 256") }
    guard i < b.count else { throw fail("end of text") }
    switch b[i] {
    case UInt8(ascii: "{"):
      i += 1
      var o: [String: JSONValue] = [:]
      skipSpace()
      if i < b.count, b[i] == UInt8(ascii: "}") {
        i += 1
        return .object(o)
      }
      while true {
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("object key is not a string") }
        let k = try string()
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("missing ':'") }
        i += 1
        skipSpace()
        o[k] = try value(depth: depth + 1)
        skipSpace()
        guard i < b.count else { throw fail("unterminated object") }
        if b[i] == UInt8(ascii: ",") { i += 1; continue }
        if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
        throw fail("expected ',' or '}'")
      }
    case UInt8(ascii: "["):
      i += 1
      var a: [JSONValue] = []
      skipSpace()
      if i < b.count, b[i] == UInt8(ascii: "]") {
        i += 1
        return .array(a)
      }
      while true {
        skipSpace()
        a.append(try value(depth: depth + 1))
        skipSpace()
        guard i < b.count else { throw fail("unterminated array") }
        if b[i] == UInt8(ascii: ",") { i += 1; continue }
        if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
        throw fail("expected ',' or ']'")
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw fail("unexpected character")
    }
  }

  mutating func number() throws(JSONSyntaxError) -> JSONValue {
    let start = i
    var isInt = true
    if b[i] == UInt8(ascii: "-") { i += 1 }
    func digits(_ p: inout JSONParser) -> Int {
      let s = p.i
      while p.i < p.b.count, p.b[p.i] >= 0x30, p.b[p.i] <= 0x39 { p.i += 1 }
      return p.i - s
    }
    guard i < b.count else { throw fail("bad number") }
    if b[i] == 0x30 {
      i += 1
    } else if digits(&self) == 0 {
      throw fail("bad number")
    }
    if i < b.count, b[i] == UInt8(ascii: ".") {
      i += 1
      isInt = false
      guard digits(&self) > 0 else { throw fail("bad number") }
    }
    if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
      i += 1
      isInt = false
      if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
      guard digits(&self) > 0 else { throw fail("bad number") }
    }
    let text = String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
    if isInt, let v = Int(text) { return .int(v) }
    guard let d = Double(text) else { throw fail("bad number") }
    return .double(d)
  }

  mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
    guard i + 4 <= b.count else { throw fail("short \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = b[i]
      let d: UInt32
      switch c {
      case 0x30...0x39: d = UInt32(c - 0x30)
      case 0x41...0x46: d = UInt32(c - 0x41 + 10)
      case 0x61...0x66: d = UInt32(c - 0x61 + 10)
      default: throw fail("bad \\u escape")
      }
      v = v * 16 + d
      i += 1
    }
    return v
  }

  mutating func string() throws(JSONSyntaxError) -> String {
    i += 1  // opening quote
    var out: [UInt8] = []
    var s = String()
    func flush(_ out: inout [UInt8], _ s: inout String) throws(JSONSyntaxError) {
      guard !out.isEmpty else { return }
      guard let t = String(validating: out, as: UTF8.self) else { throw JSONSyntaxError(offset: i, what: "invalid UTF-8 in string") }
      s += t
      out.removeAll(keepingCapacity: true)
    }
    while true {
      guard i < b.count else { throw fail("unterminated string") }
      let c = b[i]
      if c == UInt8(ascii: "\"") {
        i += 1
        try flush(&out, &s)
        return s
      }
      if c < 0x20 { throw fail("control character in string") }
      if c != 0x5C {
        out.append(c)
        i += 1
        continue
      }
      i += 1
      guard i < b.count else { throw fail("unterminated string") }
      let e = b[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""): out.append(0x22)
      case 0x5C: out.append(0x5C)
      case UInt8(ascii: "/"): out.append(0x2F)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try hex4()
        if scalar >= 0xD800 && scalar < 0xDC00, i + 6 <= b.count, b[i] == 0x5C, b[i + 1] == UInt8(ascii: "u") {
          let save = i
          i += 2
          let low = try hex4()
          if low >= 0xDC00 && low < 0xE000 {
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          } else {
            i = save
          }
        }
        try flush(&out, &s)
        s.unicodeScalars.append(Unicode.Scalar(scalar) ?? "\u{FFFD}")
      default: throw fail("bad escape")
      }
    }
  }
}
