import ArgumentParser
import SpiqaQuant

/// The hidden-state flags of spiqa-extract and spiqa-eval (the paper's `-ht`, `-hq`): `--hs-threshold` ≥ 0,
/// `--hs-bits` a whole number, 0 (off) or 7–64 (1 sign + 5 integer bits + at least 1 fraction bit).
public struct HiddenStateOptions: ParsableArguments {
  @Option(
    name: [.customLong("hs-threshold"), .customLong("ht", withSingleDash: true)], parsing: .unconditional,
    help: ArgumentHelp("Hidden-state threshold on each layer's output: |h| <= T becomes 0 (0 = off).", valueName: "t"))
  public var hsThreshold: Double = 0

  @Option(
    name: [.customLong("hs-bits"), .customLong("hq", withSingleDash: true)], parsing: .unconditional,
    help: ArgumentHelp("Fixed-point hidden-state bits on each layer's input (7-64; 8 or 8.0; 0 = off).", valueName: "b"))
  public var hsBits: String?

  public init() {}

  public func validate() throws {
    var t = AttentionTransform()
    try apply(to: &t)
  }

  /// Sets the hidden-state fields of `transform`.
  /// - Throws: `ValidationError` (exit 64) naming the flag.
  public func apply(to transform: inout AttentionTransform) throws {
    guard hsThreshold >= 0, hsThreshold.isFinite else {
      throw ValidationError("--hs-threshold must be ≥ 0, got \(hsThreshold)")
    }
    let bits = try TransformOptions.wholeNumber(hsBits, "--hs-bits") ?? 0
    guard bits == 0 || (bits >= 7 && bits <= 64) else {
      throw ValidationError("--hs-bits must be 0 (off) or 7-64, got \(bits)")
    }
    transform.hsThreshold = hsThreshold
    transform.hsBits = bits
  }
}
