// The NPY prefix (numpy `lib/format.py`): `\x93NUMPY`, major, minor, header length (u16 LE for 1.0, u32 LE
// for 2.0/3.0), then a Python dict literal padded with spaces and ended by `\n` so that the data starts at a
// multiple of 64 bytes.

/// The NPY magic string `\x93NUMPY`.
let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
/// numpy's `_MAX_HEADER_SIZE`: longer headers are refused.
let npyMaxHeaderChars = 10_000
/// numpy's `GROWTH_AXIS_MAX_DIGITS`: spare spaces after the dict.
private let growthAxisMaxDigits = 21
/// numpy's `ARRAY_ALIGN`.
private let arrayAlign = 64

extension NPY {
  /// The NPY prefix numpy.save writes for a C-order little-endian array: magic, version, length, dict, padding.
  ///
  /// Format 1.0 unless the header does not fit a 16-bit length, then 2.0 (as numpy does).
  public static func headerBytes(dtype: NPYDType, shape: [Int]) -> [UInt8] {
    let shapeRepr: String
    switch shape.count {
    case 0: shapeRepr = "()"
    case 1: shapeRepr = "(\(shape[0]),)"
    default: shapeRepr = "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
    var dict = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': \(shapeRepr), }"
    if let first = shape.first {
      dict += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).utf8.count))
    }
    let text = Array(dict.utf8)
    let hlen = text.count + 1
    var lengthFieldSize = 2
    var padlen = arrayAlign - ((npyMagic.count + 2 + lengthFieldSize + hlen) % arrayAlign)
    var major: UInt8 = 1
    if hlen + padlen > 0xFFFF {
      lengthFieldSize = 4
      major = 2
      padlen = arrayAlign - ((npyMagic.count + 2 + lengthFieldSize + hlen) % arrayAlign)
    }
    var out = npyMagic
    out.reserveCapacity(10 + hlen + padlen)
    out.append(major)
    out.append(0)
    let total = UInt32(hlen + padlen)
    out.append(UInt8(truncatingIfNeeded: total))
    out.append(UInt8(truncatingIfNeeded: total >> 8))
    if lengthFieldSize == 4 {
      out.append(UInt8(truncatingIfNeeded: total >> 16))
      out.append(UInt8(truncatingIfNeeded: total >> 24))
    }
    out += text
    out += repeatElement(0x20, count: padlen)
    out.append(0x0A)
    return out
  }

  /// Parses the header dict text the way numpy's `_read_array_header` checks it.
  ///
  /// - Throws: `DecodeFailure` naming what is wrong (keys, shape, bool, descr).
  static func parseHeaderDict(_ text: String) throws(DecodeFailure) -> (NPYDType, Bool, Bool, [Int]) {
    guard let literal = PythonLiteral.parse(text) else {
      throw DecodeFailure("NPY header is not a Python literal: \(quoted(text))", expected: "a dict like {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")
    }
    guard case .dict(let items) = literal else {
      throw DecodeFailure("NPY header is not a dictionary: \(quoted(text))", expected: "a dict with keys descr, fortran_order, shape")
    }
    let keys = items.map(\.0).sorted()
    guard keys == ["descr", "fortran_order", "shape"] else {
      throw DecodeFailure(
        "NPY header has keys [\(keys.joined(separator: ", "))]",
        expected: "exactly descr, fortran_order, shape (numpy refuses any other key)")
    }
    var descr: PythonLiteral = .none
    var fortran: PythonLiteral = .none
    var shapeLit: PythonLiteral = .none
    for (k, v) in items {
      switch k {
      case "descr": descr = v
      case "fortran_order": fortran = v
      default: shapeLit = v
      }
    }
    guard case .tuple(let dims) = shapeLit else {
      throw DecodeFailure("NPY shape is not valid: \(shapeLit.repr)", expected: "a tuple of ints such as (5,) or ()")
    }
    var shape: [Int] = []
    for d in dims {
      guard case .int(let n) = d else {
        throw DecodeFailure("NPY shape is not valid: \(shapeLit.repr)", expected: "a tuple of ints")
      }
      guard n >= 0 else {
        throw DecodeFailure("NPY shape has a negative dimension: \(shapeLit.repr)", expected: "dimensions ≥ 0")
      }
      shape.append(n)
    }
    guard case .bool(let fortranOrder) = fortran else {
      throw DecodeFailure("NPY fortran_order is not a valid bool: \(fortran.repr)", expected: "True or False")
    }
    guard case .string(let d) = descr else {
      throw DecodeFailure("NPY descr is not a valid dtype descriptor: \(descr.repr)", expected: "a string such as '<f4'")
    }
    guard let (dtype, bigEndian) = NPYDType.parse(descr: d) else {
      let known = NPYDType.allCases.map(\.rawValue).joined(separator: " ")
      throw DecodeFailure("unsupported NPY dtype '\(d)'", expected: "one of \(known) with byte order <, > or |")
    }
    return (dtype, bigEndian, fortranOrder, shape)
  }

  /// The number of elements and data bytes of a shape, or nil when it overflows.
  static func sizes(shape: [Int], itemSize: Int) -> (count: Int, bytes: Int)? {
    var count = 1
    for d in shape {
      let (m, o) = count.multipliedReportingOverflow(by: d)
      if o { return nil }
      count = m
    }
    let (b, o) = count.multipliedReportingOverflow(by: itemSize)
    if o || b > Int(Int64.max) / 2 { return nil }
    return (count, b)
  }
}

/// A short quoted excerpt of header text for error messages.
func quoted(_ s: String) -> String {
  var t = s.trimmingSuffixSpaces()
  if t.count > 120 { t = String(t.prefix(117)) + "..." }
  return "\"" + t.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\x" + String($0.value, radix: 16) : String($0) }.joined() + "\""
}

extension String {
  fileprivate func trimmingSuffixSpaces() -> String {
    var s = Substring(self)
    while let c = s.last, c == " " || c == "\n" { s = s.dropLast() }
    return String(s)
  }
}
