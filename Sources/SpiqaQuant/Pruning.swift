/// Attention pruning (§1.1, `P * (P > t)`): values strictly above `threshold` are kept, the rest become 0.
/// In float32 like the reference (the threshold is cast to float32 once). No renormalisation.
public func prune(_ x: UnsafeMutableBufferPointer<Float>, threshold: Float) {
  guard let p = x.baseAddress else { return }
  // Through the raw pointer, without bounds checks, the loop vectorises (compare, select, multiply).
  for i in 0..<x.count {
    let v = p[i]
    p[i] = v * (v > threshold ? 1 : 0)
  }
}

/// Hidden-state threshold (§1.3, `h * ((h > t) | (h < -t))`): values with |h| <= t become ±0.
public func pruneHidden(_ x: UnsafeMutableBufferPointer<Float>, threshold: Float) {
  for i in x.indices {
    let v = x[i]
    x[i] = v * (v > threshold || v < -threshold ? 1 : 0)
  }
}
