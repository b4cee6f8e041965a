/// Compact JSON text with sorted keys (Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)`).
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
}
