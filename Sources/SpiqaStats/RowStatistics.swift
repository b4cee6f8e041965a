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
    if let i = bucketedFirstExceeding(candidates, count: count) { return i }
    if let i = firstExceeding(candidates, count: count) { return i }
    var k = 0
    for v in row where !v.isNaN {
      candidates[k] = v
      k += 1
    }
    return firstExceeding(candidates, count: k) ?? 0
  }

  /// `firstExceeding` without a heap, when the largest candidates provably hold the answer: 64 buckets of 1/8 octave
  /// below the largest candidate find the smallest top set whose sum exceeds 0.5 with a margin for float32 rounding,
  /// so the descending float32 cumulative sum exceeds 0.5 inside it. That set is sorted descending bucket by bucket
  /// and summed in float32 in exactly the order the heap pops it. nil when there is no such set.
  ///
  /// `buf[0..<count]`: the candidates (positive, not NaN, so their bits order like their values); left unchanged.
  static func bucketedFirstExceeding(_ buf: UnsafeMutableBufferPointer<Float>, count: Int) -> Int? {
    guard count > 0, let p = buf.baseAddress else { return nil }
    var top: UInt32 = 0
    for i in 0..<count { top = max(top, p[i].bitPattern) }
    let topKey = Int(top >> 20)  // exponent and 3 mantissa bits
    // Per bucket, Σ values and count (on the stack: this runs once per row).
    return withUnsafeTemporaryAllocation(of: (sum: Double, count: Int).self, capacity: 64) { b -> Int? in
      b.initialize(repeating: (0, 0))
      for i in 0..<count {
        let v = p[i]
        let j = min(topKey - Int(v.bitPattern >> 20), 63)
        b[j].sum += Double(v)
        b[j].count += 1
      }
      var total = 0.0
      var m = 0
      var last = -1
      for j in 0..<63 {
        total += b[j].sum
        m += b[j].count
        // float32 cumulative sum of m values ≥ total·(1 − m·2⁻²⁴); demand twice that margin.
        if total * (1 - Double(m) * 0x1p-23) > 0.5 {
          last = j
          break
        }
      }
      guard last >= 0 else { return nil }
      return withUnsafeTemporaryAllocation(of: Float.self, capacity: m) { out -> Int? in
        // Bucket j's values go to out[start_j ..< end_j]; `count` becomes the running write position.
        var start = 0
        for j in 0...last {
          let c = b[j].count
          b[j].count = start
          start += c
        }
        for i in 0..<count {
          let v = p[i]
          let j = topKey - Int(v.bitPattern >> 20)
          if j <= last {
            out[b[j].count] = v
            b[j].count += 1
          }
        }
        var s: Float = 0
        var lo = 0
        for j in 0...last {
          let hi = b[j].count
          sortDescending(UnsafeMutableBufferPointer(rebasing: out[lo..<hi]))
          for t in lo..<hi {
            s += out[t]
            if s > 0.5 { return t }
          }
          lo = hi
        }
        return nil
      }
    }
  }

  /// Sorts a few floats descending (insertion sort; the library sort for longer runs, e.g. a uniform row).
  private static func sortDescending(_ a: UnsafeMutableBufferPointer<Float>) {
    guard a.count > 16 else {
      for i in a.indices.dropFirst() {
        let v = a[i]
        var k = i
        while k > 0 && a[k - 1] < v {
          a[k] = a[k - 1]
          k -= 1
        }
        a[k] = v
      }
      return
    }
    var a = a
    a.sort(by: >)
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
