/// A JSON value: stream metadata records, config.json, vocab.json, SQuAD files, result lines.
///
/// Not `indirect`: arrays and objects already live on the heap, and boxing every scalar made parsing slower.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The value as an Int (`.int`, or a `.double` with an integral value).
  public var intValue: Int? {
    switch self {
    case .int(let i): return i
    case .double(let d): return d.rounded() == d && abs(d) < 9.0e18 ? Int(d) : nil
    default: return nil
    }
  }

  /// The value as a Double (`.double` or `.int`).
  public var doubleValue: Double? {
    switch self {
    case .double(let d): return d
    case .int(let i): return Double(i)
    default: return nil
    }
  }

  /// The string of a `.string`.
  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The Bool of a `.bool`.
  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  /// The elements of an `.array`.
  public var arrayValue: [JSONValue]? {
    if case .array(let a) = self { return a }
    return nil
  }

  /// The members of an `.object`.
  public var objectValue: [String: JSONValue]? {
    if case .object(let o) = self { return o }
    return nil
  }

  /// Whether this is `.null`.
  public var isNull: Bool { self == .null }

  /// The elements of an array of integers, or nil if any element is not an integer.
  public var intArray: [Int]? {
    guard let a = arrayValue else { return nil }
    var out: [Int] = []
    out.reserveCapacity(a.count)
    for v in a {
      guard let i = v.intValue else { return nil }
      out.append(i)
    }
    return out
  }

  /// The elements of an array of numbers as Doubles, or nil if any element is not a number.
  public var doubleArray: [Double]? {
    guard let a = arrayValue else { return nil }
    var out: [Double] = []
    out.reserveCapacity(a.count)
    for v in a {
      guard let d = v.doubleValue else { return nil }
      out.append(d)
    }
    return out
  }

  /// The elements of an array of strings, or nil if any element is not a string.
  public var stringArray: [String]? {
    guard let a = arrayValue else { return nil }
    var out: [String] = []
    out.reserveCapacity(a.count)
    for v in a {
      guard let s = v.stringValue else { return nil }
      out.append(s)
    }
    return out
  }
}

/// A JSON object, the content of header and metadata records.
public typealias JSONObject = [String: JSONValue]

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    var o: [String: JSONValue] = [:]
    for (k, v) in elements { o[k] = v }
    self = .object(o)
  }
}

extension JSONValue {
  /// An array of integers.
  public init(_ ints: [Int]) { self = .array(ints.map { .int($0) }) }
  /// An array of numbers.
  public init(_ doubles: [Double]) { self = .array(doubles.map { .double($0) }) }
  /// An array of strings.
  public init(_ strings: [String]) { self = .array(strings.map { .string($0) }) }
}
