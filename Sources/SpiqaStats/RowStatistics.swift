import Foundation

/// Per-row (per-token) statistics of §3.3 and §3.6, on one attention row at a time.
public enum RowStatistics {
  /// Tokens-to-majority (§3.3): `argmax(cumsum(sorted_desc(row)) > 0.5)` with the cumulative sum in float32, i.e.
  /// the 0-based index of the token at which the descending cumulative mass first exceeds 0.5; 0 if it never does.
  ///
  /// `scratch` must hold `row.count` floats. NaN values are ignored.
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
    return tokensToMajority(row, candidates: scratch, count: k)
  }

  /// Tokens-to-majority given the row's values `≥ 0.5/n` already copied to `candidates[0..<count]` (in any order).
  /// Those are the largest values of the row, so their descending cumulative sum is the row's; when they do not
  /// exceed 0.5 the whole row is used. `candidates` must hold `row.count` floats and is overwritten.
  public static func tokensToMajority(
    _ row: UnsafeBufferPointer<Float>, candidates: UnsafeMutableBufferPointer<Float>, count: Int
  ) -> Int {
    let kept = narrowCandidates(candidates, count: count)
    if let i = firstExceeding(candidates, count: kept) { return i }
    var k = 0
    for v in row where !v.isNaN {
      candidates[k] = v
      k += 1
    }
    return firstExceeding(candidates, count: k) ?? 0
  }

  /// Keeps (in `buf[0..<result]`) only the largest candidates when those alone already sum past 0.5 with a margin
  /// for float32 rounding: the descending float32 cumulative sum then exceeds 0.5 before it reaches any dropped
  /// value, and the kept values (all larger than every dropped one) are exactly the first ones popped, so the
  /// answer is unchanged. The cut is found with 64 buckets of 1/8 octave below the largest candidate.
  static func narrowCandidates(_ buf: UnsafeMutableBufferPointer<Float>, count: Int) -> Int {
    guard count > 16, let p = buf.baseAddress else { return count }
    // Candidates are ≥ 0.5/n > 0 and not NaN, so their bits order like their values; key = bits >> 20.
    var top: UInt32 = 0
    for i in 0..<count { top = max(top, p[i].bitPattern) }
    let topKey = Int(top >> 20)
    // Per bucket (1/8 octave below the top): Σ values and count, on the stack (this runs once per row).
    return withUnsafeTemporaryAllocation(of: (sum: Double, count: Int).self, capacity: 64) { b in
      b.initialize(repeating: (0, 0))
      for i in 0..<count {
        let v = p[i]
        let j = min(topKey - Int(v.bitPattern >> 20), 63)
        b[j].sum += Double(v)
        b[j].count += 1
      }
      var total = 0.0
      var m = 0
      for j in 0..<63 {
        total += b[j].sum
        m += b[j].count
        // float32 cumulative sum of m values ≥ total·(1 − m·2⁻²⁴); demand twice that margin.
        if total * (1 - Double(m) * 0x1p-23) > 0.5 {
          let lowest = topKey - j
          var k = 0
          for i in 0..<count where Int(p[i].bitPattern >> 20) >= lowest {
            p[k] = p[i]
            k += 1
          }
          return k
        }
      }
      return count
    }
  }

  /// Pops `buf[0..<count]` in descending order (max-heap) and returns the first index where the float32
  /// cumulative sum exceeds 0.5, or nil.
  private static func firstExceeding(_ buf: UnsafeMutableBufferPointer<Float>, count: Int) -> Int? {
    guard count > 0, let h = buf.baseAddress else { return nil }
    var size = count
    func siftDown(_ start: Int) {
      var i = start
      let v = h[i]
      while true {
        var c = 2 * i + 1
        if c >= size { break }
        if c + 1 < size && h[c + 1] > h[c] { c += 1 }
        if h[c] <= v { break }
        h[i] = h[c]
        i = c
      }
      h[i] = v
    }
    var i = size / 2 - 1
    while i >= 0 {
      siftDown(i)
      i -= 1
    }
    var s: Float = 0
    for k in 0..<count {
      s += h[0]
      if s > 0.5 { return k }
      size -= 1
      if size == 0 { break }
      h[0] = h[size]
      siftDown(0)
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
