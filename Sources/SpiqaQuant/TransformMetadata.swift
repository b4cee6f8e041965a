import SpiqaCore
import SpiqaIO

/// How an `AttentionTransform` is written into metadata, and read back: the record keys `threshold`, `method`,
/// `bits`, `variant`, `scope`, `hs_threshold`, `hs_bits` (docs/stream-format.md), the header objects built from them,
/// and the `upstream` copy spiqa-quantize keeps of what a record had been through before.
///
/// One writer serves every place; the places have always spelled the keys a little differently, and streams
/// must stay byte-identical, so each difference is an explicit option of `Style` and each place is a preset:
///
/// | preset | numbers | `variant` | `scope` | without a quantizer | `hs_*` |
/// |---|---|---|---|---|---|
/// | `extractedRecord` | float32 applied | unless reference | always | method, bits null | when set |
/// | `extractionHeader` | float32 applied | always | always | method, bits null | when set |
/// | `quantizedRecord` | as given | always | data-dependent, else null | method, bits, scope null | never |
/// | `quantizeHeader` | as given | always | data-dependent, else null | omitted | never |
/// | `quantizeReport` | as given | always | data-dependent, else null | method null | never |
/// | `evalResult` | as given | always | data-dependent, else null | method, bits, scope null | always |
///
/// `variant` is never written without a quantizer; keys a style does not write are left as they are in the
/// object written into (spiqa-quantize keeps an input record's `hs_*` keys, and its `variant` when it applies
/// no quantizer).
public struct TransformMetadata: Sendable {
  /// How `threshold` and `hs_threshold` are spelled.
  public enum Numbers: Sendable {
    /// The shortest decimal of the float32 value applied (0.05, not 0.05000000074505806).
    case float32Applied
    /// The number as given (a Double).
    case asGiven
  }

  /// When `scope` is written.
  public enum ScopeRule: Sendable {
    /// Always (also without a quantizer or for element-wise methods).
    case always
    /// For data-dependent quantizers; null for element-wise ones and without a quantizer.
    case dataDependent
    /// Never.
    case never
  }

  /// Which quantizer keys are written when there is no quantizer.
  public enum Unquantized: Sendable {
    /// `method` and `bits` null, and `scope` null under `ScopeRule.dataDependent`.
    case null
    /// Only `method`, null.
    case methodNull
    /// None of them.
    case omitted
  }

  /// When `hs_threshold` and `hs_bits` are written.
  public enum HiddenStates: Sendable {
    /// When they are not 0.
    case whenSet
    /// Always.
    case always
    /// Never.
    case never
  }

  /// Spelling of the thresholds.
  public var numbers: Numbers
  /// True: `variant` with every quantizer; false: only when it is not `reference`.
  public var variantAlways: Bool
  /// When `scope` is written.
  public var scope: ScopeRule
  /// The quantizer keys without a quantizer.
  public var unquantized: Unquantized
  /// When the hidden-state keys are written.
  public var hiddenStates: HiddenStates

  public init(
    numbers: Numbers, variantAlways: Bool, scope: ScopeRule, unquantized: Unquantized, hiddenStates: HiddenStates
  ) {
    self.numbers = numbers
    self.variantAlways = variantAlways
    self.scope = scope
    self.unquantized = unquantized
    self.hiddenStates = hiddenStates
  }

  /// Every attention record spiqa-extract writes.
  public static let extractedRecord = TransformMetadata(
    numbers: .float32Applied, variantAlways: false, scope: .always, unquantized: .null, hiddenStates: .whenSet)
  /// The `settings` object of a spiqa-extract header (with the recording options added by the extractor).
  public static let extractionHeader = TransformMetadata(
    numbers: .float32Applied, variantAlways: true, scope: .always, unquantized: .null, hiddenStates: .whenSet)
  /// Every attention record spiqa-quantize writes (over the input record's keys).
  public static let quantizedRecord = TransformMetadata(
    numbers: .asGiven, variantAlways: true, scope: .dataDependent, unquantized: .null, hiddenStates: .never)
  /// The `quantize` object of a spiqa-quantize header.
  public static let quantizeHeader = TransformMetadata(
    numbers: .asGiven, variantAlways: true, scope: .dataDependent, unquantized: .omitted, hiddenStates: .never)
  /// The spiqa-quantize report (`--report`).
  public static let quantizeReport = TransformMetadata(
    numbers: .asGiven, variantAlways: true, scope: .dataDependent, unquantized: .methodNull, hiddenStates: .never)
  /// The spiqa-eval result line.
  public static let evalResult = TransformMetadata(
    numbers: .asGiven, variantAlways: true, scope: .dataDependent, unquantized: .null, hiddenStates: .always)

  /// The keys that describe the attention part of a transform, as `upstream` keeps them.
  public static let attentionKeys = [
    "threshold", "method", "bits", "variant", "scope", "ablate", "transform_layers", "transform_heads", "transform_mask",
  ]

  /// Writes `t`'s keys into `m` (keys this style does not write are left as they are).
  public func write(_ t: AttentionTransform, into m: inout JSONObject) {
    m["threshold"] = number(t.threshold)
    // The selection and ablation in every style, only when set (outputs without them stay as they were); a
    // transform without them removes an input's (spiqa-quantize: they move to `upstream`).
    m["ablate"] = t.ablate ? .bool(true) : nil
    m["transform_layers"] = t.layers.map { JSONValue($0.sorted()) }
    m["transform_heads"] = t.heads.map { JSONValue($0.sorted()) }
    m["transform_mask"] = t.mask.map { .array($0.map { JSONValue($0.map { $0 ? 1 : 0 }) }) }
    if let q = t.quantizer {
      m["method"] = .string(q.method.rawValue)
      m["bits"] = .int(q.bits)
      if variantAlways || q.variant != .reference { m["variant"] = .string(q.variant.rawValue) }
      switch scope {
      case .always: m["scope"] = .string(t.scope.rawValue)
      case .dataDependent: m["scope"] = q.method.isElementwise ? .null : .string(t.scope.rawValue)
      case .never: break
      }
    } else {
      switch unquantized {
      case .null:
        m["method"] = .null
        m["bits"] = .null
        if scope == .dataDependent { m["scope"] = .null }
      case .methodNull: m["method"] = .null
      case .omitted: break
      }
      if scope == .always { m["scope"] = .string(t.scope.rawValue) }
    }
    switch hiddenStates {
    case .whenSet:
      if t.hsThreshold > 0 { m["hs_threshold"] = number(t.hsThreshold) }
      if t.hsBits > 0 { m["hs_bits"] = .int(t.hsBits) }
    case .always:
      m["hs_threshold"] = number(t.hsThreshold)
      m["hs_bits"] = .int(t.hsBits)
    case .never: break
    }
  }

  /// `t`'s keys as a new object.
  public func object(_ t: AttentionTransform) -> JSONObject {
    var m: JSONObject = [:]
    write(t, into: &m)
    return m
  }

  private func number(_ x: Double) -> JSONValue {
    switch numbers {
    case .asGiven: return .double(x)
    case .float32Applied: return .double(shortestDecimal(Float(x)))
    }
  }

  /// True when the metadata says attention was pruned or quantized (`threshold` > 0 or a non-null `method`).
  public static func isTransformed(_ m: JSONObject) -> Bool {
    (m["threshold"]?.doubleValue ?? 0) > 0 || (m["method"].map { !$0.isNull } ?? false)
      || m["ablate"]?.boolValue == true
  }

  /// The attention keys of `m` as they are (the `upstream` object of a record spiqa-quantize transforms again).
  public static func recordedKeys(_ m: JSONObject) -> JSONObject {
    var u: JSONObject = [:]
    for k in attentionKeys { if let v = m[k] { u[k] = v } }
    return u
  }

  /// The transform metadata `m` describes: absent keys mean "off" (and `reference`, `batch`).
  /// - Throws: `QuantError` (not usage) for keys of the wrong type, an unknown method, variant or scope, or bits
  ///   the quantizer refuses.
  public static func read(_ m: JSONObject) throws -> AttentionTransform {
    func bad(_ key: String) -> QuantError {
      QuantError("metadata key \"\(key)\" = \(m[key]?.jsonText ?? "?") is not a valid value", isUsage: false)
    }
    func number(_ key: String) throws -> Double {
      guard let v = m[key], !v.isNull else { return 0 }
      guard let d = v.doubleValue else { throw bad(key) }
      return d
    }
    var t = AttentionTransform(threshold: try number("threshold"), hsThreshold: try number("hs_threshold"))
    if let v = m["hs_bits"], !v.isNull {
      guard let b = v.intValue else { throw bad("hs_bits") }
      t.hsBits = b
    }
    func indices(_ key: String) throws -> Set<Int>? {
      guard let v = m[key], !v.isNull else { return nil }
      guard case .array(let items) = v else { throw bad(key) }
      var out = Set<Int>()
      for item in items {
        guard let i = item.intValue, i >= 0 else { throw bad(key) }
        out.insert(i)
      }
      return out
    }
    t.layers = try indices("transform_layers")
    t.heads = try indices("transform_heads")
    if let v = m["transform_mask"], !v.isNull {
      guard let rows = v.arrayValue else { throw bad("transform_mask") }
      t.mask = try rows.map { row -> [Bool] in
        let items = row.arrayValue ?? []
        let r = items.compactMap(\.intValue)
        guard row.arrayValue != nil, r.count == items.count, r.allSatisfy({ $0 == 0 || $0 == 1 }) else {
          throw bad("transform_mask")
        }
        return r.map { $0 == 1 }
      }
    }
    if let v = m["ablate"], !v.isNull {
      guard let b = v.boolValue else { throw bad("ablate") }
      t.ablate = b
    }
    if let v = m["scope"], !v.isNull {
      guard let s = v.stringValue.flatMap(QuantScope.init(rawValue:)) else { throw bad("scope") }
      t.scope = s
    }
    if let v = m["method"], !v.isNull {
      guard let method = v.stringValue.flatMap(QuantMethod.init(name:)) else { throw bad("method") }
      guard let bits = m["bits"]?.intValue else { throw bad("bits") }
      var variant = QuantVariant.reference
      if let v = m["variant"], !v.isNull {
        guard let parsed = v.stringValue.flatMap(QuantVariant.init(rawValue:)) else { throw bad("variant") }
        variant = parsed
      }
      do {
        t.quantizer = try AttentionQuantizer(method: method, bits: bits, variant: variant)
      } catch {
        throw bad("bits")
      }
    }
    return t
  }
}

/// The Double with the same shortest decimal spelling as `x` (0.05 stays 0.05 in JSON, not 0.0500000007).
func shortestDecimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
