import CStatKernels

/// Per-row and per-block float64 sums and row extrema, in the orders the statistics define.
extension BlockWorker {
  /// Minimum and maximum of a row as the sequential `v < mn ? v : mn` loop gives them. Without slow values (no
  /// NaN, no -0.0, nothing negative) equal values are bit-identical, so eight lanes give the same answer.
  @inline(__always)
  static func rowMinMax(_ row: UnsafePointer<Float>, n: Int, slow: Bool) -> (Float, Float) {
    var mn = Float.infinity
    var mx = -Float.infinity
    var i = 0
    if !slow {
      var mn8 = SIMD8<Float>(repeating: .infinity)
      var mx8 = SIMD8<Float>(repeating: -.infinity)
      let raw = UnsafeRawPointer(row)
      while i + 8 <= n {
        let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        mn8.replace(with: v, where: v .< mn8)  // (pointwiseMin is not inlined: 10× slower)
        mx8.replace(with: v, where: v .> mx8)
        i += 8
      }
      mn = mn8.min()
      mx = mx8.max()
    }
    while i < n {
      let v = row[i]
      mn = v < mn ? v : mn
      mx = v > mx ? v : mx
      i += 1
    }
    return (mn, mx)
  }

  /// Row sums `[rows]` of `rows` consecutive rows of `n` starting at `x`, one float64 chain per row — or, with
  /// `pairs`, two chains per row (even and odd positions, added at the end), the two orders the statistics define.
  /// `spiqa_row_sums_f64` (CStatKernels) runs 16 rows' chains side by side, one per vector lane, so their addition
  /// latencies overlap; the sums are those of the plain loops.
  static func rowSums(
    _ x: UnsafePointer<Float>, n: Int, rows: Int, pairs: Bool, into out: UnsafeMutablePointer<Double>
  ) {
    spiqa_row_sums_f64(x, n, rows, pairs ? 1 : 0, out)
  }

  /// Σ (Double(v) − mean)² over each block, in element order (the same float64 rounding as one loop per block);
  /// `spiqa_squared_deviations_f64` runs up to eight blocks side by side. `blocks` and `means` have the same count.
  static func squaredDeviations(_ blocks: [UnsafePointer<Float>], count: Int, means: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: blocks.count)
    blocks.map { Optional($0) }.withUnsafeBufferPointer { b in
      spiqa_squared_deviations_f64(b.baseAddress, means, blocks.count, count, &out)
    }
    return out
  }
}
