import COpenBLAS
import SpiqaCore

/// Thin wrappers over OpenBLAS `cblas_sgemm` (row-major). OpenBLAS runs at one thread (`OpenBLASRuntime`); the
/// parallelism is ours.
enum BLAS {
  /// `C[m, n] = alpha · A[m, k] · B[n, k]ᵀ + beta · C` — a PyTorch `Linear` with weight B = [out, in].
  @inline(__always)
  static func gemmNT(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0
  ) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// `C[m, n] = alpha · A[m, k] · B[k, n] + beta · C`.
  @inline(__always)
  static func gemmNN(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0
  ) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda),
                b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// `y[rows, out] = x[rows, in] · Wᵀ + bias` (bias broadcast over rows first, then GEMM with beta = 1).
  ///
  /// With `threads > 1` the product is split into `threads` independent single-threaded GEMMs (by rows when
  /// there are more rows than outputs, else by output columns) run on `Parallel.ranges` workers.
  static func linear(
    x: UnsafePointer<Float>, rows: Int, weight: Weight, bias: Weight?, y: UnsafeMutablePointer<Float>,
    threads: Int = 1
  ) {
    let out = weight.shape[0], inp = weight.shape[1]
    // Each part packs its share of one operand and all of the other: split the bigger one
    // (rows of x when rows > out, else rows of W, i.e. output columns).
    let byRows = rows > out
    let parts = threads > 1 && (byRows || out >= 32 * threads) ? threads : 1
    Parallel.ranges(parts, threads: parts) { range in
      for part in range {
        // rows [r0, r1) × columns [c0, c1) of y
        let (r0, r1) = byRows ? (rows * part / parts, rows * (part + 1) / parts) : (0, rows)
        let (c0, c1) = byRows ? (0, out) : (out * part / parts / 16 * 16, part == parts - 1 ? out : out * (part + 1) / parts / 16 * 16)
        guard r1 > r0, c1 > c0 else { continue }
        var beta: Float = 0
        if let bias {
          for r in r0..<r1 { (y + r * out + c0).update(from: bias.pointer + c0, count: c1 - c0) }
          beta = 1
        }
        gemmNT(m: r1 - r0, n: c1 - c0, k: inp, a: x + r0 * inp, lda: inp, b: weight.pointer + c0 * inp, ldb: inp,
               c: y + r0 * out + c0, ldc: out, beta: beta)
      }
    }
  }
}
