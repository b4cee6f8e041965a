import ArgumentParser
import SpiqaQuant

/// The attention-transform flags of spiqa-extract, spiqa-eval and spiqa-quantize, one meaning each (docs/cli.md),
/// with the paper's spellings `-at` and `-aq`:
///
/// - `--threshold` in [0, 1): p > T is kept (1 would zero every probability);
/// - `--bits` a whole number (`3` or `3.0`); alone it selects the paper's quantizer, log-pruned
///   (linear_slog_clamped_midval); `0` without `--method` means off;
/// - `--method` needs `--bits`, except binarization (1 bit);
/// - `--scope` one of batch, example, record; a tool passes its default (spiqa-quantize: example, since a stream
///   has no batches).
///
/// The hidden-state flags are `HiddenStateOptions`. Messages name the flag; the library's do not.
public struct TransformOptions: ParsableArguments {
  @Option(
    name: [.long, .customLong("at", withSingleDash: true)], parsing: .unconditional,
    help: ArgumentHelp("Prune attention: p > T is kept, the rest becomes 0 (0 = off; T < 1).", valueName: "t"))
  public var threshold: Double = 0

  @Option(
    help: ArgumentHelp(
      "Attention quantizer: a reference name or paper alias (log-pruned, linear, boolean, ...); with --bits alone: log-pruned (= linear_slog_clamped_midval).",
      valueName: "name"),
    completion: .list(QuantMethod.completionNames))
  public var method: String?

  @Option(
    name: [.long, .customLong("aq", withSingleDash: true)], parsing: .unconditional,
    help: ArgumentHelp("Quantize attention to B bits (1-16; 3 or 3.0; 0 = off).", valueName: "b"))
  public var bits: String?

  @Option(
    help: ArgumentHelp("Quantizer variant: reference (the paper's code, quirks included) or corrected.", valueName: "variant"),
    completion: .list(QuantVariant.allCases.map(\.rawValue)))
  public var variant: String = "reference"

  @Option(
    help: ArgumentHelp(
      "Statistics scope of data-dependent quantizers (uniform_*, binarization): batch, example or record (default: batch, the reference; spiqa-quantize: example, as a stream has no batches).",
      valueName: "scope"),
    completion: .list(QuantScope.allCases.map(\.rawValue)))
  public var scope: String?

  public init() {}

  public func validate() throws { _ = try transform() }

  /// A whole number of bits given as `3` or `3.0`; nil when the flag is absent.
  /// - Throws: `ValidationError` naming `flag`.
  public static func wholeNumber(_ text: String?, _ flag: String) throws -> Int? {
    guard let text else { return nil }
    guard let d = Double(text), d.isFinite, d == d.rounded(), d >= 0, d <= 1024 else {
      throw ValidationError("\(flag) must be a whole number of bits (3 or 3.0), got '\(text)'")
    }
    return Int(d)
  }

  /// The transform these flags select; `defaultScope` applies when `--scope` is absent.
  /// - Throws: `ValidationError` (exit 64) naming the flag.
  public func transform(defaultScope: QuantScope = .batch) throws -> AttentionTransform {
    guard threshold >= 0, threshold < 1 else { throw ValidationError("--threshold must be in [0, 1), got \(threshold)") }
    guard let v = QuantVariant(rawValue: variant) else {
      throw ValidationError("--variant must be reference or corrected, got '\(variant)'")
    }
    let scopeName = scope ?? defaultScope.rawValue
    guard let sc = QuantScope(rawValue: scopeName) else {
      throw ValidationError("--scope must be batch, example or record, got '\(scopeName)'")
    }
    let b = try Self.wholeNumber(bits, "--bits")
    var m: QuantMethod?
    if let name = method {
      guard let parsed = QuantMethod(name: name) else {
        throw ValidationError("--method: unknown quantizer '\(name)'; expected one of \(QuantMethod.validNames)")
      }
      m = parsed
    } else if let b, b != 0 {
      m = .linearSlogClampedMidval
    }
    var quantizer: AttentionQuantizer?
    if let m {
      guard let b = b ?? (m == .binarization ? 1 : nil) else {
        throw ValidationError("--method \(method ?? m.rawValue) needs --bits B (1-16)")
      }
      do {
        quantizer = try AttentionQuantizer(method: m, bits: b, variant: v)
      } catch let e as QuantError {
        throw ValidationError("--bits: \(e.description)")
      }
    }
    return AttentionTransform(threshold: threshold, quantizer: quantizer, scope: sc)
  }
}
