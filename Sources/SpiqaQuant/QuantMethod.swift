import SpiqaCore

/// The attention quantizers of the reference (F `modeling_bert.py`, `BertSelfAttention.quantize_attention_*`).
///
/// Raw values are the reference function names without the `quantize_attention_` prefix.
public enum QuantMethod: String, CaseIterable, Sendable {
  /// §2.1 linear grid {0, 1/(n-1), …, 1}, closest edge.
  case linearSlinear = "linear_slinear"
  /// §2.2 n linear bins, bin mid-point, first bin zeroed (plot label "linear").
  case linearSlinearMidval = "linear_slinear_midval"
  /// §2.3 linear grid on [1e-3, 1], closest edge.
  case linearSlinearClamped = "linear_slinear_clamped"
  /// §2.4 n linear bins on [1e-3, 1], mid-point, first bin zeroed (plot label "linear-pruned").
  case linearSlinearClampedMidval = "linear_slinear_clamped_midval"
  /// §2.5 exponent rounded to a multiple of log2(1e-3)/(n-1), closest edge in log space.
  case linearSlog = "linear_slog"
  /// §2.6 n log2 bins over [1e-10, 1], geometric mid-point (plot label "log").
  case linearSlogMidval = "linear_slog_midval"
  /// §2.7 n-1 log2 bins over [1e-3, 1], geometric mid-point; the paper's method (plot label "log-pruned").
  case linearSlogClampedMidval = "linear_slog_clamped_midval"
  /// §2.8 equal-count (quantile) thresholds over values > 1e-3, mid-points of the thresholds.
  case uniformSlinearClampedMean = "uniform_slinear_clamped_mean"
  /// §2.9 halving-count thresholds over values > 1e-3, bin means.
  case uniformSlogClampedMean = "uniform_slog_clamped_mean"
  /// §2.10 halving-count thresholds over all values (zeros included), bin means, no zero code.
  case uniformSlogMean = "uniform_slog_mean"
  /// §2.11 values >= 1e-3 become 1/K, K = number of such values in the whole scope (plot label "boolean").
  case binarization = "binarization"

  /// The paper's plot labels and the original analyzer's visualisation names, mapped to the reference functions
  /// (reference §1.4 and §3.7). Matching is exact; `init?(name:)` also accepts `-`/`_` interchangeably.
  public static let aliases: [(alias: String, method: QuantMethod)] = [
    ("linear", .linearSlinearMidval),
    ("linear-pruned", .linearSlinearClampedMidval),
    ("log", .linearSlogMidval),
    ("log-pruned", .linearSlogClampedMidval),
    ("boolean", .binarization),
    ("bin", .binarization),
    ("uniform-log", .uniformSlogMean),
    ("uniform-log-pruned", .uniformSlogClampedMean),
    ("uniform-clamped-log", .uniformSlogClampedMean),
    ("uniform-linear-pruned", .uniformSlinearClampedMean),
  ]

  /// Accepts a reference name (`linear_slog_clamped_midval`, also with `-` for `_`) or a paper alias (`log-pruned`).
  public init?(name: String) {
    if let m = QuantMethod(rawValue: name) { self = m; return }
    if let m = QuantMethod(rawValue: String(name.map { $0 == "-" ? "_" : $0 })) { self = m; return }
    if let hit = QuantMethod.aliases.first(where: { $0.alias == name }) { self = hit.method; return }
    return nil
  }

  /// The spellings shell completion offers: the paper's aliases, then the reference names.
  public static var completionNames: [String] { aliases.map(\.alias) + allCases.map(\.rawValue) }

  /// Every accepted spelling, for error messages: reference names, then `alias=name` pairs.
  public static var validNames: String {
    allCases.map(\.rawValue).joined(separator: ", ") + "; aliases: "
      + aliases.map { "\($0.alias) (= \($0.method.rawValue))" }.joined(separator: ", ")
  }

  /// True when each output element depends only on the same input element (§2.1–2.7).
  public var isElementwise: Bool {
    switch self {
    case .uniformSlinearClampedMean, .uniformSlogClampedMean, .uniformSlogMean, .binarization: return false
    default: return true
    }
  }

  /// True for the mid-point methods whose reference output exceeds 1 at `att == 1.0` (§2.2, §2.4, §2.6).
  public var exceedsOneAtOne: Bool {
    self == .linearSlinearMidval || self == .linearSlinearClampedMidval || self == .linearSlogMidval
  }
}

/// Reference behaviour (quirks included) or the corrected behaviour for the quirks that are plainly bugs.
public enum QuantVariant: String, CaseIterable, Sendable {
  /// Exactly what the reference code computes (the default).
  case reference
  /// Fixes: mid-point methods never exceed 1 (`att == 1` takes the top bin); `uniform_*` map `att == 1.0` to the
  /// last value instead of 0; binarization normalises per row (1/K_row) instead of by the global K.
  case corrected
}

/// Errors of SpiqaQuant. `isUsage` errors are bad parameters (`.usage`); the rest are data the method cannot
/// handle (`.badData`, as the reference would fail).
public struct QuantError: SpiqaError, Sendable, Equatable {
  public var description: String
  /// True when the error comes from bad parameters rather than data.
  public var isUsage: Bool
  /// Which part of a transform's layer/head selection the error is about, so the command line can name its flag
  /// (the library does not know flags).
  public var selection: SelectionPart?

  public enum SelectionPart: String, Sendable { case mask, layers, heads }

  public init(_ description: String, isUsage: Bool, selection: SelectionPart? = nil) {
    self.description = description
    self.isUsage = isUsage
    self.selection = selection
  }

  public var kind: SpiqaErrorKind { isUsage ? .usage : .badData }
}

/// Supported bit widths: 1…16 (the reference is used with 1…8; beyond 16 the level tables get large).
public let supportedBits: ClosedRange<Int> = 1...16
