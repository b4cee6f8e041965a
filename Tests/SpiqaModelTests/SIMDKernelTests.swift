import CCPU
import CModelKernels
import Testing

import SpiqaCore
@testable import SpiqaModel
import SpiqaTestSupport

/// The CModelKernels kernels at every ISA level this CPU has, against the Swift reference (`VectorMath`, `Kernels`):
/// bit-identical except where a sum is reassociated (softmax denominator, LayerNorm mean and variance).
/// Serialized: the tests switch the process-wide ISA level.
@Suite("SIMD kernels", .serialized)
struct SIMDKernelTests {
  /// Odd lengths around the 8- and 16-lane widths, and the model's own.
  static let lengths = [1, 7, 15, 16, 17, 33, 384, 385]

  /// Values that hit the clamps and special cases of exp and erf.
  static let extremes: [Float] = [
    0, -0.0, 1, -1, 5.99, 6, 6.01, -6, 7, -7, 20, -20, 87, 88.3, 88.38, 88.4, 100, -87.3, -87.34, -87.4, -100,
    -1e4, 1e4, 1e30, -1e30, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
    .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-20, -1e-20,
  ]

  /// `count` values: mostly normal with standard deviation `scale`, every 5th one from `extremes` (if given).
  func values(_ count: Int, scale: Float, rng: inout SplitMix64, extremes: [Float] = []) -> [Float] {
    (0..<count).map { i in
      if !extremes.isEmpty, i % 5 == 2 { return extremes[Int(rng.next() % UInt64(extremes.count))] }
      return rng.nextNormal() * scale
    }
  }

  /// Equal bits, or both NaN.
  func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

  @Test("set_isa accepts the levels the CPU has and refuses the others")
  func isaSelection() {
    let best = spiqa_kernels_best_isa()
    #expect(best >= Int32(SPIQA_ISA_PORTABLE) && best <= Int32(SPIQA_ISA_AVX512))
    #expect(spiqa_kernels_set_isa(-1) == -1)
    #expect(spiqa_kernels_set_isa(best + 1) == -1)
    #expect(spiqa_kernels_isa() == best, "a refused level leaves the current one")
    #if arch(x86_64)
      print("CCPU: best ISA level \(best) (0 portable, 1 AVX2+FMA, 2 AVX-512F)")
    #else
      #expect(best == Int32(SPIQA_ISA_PORTABLE))
    #endif
  }

  @Test("exp is bit-identical to VectorMath.exp")
  func expMatches() throws {
    var rng = SplitMix64(seed: 11)
    try forEachISA { isa in
      for n in Self.lengths + [Self.extremes.count] {
        let x = n == Self.extremes.count ? Self.extremes : values(n, scale: 40, rng: &rng, extremes: Self.extremes)
        var y = x
        spiqa_exp_inplace(&y, n)
        for j in 0..<n where !same(y[j], VectorMath.exp(x[j])) {
          Issue.record("isa \(isa) n \(n): exp(\(x[j])) = \(y[j]), Swift \(VectorMath.exp(x[j]))")
          break
        }
      }
    }
  }

  @Test("bias + erf GELU is bit-identical to VectorMath.biasGELU")
  func gelu() throws {
    var rng = SplitMix64(seed: 12)
    try forEachISA { isa in
      for (n, rows) in (Self.lengths + [1536]).flatMap({ n in [(n, 1), (n, 3)] }) {
        let x = values(rows * n, scale: 3, rng: &rng, extremes: Self.extremes)
        let bias = values(n, scale: 0.5, rng: &rng)
        var mine = x, ref = x
        spiqa_bias_gelu_rows(&mine, bias, rows, n)
        ref.withUnsafeMutableBufferPointer { r in
          for row in 0..<rows { VectorMath.biasGELU(r.baseAddress! + row * n, bias: bias, n: n) }
        }
        // Through the Kernels entry point as well.
        var viaKernels = x
        Kernels.biasActivation(&viaKernels, bias: bias, rows: 0..<rows, n: n, act: .gelu)
        if let j = (0..<(rows * n)).first(where: { !same(mine[$0], ref[$0]) || !same(viaKernels[$0], ref[$0]) }) {
          Issue.record("isa \(isa) n \(n) rows \(rows): gelu(\(x[j]) + bias) = \(mine[j]), Swift \(ref[j])")
        }
      }
    }
  }

  /// Checks one block of softmax rows against `Kernels.maskedSoftmaxRow`: padded columns exactly 0, real ones
  /// within 2e-6 relative (the denominator's summation order differs), and bit-identical when `exact`.
  func checkSoftmax(
    _ scores: [Float], rows: Int, stride: Int, t: Int, valid: Int, maskValue: Float, exact: Bool, isa: Int32
  ) {
    var mine = scores, ref = scores
    mine.withUnsafeMutableBufferPointer { p in
      Kernels.maskedSoftmaxRows(p.baseAddress!, rows: rows, stride: stride, t: t, valid: valid, maskValue: maskValue)
    }
    ref.withUnsafeMutableBufferPointer { p in
      for r in 0..<rows { Kernels.maskedSoftmaxRow(p.baseAddress! + r * stride, t: t, valid: valid, maskValue: maskValue) }
    }
    let context = "isa \(isa) t \(t) valid \(valid) mask \(maskValue)"
    for r in 0..<rows {
      for c in 0..<stride {
        let i = r * stride + c, a = mine[i], b = ref[i]
        if c >= t {
          #expect(a.bitPattern == scores[i].bitPattern, "\(context): column \(c) past t was written")
        } else if c >= valid {
          #expect(a.bitPattern == Float(0).bitPattern, "\(context): padded column \(c) = \(a)")
        } else if exact {
          #expect(a.bitPattern == b.bitPattern, "\(context): row \(r) column \(c): \(a) vs Swift \(b)")
        } else if !(abs(a - b) <= 2e-6 * b + Float.leastNormalMagnitude) {
          Issue.record("\(context): row \(r) column \(c): \(a) vs Swift \(b)")
          return
        }
      }
    }
  }

  @Test("masked softmax rows match Kernels.maskedSoftmaxRow (valid < t, row stride, extremes)")
  func softmax() throws {
    var rng = SplitMix64(seed: 13)
    try forEachISA { isa in
      for t in Self.lengths {
        for valid in Set([1, max(1, t / 2), max(1, t - 1), t]).sorted() {
          for maskValue in [Float(-10000), -.greatestFiniteMagnitude] {
            let rows = 3, stride = t + 3  // a stride that is not the row length catches stray writes
            for scale: Float in [1, 30] {
              let s = values(rows * stride, scale: scale, rng: &rng)
              checkSoftmax(s, rows: rows, stride: stride, t: t, valid: valid, maskValue: maskValue, exact: false, isa: isa)
            }
            // One real column: the denominator is exactly 1 in any order, so the bits must agree.
            if valid == 1 {
              let s = values(rows * stride, scale: 5, rng: &rng)
              checkSoftmax(s, rows: rows, stride: stride, t: t, valid: 1, maskValue: maskValue, exact: true, isa: isa)
            }
          }
        }
        // Large, tiny and infinite scores (finite max): no NaN, same result.
        var s = values(2 * t, scale: 1, rng: &rng)
        for i in Swift.stride(from: 1, to: s.count, by: 3) {
          s[i] = [-Float.infinity, -1e30, 1e4, -87.4, 88.4][i % 5]
        }
        checkSoftmax(s, rows: 2, stride: t, t: t, valid: t, maskValue: -10000, exact: false, isa: isa)
      }
    }
  }

  @Test("addLayerNorm matches the Swift reference (with and without bias/residual, aliased output)")
  func layerNorm() throws {
    var rng = SplitMix64(seed: 14)
    try forEachISA { isa in
      for n in Self.lengths + [1536] {
        let rows = 3
        let gamma = values(n, scale: 1, rng: &rng), beta = values(n, scale: 1, rng: &rng)
        let bias = values(n, scale: 1, rng: &rng)
        for (withBias, withResidual) in [(true, true), (false, false), (true, false)] {
          // Integer inputs and n = 16: every sum is exact, so the output must be bit-identical too.
          let integers = n == 16
          let x0 = integers ? (0..<(rows * n)).map { _ in Float(Int(rng.next() % 17) - 8) }
            : values(rows * n, scale: 2, rng: &rng).map { $0 + 3 }
          let res0 = integers ? (0..<(rows * n)).map { _ in Float(Int(rng.next() % 9) - 4) }
            : values(rows * n, scale: 1, rng: &rng)
          let b = integers ? [Float](repeating: 2, count: n) : bias
          var x = x0, out = [Float](repeating: 0, count: rows * n), res = res0
          var xRef = x0, outRef = out
          b.withUnsafeBufferPointer { bp in
            res0.withUnsafeBufferPointer { rp in
              let bias = withBias ? bp.baseAddress : nil, residual = withResidual ? rp.baseAddress : nil
              Kernels.addLayerNorm(x: &x, bias: bias, residual: residual, out: &out, rows: 0..<rows, n: n,
                                   gamma: gamma, beta: beta, eps: 1e-12)
              Kernels.addLayerNormReference(x: &xRef, bias: bias, residual: residual, out: &outRef, rows: 0..<rows,
                                            n: n, gamma: gamma, beta: beta, eps: 1e-12)
            }
          }
          let context = "isa \(isa) n \(n) bias \(withBias) residual \(withResidual)"
          #expect(x.map(\.bitPattern) == xRef.map(\.bitPattern), "\(context): the sums written to x differ")
          for j in 0..<(rows * n) {
            let ok = integers ? out[j].bitPattern == outRef[j].bitPattern : abs(out[j] - outRef[j]) <= 2e-5
            if !ok {
              Issue.record("\(context): out[\(j)] = \(out[j]), Swift \(outRef[j])")
              break
            }
          }
          // Output aliasing the residual (the encoder's layout), on rows 1..<3 only.
          if withResidual {
            var x2 = x0
            b.withUnsafeBufferPointer { bp in
              res.withUnsafeMutableBufferPointer { r in
                Kernels.addLayerNorm(x: &x2, bias: withBias ? bp.baseAddress : nil, residual: r.baseAddress!,
                                     out: r.baseAddress!, rows: 1..<rows, n: n, gamma: gamma, beta: beta, eps: 1e-12)
              }
            }
            #expect(res[0..<n] == res0[0..<n], "\(context): row 0 is outside the range")
            #expect(res[n...].map(\.bitPattern) == out[n...].map(\.bitPattern), "\(context): aliased output")
          }
        }
      }
    }
  }
}
