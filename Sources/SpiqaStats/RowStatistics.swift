import Foundation

/// Per-row (per-token) statistics of §3.3 and §3.6, on one attention row at a time.
public enum RowStatistics {
  /// Tokens-to-majority (§3.3): `argmax(cumsum(sorted_desc(row)) > 0.5)` with the cumulative sum in float32, i.e.
  /// the 0-based index of the token at which the descending cumulative mass first exceeds 0.5; 0 if it never does.
  ///
  /// `scratch` must hold `row.count` floats. Only values ≥ 0.5/n are sorted first (the prefix that can reach the
  /// majority); the whole row is sorted only when those do not exceed 0.5. NaN values are ignored.
  public static func tokensToMajority(_ row: UnsafeBufferPointer<Float>, scratch: UnsafeMutableBufferPointer<Float>)
    -> Int
  {
    let n = row.count
    guard n > 0 else { return 0 }
    let cut = Float(0.5) / Float(n)
    var k = 0
    for v in row where v >= cut {
      scratch[k] = v
      k += 1
    }
    if let i = firstExceeding(scratch, count: k) { return i }
    k = 0
    for v in row where !v.isNaN {
      scratch[k] = v
      k += 1
    }
    return firstExceeding(scratch, count: k) ?? 0
  }

  /// Sorts `buf[0..<count]` descending and returns the first index where the float32 cumulative sum > 0.5.
  private static func firstExceeding(_ buf: UnsafeMutableBufferPointer<Float>, count: Int) -> Int? {
    guard count > 0, let base = buf.baseAddress else { return nil }
    var part = UnsafeMutableBufferPointer(start: base, count: count)
    part.sort(by: >)
    var s: Float = 0
    for i in 0..<count {
      s += part[i]
      if s > 0.5 { return i }
    }
    return nil
  }

  /// Median bin of a row histogram (§3.3 `get_diversity`): `argmax(cumsum(counts / sum(counts)) >= 0.5)` in
  /// float64, sequential cumulative sum as numpy's `cumsum`. An empty histogram gives 0 (numpy: NaN → argmax 0).
  public static func medianBin(_ counts: UnsafeBufferPointer<Int32>, total: Int) -> Int {
    guard total > 0 else { return 0 }
    let t = Double(total)
    var s = 0.0
    for i in 0..<counts.count {
      s += Double(counts[i]) / t
      if s >= 0.5 { return i }
    }
    return 0
  }

  /// Jensen–Shannon distance (natural log) between two histograms, as `scipy.spatial.distance.jensenshannon`:
  /// both normalised to sum 1, `m = (p+q)/2`, `sqrt((Σ rel_entr(p,m) + Σ rel_entr(q,m)) / 2)`. A histogram that sums
  /// to 0 gets `1e-10` added to every bin first (the reference's "+1e-10" for all-zero rows).
  public static func jensenShannon(_ a: UnsafeBufferPointer<Int32>, _ b: UnsafeBufferPointer<Int32>) -> Double {
    let n = min(a.count, b.count)
    var sa = 0.0
    var sb = 0.0
    for i in 0..<n {
      sa += Double(a[i])
      sb += Double(b[i])
    }
    let ea = sa == 0 ? 1e-10 : 0
    let eb = sb == 0 ? 1e-10 : 0
    if sa == 0 { sa = 1e-10 * Double(n) }
    if sb == 0 { sb = 1e-10 * Double(n) }
    var left = 0.0
    var right = 0.0
    for i in 0..<n {
      let p = (Double(a[i]) + ea) / sa
      let q = (Double(b[i]) + eb) / sb
      let m = (p + q) / 2
      if p > 0 { left += p * log(p / m) }
      if q > 0 { right += q * log(q / m) }
    }
    return max((left + right) / 2, 0).squareRoot()
  }
}
