/// The subset of Python literal syntax found in NPY headers, parsed like `ast.literal_eval` would.
///
/// NPY headers are Python dict literals: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
/// numpy evaluates them with `ast.literal_eval` and then checks the types, so `(5)` (an int, not a tuple),
/// `[5]` (a list) and `0` (not a bool) parse here but are refused by `NPY.parseHeaderDict`.
enum PythonLiteral: Equatable {
  case string(String)
  case bool(Bool)
  case int(Int)
  case bigInt  // an integer that does not fit in Int
  case float
  case none
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case dict([(String, PythonLiteral)])
  case otherDict  // a dict with a non-string key

  static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
    switch (a, b) {
    case let (.string(x), .string(y)): return x == y
    case let (.bool(x), .bool(y)): return x == y
    case let (.int(x), .int(y)): return x == y
    case (.bigInt, .bigInt), (.float, .float), (.none, .none), (.otherDict, .otherDict): return true
    case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): return x == y
    case let (.dict(x), .dict(y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: return false
    }
  }

  /// Python's `repr` of the value, for error messages.
  var repr: String {
    switch self {
    case .string(let s): return "'" + s + "'"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .bigInt: return "<big int>"
    case .float: return "<float>"
    case .none: return "None"
    case .tuple(let xs): return xs.count == 1 ? "(\(xs[0].repr),)" : "(" + xs.map(\.repr).joined(separator: ", ") + ")"
    case .list(let xs): return "[" + xs.map(\.repr).joined(separator: ", ") + "]"
    case .dict(let kv): return "{" + kv.map { "'\($0.0)': \($0.1.repr)" }.joined(separator: ", ") + "}"
    case .otherDict: return "{...}"
    }
  }

  /// Parses one literal filling the whole text (surrounding white space allowed).
  static func parse(_ text: String) -> PythonLiteral? {
    var p = Parser(bytes: Array(text.utf8))
    p.skipSpace()
    guard let v = p.value(depth: 0) else { return nil }
    p.skipSpace()
    return p.i == p.bytes.count ? v : nil
  }

  private struct Parser {
    let bytes: [UInt8]
    var i = 0

    mutating func skipSpace() {
      while i < bytes.count {
        switch bytes[i] {
        case 0x20, 0x09, 0x0A, 0x0D, 0x0C: i += 1
        case 0x5C where i + 1 < bytes.count && bytes[i + 1] == 0x0A: i += 2  // line continuation
        default: return
        }
      }
    }

    mutating func eat(_ c: UInt8) -> Bool {
      skipSpace()
      if i < bytes.count && bytes[i] == c {
        i += 1
        return true
      }
      return false
    }

    mutating func value(depth: Int) -> PythonLiteral? {
      guard depth < 64 else { return nil }
      skipSpace()
      guard i < bytes.count else { return nil }
      switch bytes[i] {
      case UInt8(ascii: "'"), UInt8(ascii: "\""): return string().map { .string($0) }
      case UInt8(ascii: "("): i += 1; return sequence(close: UInt8(ascii: ")"), depth: depth, isTuple: true)
      case UInt8(ascii: "["): i += 1; return sequence(close: UInt8(ascii: "]"), depth: depth, isTuple: false)
      case UInt8(ascii: "{"): i += 1; return dict(depth: depth)
      case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."):
        return number()
      default:
        let start = i
        while i < bytes.count, isNameByte(bytes[i]) { i += 1 }
        switch String(decoding: bytes[start..<i], as: UTF8.self) {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return PythonLiteral.none
        default: return nil
        }
      }
    }

    func isNameByte(_ c: UInt8) -> Bool {
      (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c >= 0x80
    }

    mutating func string() -> String? {
      let quote = bytes[i]
      i += 1
      var out: [UInt8] = []
      while i < bytes.count {
        let c = bytes[i]
        if c == quote {
          i += 1
          return String(decoding: out, as: UTF8.self)
        }
        if c == 0x0A { return nil }
        if c == 0x5C {  // backslash: keep the escaped byte (headers never need more)
          guard i + 1 < bytes.count else { return nil }
          let e = bytes[i + 1]
          switch e {
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "r"): out.append(0x0D)
          case 0x0A: break
          default: out.append(e)
          }
          i += 2
          continue
        }
        out.append(c)
        i += 1
      }
      return nil
    }

    mutating func number() -> PythonLiteral? {
      var negative = false
      var sawSign = false
      while i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        if bytes[i] == UInt8(ascii: "-") { negative.toggle() }
        sawSign = true
        i += 1
        skipSpace()
      }
      _ = sawSign
      let start = i
      var isFloat = false
      while i < bytes.count {
        let c = bytes[i]
        if c >= 0x30 && c <= 0x39 || c == 0x5F {
          i += 1
        } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
          isFloat = true
          i += 1
          if c != UInt8(ascii: "."), i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            i += 1
          }
        } else if isNameByte(c) {
          return nil  // 5L, 0x10, 1j: not in NPY headers
        } else {
          break
        }
      }
      let digits = bytes[start..<i]
      guard !digits.isEmpty else { return nil }
      if isFloat { return .float }
      // Python: no leading zeros ("007"), underscores only between digits.
      if digits.first == 0x5F || digits.last == 0x5F { return nil }
      var prevUnderscore = false
      var value = 0
      var overflow = false
      for c in digits {
        if c == 0x5F {
          if prevUnderscore { return nil }
          prevUnderscore = true
          continue
        }
        prevUnderscore = false
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int(c - 0x30))
        overflow = overflow || o1 || o2
        value = a
      }
      let plain = digits.filter { $0 != 0x5F }
      if plain.count > 1 && plain.first == 0x30 && plain.contains(where: { $0 != 0x30 }) { return nil }
      if overflow { return .bigInt }
      return .int(negative ? -value : value)
    }

    mutating func sequence(close: UInt8, depth: Int, isTuple: Bool) -> PythonLiteral? {
      var items: [PythonLiteral] = []
      var sawComma = false
      while true {
        if eat(close) { break }
        if !items.isEmpty && !sawComma { return nil }
        guard let v = value(depth: depth + 1) else { return nil }
        items.append(v)
        sawComma = eat(UInt8(ascii: ","))
        if !sawComma {
          guard eat(close) else { return nil }
          break
        }
      }
      if isTuple {
        // `(x)` is just x; `(x,)` is a 1-tuple; `()` is the empty tuple.
        if items.count == 1 && !sawComma { return items[0] }
        return .tuple(items)
      }
      return .list(items)
    }

    mutating func dict(depth: Int) -> PythonLiteral? {
      var items: [(String, PythonLiteral)] = []
      var stringKeys = true
      while true {
        if eat(UInt8(ascii: "}")) { break }
        guard let k = value(depth: depth + 1), eat(UInt8(ascii: ":")), let v = value(depth: depth + 1) else {
          return nil
        }
        if case .string(let key) = k {
          if let j = items.firstIndex(where: { $0.0 == key }) { items[j].1 = v } else { items.append((key, v)) }
        } else {
          stringKeys = false
        }
        if !eat(UInt8(ascii: ",")) {
          guard eat(UInt8(ascii: "}")) else { return nil }
          break
        }
      }
      return stringKeys ? .dict(items) : .otherDict
    }
  }
}
