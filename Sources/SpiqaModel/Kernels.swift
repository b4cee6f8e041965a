import CModelKernels
import RealModule

/// Element-wise and row-wise kernels of the forward pass (LayerNorm, activations, softmax); `Parallel.ranges`
/// (SpiqaCore) runs them on every core.
///
/// The hot ones (`addLayerNorm`, exact-erf GELU, `maskedSoftmaxRows`) run in `CModelKernels` (AVX-512 / AVX2 /
/// portable C, picked at run time). The Swift `…Reference` / `maskedSoftmaxRow` / `VectorMath` versions are the
/// definition they are tested against: same bits, except for the reassociated sums (softmax denominator,
/// LayerNorm mean and variance).
enum Kernels {
  /// `out[r] = LayerNorm(x[r] + bias + residual[r]) · gamma + beta` for rows `rows`, each of `n` floats
  /// (`x`, `residual`, `out`: `[rows, n]`; `bias`, `gamma`, `beta`: `[n]`).
  /// `x` is overwritten with the sum; `out` may alias `x` or `residual`. Biased variance, two passes.
  static func addLayerNorm(
    x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
    out: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
  ) {
    guard !rows.isEmpty else { return }
    let first = rows.lowerBound * n
    spiqa_add_layer_norm_rows(x + first, bias, residual.map { $0 + first }, out + first, rows.count, n, gamma, beta, eps)
  }

  /// The Swift definition of `addLayerNorm` (reference for the C kernel's tests).
  static func addLayerNormReference(
    x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
    out: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int,
    gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
  ) {
    for r in rows {
      let xr = x + r * n, or = out + r * n
      if let bias { for j in 0..<n { xr[j] += bias[j] } }
      if let residual {
        let rr = residual + r * n
        for j in 0..<n { xr[j] += rr[j] }
      }
      var sum: Float = 0
      for j in 0..<n { sum = Relaxed.sum(sum, xr[j]) }
      let mean = sum / Float(n)
      var sq: Float = 0
      for j in 0..<n {
        let d = xr[j] - mean
        sq = Relaxed.multiplyAdd(d, d, sq)
      }
      let rstd = 1 / (sq / Float(n) + eps).squareRoot()
      for j in 0..<n { or[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j] }
    }
  }

  /// `x[r] = act(x[r] + bias)` for rows `rows` of `n` floats.
  static func biasActivation(
    _ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Range<Int>, n: Int, act: HiddenActivation
  ) {
    switch act {
    case .gelu:
      // Same bits as `VectorMath.biasGELU` per row, in CModelKernels.
      if !rows.isEmpty { spiqa_bias_gelu_rows(x + rows.lowerBound * n, bias, rows.count, n) }
    case .geluTanh:
      for r in rows {
        let xr = x + r * n
        for j in 0..<n {
          let v = xr[j] + bias[j]
          xr[j] = 0.5 * v * (1 + Float.tanh(0.79788456080286536 * (v + 0.044715 * v * v * v)))
        }
      }
    case .relu:
      for r in rows {
        let xr = x + r * n
        for j in 0..<n { xr[j] = max(0, xr[j] + bias[j]) }
      }
    }
  }

  /// `maskedSoftmaxRow` on `rows` rows of `t` columns, row `r` at `s + r·stride`, in CModelKernels. Same bits as the
  /// Swift row except for the summation order of the denominator. Needs `1 <= valid <= t`.
  @inline(__always)
  static func maskedSoftmaxRows(
    _ s: UnsafeMutablePointer<Float>, rows: Int, stride: Int, t: Int, valid: Int, maskValue: Float
  ) {
    spiqa_masked_softmax_rows(s, rows, stride, t, valid, maskValue)
  }

  /// In-place masked softmax of one score row of `t` columns, the reference way:
  /// `s[c] += maskValue` for `c >= valid`, softmax over all `t`, then `p[c] = 0` for `c >= valid`.
  static func maskedSoftmaxRow(_ s: UnsafeMutablePointer<Float>, t: Int, valid: Int, maskValue: Float) {
    for c in valid..<t { s[c] += maskValue }
    let m = VectorMath.maximum(s, n: t)
    let sum = VectorMath.expSubtract(s, n: t, max: m)
    let inv = 1 / sum
    for c in 0..<valid { s[c] *= inv }
    for c in valid..<t { s[c] = 0 }
  }
}

