import CQuantKernels

/// A data-dependent quantizer in three phases, for a scope whose values sit in separate blocks (the forward pass's
/// per-head attention blocks): each block's statistics keys are collected where the block is (in cache, on any
/// thread), the statistics are taken over the scope's keys, and the resulting cascade is applied block by block.
/// Same statistics and outputs as `apply` over the whole scope. Only for the clamped methods, whose statistics
/// ignore values ≤ 1e-3, so the order of the blocks and the zeros of padding do not matter.
extension AttentionQuantizer {
  /// True for uniform_slinear_clamped_mean and uniform_slog_clamped_mean (the methods of the three-phase form).
  public var quantizesBlockwise: Bool { method == .uniformSlinearClampedMean || method == .uniformSlogClampedMean }

  /// Phase 1: writes the keys of the values that take part in the statistics (> 1e-3) of the `[rows, columns]`
  /// corner of a row-major block of row stride `stride` to `out`, which has room for `rows · columns` keys;
  /// returns how many.
  public func statisticsKeys(
    _ block: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<UInt32>
  ) -> Int {
    var count = 0
    for r in 0..<rows where columns > 0 { count += spiqa_quant_sort_keys(block + r * stride, columns, out + count, 0, minVal) }
    return count
  }

  /// Phase 2: the statistics of a scope from the keys of its blocks (any order).
  /// - Throws: `QuantError` when the reference would fail (too few values), as `apply` does.
  public func statistics(keys: [UnsafeBufferPointer<UInt32>]) throws -> QuantStatistics {
    guard quantizesBlockwise else {
      throw QuantError("\(method.rawValue) takes its statistics over the whole scope at once", isUsage: true)
    }
    return try clampedStatistics(method: method, bits: bits, regions: keys)
  }

  /// Phase 3: the mapping of every value of the scope under `stats`.
  public func cascade(_ stats: QuantStatistics) -> QuantCascade {
    QuantCascade(stats: stats, method: method, corrected: variant == .corrected)
  }
}
