/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", 2014): the small
/// deterministic generator behind random weights, benchmark data and test inputs.
///
/// The same seed gives the same sequence on every machine, so fixtures written from it stay valid.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  /// The counter; advanced by the golden-ratio increment on every `next()`.
  public var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return Self.mix(state)
  }

  /// The output function: a bijective mix of 64 bits (a hash of `x`, for counter-based streams).
  public static func mix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in (0, 1): the top 24 bits, centred in their interval (never 0, so `log` is finite).
  public mutating func nextUniform() -> Float { (Float(next() >> 40) + 0.5) / Float(1 << 24) }
}
