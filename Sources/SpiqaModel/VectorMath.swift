import RealModule

/// Branch-free `exp` and `erf` for the softmax and GELU, written as scalar code that LLVM vectorises in loops
/// (explicit `SIMD8` was slower here on the default x86-64 target, and very slow in debug builds).
///
/// `exp`: Cephes-style range reduction x = n·ln2 + r, degree-6 polynomial on r, 2ⁿ from the exponent bits;
/// relative error ≤ 2 ulp on [-87.3, 88.3] (measured ≤ 1.2e-7 against glibc `expf`); below that 0, above that
/// clamped (never reached by a softmax, whose arguments are ≤ 0).
/// `erf`: Abramowitz–Stegun 7.1.28 (see `erf`).
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

  /// Abramowitz–Stegun 7.1.28: erf(a) = 1 − (1 + a₁a + … + a₆a⁶)⁻¹⁶ (|error| ≤ 3e-7), odd extension; one
  /// division and no `exp`, about twice as fast as 7.1.26 here. Measured on GELU over [−8, 8] against a double
  /// reference: max abs error 8.7e-7 (7.1.26 with `exp`: 4.7e-7).
  @inline(__always)
  static func erf(_ x: Float) -> Float {
    let a0 = x < 0 ? -x : x
    let a = a0 > 6 ? 6 : a0  // erf(6) = 1 in f32; keeps the 16th power finite
    var p: Float = 0.0000430638
    p = p * a + 0.0002765672
    p = p * a + 0.0001520143
    p = p * a + 0.0092705272
    p = p * a + 0.0422820123
    p = p * a + 0.0705230784
    p = p * a + 1
    var q = p * p
    q = q * q
    q = q * q
    q = q * q
    let r = 1 - 1 / q
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

  /// Largest of `s[0..<n]` (−inf when empty). Eight independent running maxima: a single one is a chain of
  /// dependent `maxss` (4 cycles each) that LLVM cannot vectorise without fast-math.
  static func maximum(_ s: UnsafePointer<Float>, n: Int) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    var j = 0
    while j + 8 <= n {
      m0 = s[j] > m0 ? s[j] : m0
      m1 = s[j + 1] > m1 ? s[j + 1] : m1
      m2 = s[j + 2] > m2 ? s[j + 2] : m2
      m3 = s[j + 3] > m3 ? s[j + 3] : m3
      m4 = s[j + 4] > m4 ? s[j + 4] : m4
      m5 = s[j + 5] > m5 ? s[j + 5] : m5
      m6 = s[j + 6] > m6 ? s[j + 6] : m6
      m7 = s[j + 7] > m7 ? s[j + 7] : m7
      j += 8
    }
    while j < n {
      m0 = s[j] > m0 ? s[j] : m0
      j += 1
    }
    let a = max(max(m0, m1), max(m2, m3)), b = max(max(m4, m5), max(m6, m7))
    return max(a, b)
  }
}
