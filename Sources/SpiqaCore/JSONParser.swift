/// A strict RFC 8259 JSON parser over UTF-8 bytes.
extension JSONValue {
  /// Parses UTF-8 JSON text (RFC 8259, strict: no NaN, no trailing commas, no byte-order mark, nesting ≤ 256).
  ///
  /// Integers that fit in `Int` become `.int`; other numbers `.double`. A repeated object key keeps its last value.
  /// - Throws: `JSONSyntaxError` (bad data) naming the problem and its byte offset.
  public init(parsing bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) {
    var p = JSONParser(b: bytes)
    p.skipSpace()
    let v = try p.value(depth: 0)
    p.skipSpace()
    guard p.i == bytes.count else { throw JSONSyntaxError(offset: p.i, what: "text after the JSON value") }
    self = v
  }

  /// Parses UTF-8 JSON text; see `init(parsing:)` for an `UnsafeRawBufferPointer`.
  public init(parsing bytes: [UInt8]) throws(JSONSyntaxError) {
    let r = bytes.withUnsafeBytes { b in Result { () throws(JSONSyntaxError) in try JSONValue(parsing: b) } }
    self = try r.get()
  }
}

/// Where and why JSON text did not parse: bad data, with the byte offset of the problem in the text.
public struct JSONSyntaxError: SpiqaError, Sendable, Equatable {
  /// Byte offset in the text where the problem was found.
  public var offset: Int
  /// What was found, e.g. `unterminated string`.
  public var what: String

  public init(offset: Int, what: String) {
    self.offset = offset
    self.what = what
  }

  public var kind: SpiqaErrorKind { .badData }

  /// `invalid JSON: <what> at byte <offset>`.
  public var description: String { "invalid JSON: \(what) at byte \(offset)" }
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
    // Up to 18 digits cannot overflow: no text needed (offsets and ids in large files are mostly these).
    let negative = b[start] == UInt8(ascii: "-")
    if isInt, i - start - (negative ? 1 : 0) <= 18 {
      var v = 0
      for k in (negative ? start + 1 : start)..<i { v = v * 10 + Int(b[k] &- 0x30) }
      return .int(negative ? -v : v)
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
    // Fast path: a string without escapes is one validated slice of the input (most strings; twice the speed).
    let start = i
    while i < b.count {
      let c = b[i]
      if c == UInt8(ascii: "\"") || c == 0x5C || c < 0x20 { break }
      i += 1
    }
    if i < b.count, b[i] == UInt8(ascii: "\"") {
      i += 1
      let run = UnsafeRawBufferPointer(rebasing: b[start..<(i - 1)]).assumingMemoryBound(to: UInt8.self)
      guard let s = String(validating: run, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
      return s
    }
    var out = [UInt8](UnsafeRawBufferPointer(rebasing: b[start..<i]))
    var s = String()
    func flush(_ out: inout [UInt8], _ s: inout String) throws(JSONSyntaxError) {
      guard !out.isEmpty else { return }
      guard let t = String(validating: out, as: UTF8.self) else {
        throw JSONSyntaxError(offset: i, what: "invalid UTF-8 in string")
      }
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
