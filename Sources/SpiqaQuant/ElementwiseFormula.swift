#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// floor() for Float, exact, without SSE4.1 or a libm call on |v| < 2^23: truncate, step down when the
/// truncation rose, and keep the sign of a zero result (floor(-0.0) = -0.0). Larger magnitudes, infinities and
/// NaN take `rounded(.down)`.
@inline(__always)
func floorF(_ v: Float) -> Float {
  if v > -8_388_608 && v < 8_388_608 {
    let t = Float(Int32(v))
    let r = t - (t > v ? 1 : 0)
    return r == 0 ? v * 0 : r
  }
  return v.rounded(.down)
}

/// log2 of a Float, correctly rounded to float32 (via float64). PyTorch's CPU `log2` gives these values at every
/// bin edge of the tests; glibc's `log2f` does not (it is off by 1 ulp at e.g. 0.0039275144, which moves a
/// linear_slog b=8 edge by one input). The fast path never calls this on [0, 1).
@inline(__always)
func log2F(_ x: Float) -> Float { Float(log2(Double(x))) }

/// `torch.pow(2.0, r)` for a float32 exponent: correctly rounded 2^r (PyTorch's pow may differ by ≤1 ulp).
@inline(__always)
func pow2F(_ r: Float) -> Float { Float(exp2(Double(r))) }

/// The float32 constants of one element-wise method, computed exactly as the reference's Python float64
/// expressions and then cast to float32 where they meet the tensor.
///
/// Each `formula` reproduces the reference's sequence of float32 tensor operations, one rounding per operation.
struct ElementwiseFormula: Sendable {
  let method: QuantMethod
  let bits: Int
  let corrected: Bool
  /// Bin width (log2 width for log methods) as float32.
  let base: Float
  /// Mid-point offset (`offset_val`) as float32; 0.5 for the closest-edge methods.
  let offset: Float
  /// `min_val` or `min_exp` as float32, depending on the method.
  let minVal: Float
  /// The zeroing threshold as float32 (`cutpoints[1]` etc.); meaning depends on the method.
  let zeroBelow: Float
  /// linear_slog_clamped_midval: the value replacing outputs > 1 (HEAD's clamp).
  let top: Float
  /// Largest bin index kept by the corrected variant (n-1).
  let maxK: Float

  init(method: QuantMethod, bits: Int, corrected: Bool) {
    self.method = method
    self.bits = bits
    self.corrected = corrected
    let n = Double(1 << bits)
    let m = 1e-3
    var base = 0.0, offset = 0.5, minVal = 0.0, zero = 0.0, top = 0.0
    switch method {
    case .linearSlinear:
      base = 1.0 / (n - 1)
    case .linearSlinearMidval:
      base = 1.0 / n
      offset = (0.0 + base) / 2.0
      zero = base                                  // cutpoints[1]
    case .linearSlinearClamped:
      base = (1.0 - m) / (n - 1)
      minVal = m
      zero = base * 0.5 + m                        // actual_thres (att <= it -> 0)
    case .linearSlinearClampedMidval:
      base = (1.0 - m) / n
      offset = (0.0 + base) / 2
      minVal = m
      zero = base + m                              // cutpoints[1] + min_val
    case .linearSlog:
      let minExp = log2(m)
      base = minExp / (n - 1)                      // step (negative)
      minVal = minExp
      zero = minExp - base                         // exp < min_exp - step -> -inf
    case .linearSlogMidval:
      let minExp = log2(1e-10)
      base = (0 - minExp) / n
      offset = ((2 * base) - (1 * base)) / 2.0     // (cutpoints[2] - cutpoints[1]) / 2
      minVal = minExp
      zero = pow(2.0, minExp + base)               // 2**(min_exp + cutpoints[1])
    case .linearSlogClampedMidval:
      let minExp = log2(m)
      base = (0 - minExp) / (n - 1)
      offset = (0.0 + base) / 2.0
      minVal = minExp
      zero = m
      top = pow(2.0, base * Double(Int(n) - 2) + offset + minExp)
    default:
      break
    }
    self.base = Float(base)
    self.offset = Float(offset)
    self.minVal = Float(minVal)
    self.zeroBelow = Float(zero)
    self.top = Float(top)
    self.maxK = Float(n - 1)
  }

  /// The reference expression for one element, in float32.
  @inline(__always)
  func callAsFunction(_ x: Float) -> Float {
    switch method {
    case .linearSlinear:
      // floor(att / base + 0.5) * base
      let r = floorF(x / base + 0.5) * base
      return corrected && r > 1 ? 1 : r
    case .linearSlinearMidval:
      // floor(att / base) * base + offset_val; res[att < cutpoints[1]] = 0
      var k = floorF(x / base)
      if corrected && k > maxK { k = maxK }
      let r = k * base + offset
      return x < zeroBelow ? 0 : r
    case .linearSlinearClamped:
      // floor((att - min_val) / base + 0.5) * base + min_val; res[att <= actual_thres] = 0
      // float32 makes the top grid point m + (n-1)·base round to 1.0000001 for some b; corrected: 1.0
      var r = floorF((x - minVal) / base + 0.5) * base + minVal
      if corrected && r > 1 { r = 1 }
      return x <= zeroBelow ? 0 : r
    case .linearSlinearClampedMidval:
      // floor((att - min_val) / base) * base + offset_val + min_val; res[att < cutpoints[1] + min_val] = 0
      var k = floorF((x - minVal) / base)
      if corrected && k > maxK { k = maxK }
      let r = k * base + offset + minVal
      return x < zeroBelow ? 0 : r
    case .linearSlog:
      // exp = log2(att); ce = floor(exp / step + 0.5) * step; ce[exp < min_exp - step] = -inf; 2**ce
      let e = log2F(x)
      if e < zeroBelow { return 0 }
      return pow2F(floorF(e / base + 0.5) * base)
    case .linearSlogMidval:
      // r = floor((log2(att) - min_exp) / base) * base + offset_val + min_exp; r[att < 2**(min_exp+base)] = -inf
      if x < zeroBelow { return 0 }
      var k = floorF((log2F(x) - minVal) / base)
      if corrected && k > maxK { k = maxK }
      return pow2F(k * base + offset + minVal)
    case .linearSlogClampedMidval:
      // r = floor((log2(att) - min_exp) / base) * base + offset_val + min_exp; r[att < 1e-3] = -inf;
      // res = 2**r; res[res > 1] = 2**(base*(n-2) + offset_val + min_exp)
      if x < zeroBelow { return 0 }
      var k = floorF((log2F(x) - minVal) / base)
      // corrected: fold the att≈1 bin into bin n-2 through the same float32 path, so the fold gives exactly the
      // regular top level (HEAD's float64 `top` can differ from it by 1 ulp, making n+1 distinct values).
      if corrected && k > maxK - 1 { k = maxK - 1 }
      let r = pow2F(k * base + offset + minVal)
      return r > 1 ? top : r
    default:
      return x
    }
  }
}
