import RealModule

/// Branch-free `exp` and `erf` for the softmax and GELU, written as scalar code that LLVM vectorises in loops
/// (explicit `SIMD8` was slower here on the default x86-64 target, and very slow in debug builds).
///
/// `exp`: Cephes-style range reduction x = n·ln2 + r, degree-6 polynomial on r, 2ⁿ from the exponent bits;
/// relative error ≤ 2 ulp on [-87.3, 88.3] (measured ≤ 1.2e-7 against glibc `expf`); below that 0, above that
/// clamped (never reached by a softmax, whose arguments are ≤ 0).
/// `erf`: Abramowitz–Stegun 7.1.26 (the formula of PyTorch's vectorised CPU `erf`), |error| ≤ 1.5e-7 + rounding
/// (measured ≤ 4.8e-7 on GELU outputs against glibc `erff`).
enum VectorMath {
  @inline(__always)
  static func exp(_ x0: Float) -> Float {
    let lo: Float = -87.3365447504019, hi: Float = 88.3762626647949
    var x = x0 < lo ? lo : (x0 > hi ? hi : x0)
    // Adding 1.5·2²³ rounds x·log2(e) to the nearest integer n and leaves n in the low mantissa bits of k:
    // no float→int conversion (whose range check would stop vectorisation), no SSE4.1 roundps needed.
    let k = x * 1.44269504088896341 + 12582912
    let n = k - 12582912
    x = x - n * 0.693359375
    x = x + n * 2.12194440e-4
    let x2 = x * x
    var p: Float = 1.9875691500e-4
    p = p * x + 1.3981999507e-3
    p = p * x + 8.3334519073e-3
    p = p * x + 4.1665795894e-2
    p = p * x + 1.6666665459e-1
    p = p * x + 5.0000001201e-1
    p = p * x2 + x + 1
    let scale = Float(bitPattern: (k.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)  // 2ⁿ
    return x0 < lo ? 0 : p * scale
  }

  @inline(__always)
  static func erf(_ x: Float) -> Float {
    let a = x < 0 ? -x : x
    let t = 1 / (a * 0.3275911 + 1)
    var poly: Float = 1.061405429
    poly = poly * t - 1.453152027
    poly = poly * t + 1.421413741
    poly = poly * t - 0.284496736
    poly = poly * t + 0.254829592
    let r = 1 - poly * t * exp(-(a * a))
    return x < 0 ? -r : r
  }

  /// `x[j] = v·½·(1 + erf(v/√2))` with `v = x[j] + bias[j]`, over `n` floats (exact-erf GELU).
  static func biasGELU(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, n: Int) {
    for j in 0..<n {
      let v = x[j] + bias[j]
      x[j] = v * 0.5 * (1 + erf(v * 0.70710678118654752))
    }
  }

  /// `s[c] = exp(s[c] - m)` for `c < n`; returns their sum.
  static func expSubtract(_ s: UnsafeMutablePointer<Float>, n: Int, max m: Float) -> Float {
    for j in 0..<n { s[j] = exp(s[j] - m) }
    var sum: Float = 0
    for j in 0..<n { sum = Relaxed.sum(sum, s[j]) }
    return sum
  }

  /// Largest of `s[0..<n]` (−inf when empty).
  static func maximum(_ s: UnsafePointer<Float>, n: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<n { m = s[j] > m ? s[j] : m }
    return m
  }
}
