import COpenBLAS

/// Thin wrappers over OpenBLAS `cblas_sgemm` (row-major) and its thread count.
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
  static func linear(
    x: UnsafePointer<Float>, rows: Int, weight: Weight, bias: Weight?, y: UnsafeMutablePointer<Float>
  ) {
    let out = weight.shape[0], inp = weight.shape[1]
    var beta: Float = 0
    if let bias {
      for r in 0..<rows { (y + r * out).update(from: bias.pointer, count: out) }
      beta = 1
    }
    gemmNT(m: rows, n: out, k: inp, a: x, lda: inp, b: weight.pointer, ldb: inp, c: y, ldc: out, beta: beta)
  }

  /// OpenBLAS worker threads (process-wide).
  static var threads: Int {
    get { OpenBLASRuntime.threads }
    set { OpenBLASRuntime.threads = newValue }
  }
}
