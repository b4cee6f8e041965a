import CQuantKernels
import SpiqaCore

/// A data-dependent quantizer in three phases, for a scope whose values sit in separate blocks (the forward pass's
/// per-head attention blocks): each block's statistics keys are collected where the block is (in cache, on any
/// thread), the statistics are taken over the scope's keys, and the resulting cascade is applied block by block.
/// Same statistics and outputs as `apply` over the whole scope: the clamped methods ignore values ≤ 1e-3, so the
/// order of the blocks and the zeros of padding do not matter; uniform_slog_mean takes every value, but its +0.0s
/// are only counted (the caller says how many the scope holds), and the rest is sorted anyway.
extension AttentionQuantizer {
  /// True for the methods of the three-phase form: uniform_slinear_clamped_mean, uniform_slog_clamped_mean and
  /// uniform_slog_mean.
  public var quantizesBlockwise: Bool {
    method == .uniformSlinearClampedMean || method == .uniformSlogClampedMean || method == .uniformSlogMean
  }

  /// True when the statistics take every value of the scope, zeros and padding included (uniform_slog_mean), not
  /// only the values above 1e-3.
  public var statisticsTakeEveryValue: Bool { method == .uniformSlogMean }

  /// Phase 1: writes the keys of the values that take part in the statistics of the `[rows, columns]` corner of a
  /// row-major block of row stride `stride` to `out`, which has room for `rows · columns` keys; returns how many.
  /// The values above 1e-3, or with `statisticsTakeEveryValue` every value but +0.0 (the caller counts those).
  /// With `histograms`, the keys are also counted by bucket there, row by row while they are in cache, so phase 2
  /// need not read them all again (pass the same pool to `statistics`).
  public func statisticsKeys(
    _ block: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<UInt32>,
    counting histograms: BucketHistogramPool? = nil
  ) -> Int {
    let keepAll: Int32 = statisticsTakeEveryValue ? 1 : 0
    func keys(_ histogram: BucketHistogram?) -> Int {
      var count = 0
      for r in 0..<rows where columns > 0 {
        let kept = spiqa_quant_sort_keys(block + r * stride, columns, out + count, keepAll, minVal)
        histogram?.add(out + count, count: kept)
        count += kept
      }
      return count
    }
    guard let histograms else { return keys(nil) }
    return histograms.withHistogram { keys($0) }
  }

  /// Phase 2: the statistics of a scope from the keys of its blocks (any order).
  /// - Parameters:
  ///   - scopeSize: values in the scope, its +0.0s included (uniform_slog_mean; the others ignore it).
  ///   - threads: workers for the bucket counts, the gathering and uniform_slog_mean's sort.
  ///   - histograms: the pool that counted exactly these keys in phase 1, if one did; emptied for the next scope.
  /// - Throws: `QuantError` when the reference would fail (too few values), as `apply` does.
  public func statistics(
    keys: [UnsafeBufferPointer<UInt32>], scopeSize: Int = 0, threads: Int = 1,
    counted histograms: BucketHistogramPool? = nil
  ) throws -> QuantStatistics {
    defer { histograms?.clear() }
    guard quantizesBlockwise else {
      throw QuantError("\(method.rawValue) takes its statistics over the whole scope at once", isUsage: true)
    }
    let counted = histograms?.merged()
    if statisticsTakeEveryValue {
      let zeros = scopeSize - keys.reduce(0) { $0 + $1.count }
      guard zeros >= 0 else { throw QuantError("a scope of \(scopeSize) values cannot hold more keys", isUsage: true) }
      return try slogMeanStatistics(bits: bits, regions: keys, zeros: zeros, threads: threads, counted: counted)
    }
    return try clampedStatistics(method: method, bits: bits, regions: keys, threads: threads, counted: counted)
  }

  /// One scope of a batch for `statistics(scopes:threads:)`: its blocks' keys, its size, and the pool that counted
  /// its keys in phase 1, if one did.
  public struct ScopeKeys {
    public var keys: [UnsafeBufferPointer<UInt32>]
    public var scopeSize: Int
    public var counted: BucketHistogramPool?

    public init(keys: [UnsafeBufferPointer<UInt32>], scopeSize: Int, counted: BucketHistogramPool?) {
      self.keys = keys
      self.scopeSize = scopeSize
      self.counted = counted
    }
  }

  /// Phase 2 for several scopes (a batch's scope groups: one per question or per record): the scopes are spread
  /// over `threads` workers, each taking its scopes' statistics alone; a single scope gets every worker. Most of a
  /// small scope's time is serial (its bucket gather and the sort of its lowest bin), so many small scopes gain
  /// from running side by side.
  /// - Throws: the first scope's error, in scope order, as `statistics(keys:)`.
  public func statistics(scopes: [ScopeKeys], threads: Int) throws -> [QuantStatistics] {
    if scopes.count == 1 || threads <= 1 {
      return try scopes.map {
        try statistics(keys: $0.keys, scopeSize: $0.scopeSize, threads: threads, counted: $0.counted)
      }
    }
    let workers = min(threads, scopes.count)
    let results = UnsafeMutableBufferPointer<Result<QuantStatistics, Error>?>.allocate(capacity: scopes.count)
    results.initialize(repeating: nil)
    defer {
      results.deinitialize()
      results.deallocate()
    }
    let slots = UncheckedSendable(results)
    Parallel.forEach(workers) { w in
      for k in stride(from: w, to: scopes.count, by: workers) {
        let scope = scopes[k]
        slots.value[k] = Result {
          try statistics(keys: scope.keys, scopeSize: scope.scopeSize, threads: 1, counted: scope.counted)
        }
      }
    }
    return try results.map { try $0!.get() }
  }

  /// Phase 3: the mapping of every value of the scope under `stats`.
  public func cascade(_ stats: QuantStatistics) -> QuantCascade {
    QuantCascade(stats: stats, method: method, corrected: variant == .corrected)
  }
}

extension QuantCascade {
  /// True when +0.0 stays +0.0 (padding stays 0): always for the clamped methods; for uniform_slog_mean when the
  /// first threshold is 0 (more than half the scope is zeros).
  public var keepsZero: Bool { values.first.map { $0.bitPattern == 0 } ?? true }
}
