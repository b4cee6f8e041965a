import SpiqaCore
import SpiqaIO
import SpiqaQuant

/// Which attention values a data-dependent quantizer takes its statistics over, per layer.
public enum QuantScope: String, Sendable, CaseIterable {
  /// Each sequence on its own (its `[heads, T, T]` block, padding zeros included).
  case record
  /// All sequences of the same example in the batch (SQuAD: a question's features = the batch).
  case example
  /// The whole layer tensor `[batch, heads, T, T]` — what the reference's forward pass does.
  case batch
}

/// What `AttentionExtractor` records and what it does to the attention on the way (the model uses the result).
public struct ExtractionSettings: Sendable {
  /// Model layers to record (sorted, unique); nil = all.
  public var layers: [Int]?
  /// Heads to record (sorted, unique); nil = all.
  public var heads: [Int]?
  /// Pruning threshold applied in every layer before quantization (`p > t` kept; 0 = off).
  public var threshold: Float = 0
  /// Quantizer applied in every layer after pruning (nil = off).
  public var quantizer: AttentionQuantizer?
  /// Statistics scope of data-dependent quantizers.
  public var scope: QuantScope = .batch
  /// Hidden-state threshold on each layer's output (`|h| ≤ t` → 0; 0 = off).
  public var hsThreshold: Float = 0
  /// Fixed-point bits for each layer's input hidden states (0 = off; needs ≥ 7).
  public var hsBits: Int = 0
  /// Also hand out `[layers + 1, n, hidden]` hidden states per sequence.
  public var hiddenStates = false
  /// Payload type written for attention and hidden states (`.float32` or `.float16`).
  public var dtype: NPYDType = .float32
  /// Add `tokens` and `token_ids` to the metadata.
  public var tokens = false

  public init() {}

  /// True when a data-dependent quantizer runs, so padding (and grouping) changes the recorded values.
  public var dependsOnPadding: Bool {
    guard let q = quantizer else { return false }
    return !q.method.isElementwise
  }

  /// The `settings` object of a stream header.
  public var headerJSON: JSONObject {
    var s: JSONObject = [
      "threshold": .double(decimal(threshold)),
      "method": quantizer.map { .string($0.method.rawValue) } ?? .null,
      "bits": quantizer.map { .int($0.bits) } ?? .null,
      "scope": .string(scope.rawValue),
      "dtype": .string(dtype.rawValue),
      "hidden_states": .bool(hiddenStates),
      "tokens": .bool(tokens),
    ]
    if let q = quantizer { s["variant"] = .string(q.variant.rawValue) }
    if hsThreshold > 0 { s["hs_threshold"] = .double(decimal(hsThreshold)) }
    if hsBits > 0 { s["hs_bits"] = .int(hsBits) }
    return s
  }

  /// Metadata shared by every attention record: what was applied (docs/stream-format.md attention keys).
  var appliedJSON: JSONObject {
    var m: JSONObject = [
      "threshold": .double(decimal(threshold)),
      "method": quantizer.map { .string($0.method.rawValue) } ?? .null,
      "bits": quantizer.map { .int($0.bits) } ?? .null,
      "scope": .string(scope.rawValue),
    ]
    if let q = quantizer, q.variant != .reference { m["variant"] = .string(q.variant.rawValue) }
    if hsThreshold > 0 { m["hs_threshold"] = .double(decimal(hsThreshold)) }
    if hsBits > 0 { m["hs_bits"] = .int(hsBits) }
    return m
  }
}

/// The Double with the same shortest decimal spelling as `x` (0.05 stays 0.05 in JSON, not 0.0500000007).
func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
