#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hidden-state quantizers of the reference (§2.13, `BertLayer.quantize_hstates_*`), in float32 like PyTorch.
public enum HiddenStateQuantizer {
  /// `quantize_hstates_fixed` (the one wired in at L761): sign–magnitude fixed point with `intBits` integer bits,
  /// `bits - 1 - intBits` fraction bits (round half up), integer part clamped to 2^intBits (⚠ needs one more bit).
  /// - Throws: `QuantError` (usage) unless `bits - 1 > intBits` (the reference raises ValueError).
  public static func fixed(_ x: UnsafeMutableBufferPointer<Float>, bits: Int, intBits: Int = 5) throws {
    guard bits - 1 > intBits, bits <= 64 else {
      throw QuantError("fixed hidden-state quantization needs bits - 1 > \(intBits) (bits >= \(intBits + 2)), got \(bits)", isUsage: true)
    }
    let minFrac = Float(pow(2.0, -Double(bits - 1 - intBits)))   // exact power of two
    let cap = Float(1 << intBits)
    for i in x.indices {
      let v = x[i]
      let sign: Float = v < 0 ? -1 : 1
      let a = abs(v)
      var ip = floorF(a)
      var frac = a - ip
      frac = floorF(frac / minFrac + 0.5) * minFrac
      if ip > cap { ip = cap }
      x[i] = (ip + frac) * sign
    }
  }

  /// `quantize_hstates_linear` (unused by the reference): grid of step 40/2^bits over [-15, 25), round half up,
  /// no clamping.
  public static func linear(_ x: UnsafeMutableBufferPointer<Float>, bits: Int) throws {
    guard bits >= 1, bits <= 30 else { throw QuantError("bits must be in 1…30, got \(bits)", isUsage: true) }
    let step = Float(40.0 / pow(2.0, Double(bits)))
    for i in x.indices {
      var t = x[i] + 15
      t = t / step
      t = floorF(t + 0.5) * step
      x[i] = t - 15
    }
  }

  /// `quantize_hstates_log` (unused by the reference): sign plus (bits-1)-bit exponent, step 9/(2^(bits-1)-1),
  /// exponent rounded half up, `e <= -5` gives 0, `e > 4` is capped at 4; exact zeros are treated as 1e-10.
  public static func log(_ x: UnsafeMutableBufferPointer<Float>, bits: Int) throws {
    guard bits >= 2, bits <= 30 else { throw QuantError("log hidden-state quantization needs bits in 2…30, got \(bits)", isUsage: true) }
    let step = Float((4.0 - -5.0) / (pow(2.0, Double(bits - 1)) - 1.0))
    let tiny = Float(1e-10)
    for i in x.indices {
      let v = x[i]
      let sign: Float = v < 0 ? -1 : 1
      var a = abs(v)
      if v == 0 { a = tiny }
      var e = floorF(log2F(a) / step + 0.5) * step
      if e <= -5 { e = -.infinity } else if e > 4 { e = 4 }
      x[i] = pow2F(e) * sign
    }
  }
}
