/// The element types a record can hold; the raw value is numpy's kind letter and item size.
public enum NPYDType: String, Sendable, CaseIterable {
  case float16 = "f2", float32 = "f4", float64 = "f8"
  case int8 = "i1", int16 = "i2", int32 = "i4", int64 = "i8"
  case uint8 = "u1", uint16 = "u2", uint32 = "u4", uint64 = "u8"
  case bool = "b1"

  /// Bytes per element.
  public var itemSize: Int {
    switch self {
    case .int8, .uint8, .bool: return 1
    case .float16, .int16, .uint16: return 2
    case .float32, .int32, .uint32: return 4
    case .float64, .int64, .uint64: return 8
    }
  }

  /// numpy's descriptor for the little-endian form: `'<f4'`, or `'|u1'` for one-byte types.
  public var descr: String {
    (itemSize == 1 ? "|" : "<") + rawValue
  }

  /// Parses a numpy type descriptor such as `<f4`, `>i8`, `|u1`, `f2` or `?`.
  ///
  /// - Returns: the type and whether its bytes are big-endian, or nil for any other descriptor.
  static func parse(descr: String) -> (dtype: NPYDType, bigEndian: Bool)? {
    var body = Substring(descr)
    var bigEndian = false
    if let first = body.first, "<>|=".contains(first) {
      bigEndian = first == ">"
      body = body.dropFirst()
    }
    if body == "?" { return (.bool, false) }
    guard let t = NPYDType(rawValue: String(body)) else { return nil }
    if t.itemSize == 1 { bigEndian = false }
    return (t, bigEndian)
  }
}
