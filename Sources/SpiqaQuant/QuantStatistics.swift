import CQuantKernels

/// The data-dependent quantizers (§2.8–2.11): statistics over the whole scope in numpy float64, then the
/// reference's cascade assignment in float32.

/// What a data-dependent quantizer derived from its scope.
public struct QuantStatistics: Sendable, Equatable {
  /// Cascade thresholds (`ranking_map`), float64 values of float32 inputs; binarization: `[1e-3]`.
  public var thresholds: [Double]
  /// Float64 bin values (`value_clamp_to`) before the cast to float32; binarization: `[1/K]`.
  public var values: [Double]
  /// Number of values the statistics were taken over (N: kept values > 1e-3, all values, or K for binarization).
  public var count: Int
  /// The float32 output levels (0 included), sorted.
  public var levels: [Float]
}

let minVal: Double = 1e-3
let minValF = Float(minVal)

/// Collects the sort keys of the scope, sorted: values > 1e-3 (float64 comparison, as numpy) or all values.
/// Exact +0.0 values (most of a padded layer, with `keepAll`) are not sorted: their key is the smallest but for
/// negative values', so they are counted and written in front of the sorted rest (negatives sort first anyway).
func collectKeys(_ parts: [UnsafeMutableBufferPointer<Float>], keepAll: Bool) -> [UInt32] {
  var total = 0
  for p in parts { total += p.count }
  let zeroKey = sortKey(0)
  var zeros = 0
  var keys = [UInt32](unsafeUninitializedCapacity: total) { buf, count in
    var k = 0
    for p in parts {
      guard let base = p.baseAddress, let out = buf.baseAddress, p.count > 0 else { continue }
      k += spiqa_quant_sort_keys(base, p.count, out + k, keepAll ? 1 : 0, minVal)
    }
    count = k
  }
  if keepAll { zeros = total - keys.count }
  radixSort(&keys)
  if zeros > 0 {
    // Keys below +0.0 (negative values) come first, then the zeros, then the rest.
    let negatives = keys.partitioningIndex { $0 > zeroKey }
    keys.insert(contentsOf: repeatElement(zeroKey, count: zeros), at: negatives)
  }
  return keys
}

extension Array where Element == UInt32 {
  /// The first index whose element satisfies `belongs` (the array is partitioned: false, then true).
  func partitioningIndex(where belongs: (UInt32) -> Bool) -> Int {
    var lo = 0, hi = count
    while lo < hi {
      let mid = (lo + hi) / 2
      if belongs(self[mid]) { hi = mid } else { lo = mid + 1 }
    }
    return lo
  }
}

/// Derives thresholds and values exactly as the reference's numpy code does.
func dataDependentStatistics(method: QuantMethod, bits: Int, parts: [UnsafeMutableBufferPointer<Float>])
  throws -> QuantStatistics
{
  let keys = collectKeys(parts, keepAll: method == .uniformSlogMean)
  let n = keys.count
  var thresholds: [Double] = []
  var values: [Double] = []
  try keys.withUnsafeBufferPointer { s in
    @inline(__always) func sv(_ i: Int) -> Double { Double(floatFromKey(s[i])) }
    switch method {
    case .uniformSlinearClampedMean:
      // uniform_threshs = [m] + s[range(0, N, max(int(N / r), 1))[1:]]; values = mid-points of consecutive thresholds
      if n == 0 { return }
      let r = (1 << bits) - 1
      let step = max(n / r, 1)
      var t: [Double] = [minVal]
      var i = step
      while i < n { t.append(sv(i)); i += step }
      if t.count < 2 {
        throw QuantError("\(method.rawValue): \(n) value(s) > 1e-3 in the scope give no threshold (the reference raises IndexError); use a larger scope", isUsage: false)
      }
      for j in 0..<(t.count - 1) { values.append((t[j] + t[j + 1]) / 2.0) }
      thresholds = Array(t.dropFirst())
    case .uniformSlogClampedMean, .uniformSlogMean:
      // cuts = cumsum([N//2, N//4, …, N//2^(R-1) or ^R, N//2^R])[:-1]; thresholds s[cuts]; values bin means
      if n == 0 { return }
      let r = 1 << bits
      let cutCount = method == .uniformSlogMean ? r : r - 1
      var cuts: [Int] = []
      var acc = 0
      for i in 1...cutCount {
        acc += i < 63 ? n >> i : 0
        cuts.append(acc)
      }
      var start = 0
      for c in cuts {
        if start < c {
          values.append(numpyMean(s, start, c))
        } else if let previous = values.last {
          values.append(previous)
        } else {
          throw QuantError("\(method.rawValue): \(n) value(s) in the scope leave the first bin empty (the reference raises IndexError); use a larger scope or fewer bits", isUsage: false)
        }
        thresholds.append(sv(c))
        start = c
      }
    default:
      break
    }
  }
  var levels = Set(values.map { Float($0) })
  levels.insert(0)
  return QuantStatistics(thresholds: thresholds, values: values, count: n, levels: levels.sorted())
}

/// The reference cascade (L338–344): region [t_{j-1}, t_j) gets v_j, [t_last, 1) gets v_last again, 1.0 gets 0
/// (reference) or v_last (corrected); clamped methods zero values < 1e-3; `uniform_slog_mean` only lets values
/// > 0 past the first step. All comparisons in float32 (thresholds are float32 values), values cast to float32.
func applyCascade(_ parts: [UnsafeMutableBufferPointer<Float>], stats: QuantStatistics, method: QuantMethod,
                  corrected: Bool)
{
  let clamped = method != .uniformSlogMean
  let positiveOnly = method == .uniformSlogMean
  let t = stats.thresholds.map { Float($0) }
  let v = stats.values.map { Float($0) }
  let r = t.count
  if r == 0 {
    // Nothing above 1e-3 in the scope (the reference raises): every value is below 1e-3, the zero mask wins.
    for p in parts { for i in p.indices where clamped || p[i] == p[i] { p[i] = 0 } }
    return
  }
  /// One value, as the reference's cascade assigns it.
  func cascade(_ x: Float) -> Float {
    // j = number of thresholds <= x (upper bound); NaN compares false everywhere -> 0.
    var lo = 0, hi = r
    while lo < hi {
      let mid = (lo + hi) >> 1
      if t[mid] <= x { lo = mid + 1 } else { hi = mid }
    }
    var q: Float = 0
    if x != x {
      q = 0
    } else if lo == 0 {
      q = v[0]
    } else if positiveOnly && !(x > 0) {
      q = 0
    } else if lo < r {
      q = v[lo]
    } else if x < 1.0 || corrected {
      q = v[r - 1]
    }
    if clamped && x < minValF { q = 0 }
    return q
  }
  // On [0, 1) the cascade only changes where x crosses a threshold, 1e-3 (clamped) or the smallest positive float
  // (uniform_slog_mean): its value at each such point, merged where equal, is an exact step function.
  var points = Set<UInt32>([0])
  for x in t where x.bitPattern > 0 && x.bitPattern < SegmentTable.one { points.insert(x.bitPattern) }
  if clamped { points.insert(minValF.bitPattern) }
  if positiveOnly { points.insert(1) }
  var starts: [UInt32] = []
  var values: [Float] = []
  for u in points.sorted() {
    let q = cascade(Float(bitPattern: u))
    if let last = values.last, last.bitPattern == q.bitPattern { continue }
    starts.append(u)
    values.append(q)
  }
  for p in parts { applySteps(p, starts: starts, values: values, otherwise: cascade) }
}

/// `x` in place through the step function (`starts`, `values`) on [0, 1) and `otherwise` elsewhere; the compare
/// kernel up to SPIQA_QUANT_STEPS_MAX segments, else `otherwise` for every value.
func applySteps(_ p: UnsafeMutableBufferPointer<Float>, starts: [UInt32], values: [Float],
                otherwise: (Float) -> Float)
{
  guard let base = p.baseAddress else { return }
  let n = p.count
  guard values.count <= Int(SPIQA_QUANT_STEPS_MAX) else {
    for i in 0..<n { base[i] = otherwise(base[i]) }
    return
  }
  starts.withUnsafeBufferPointer { s in
    values.withUnsafeBufferPointer { v in
      var i = 0
      while i < n {
        i += spiqa_quant_steps(base + i, n - i, s.baseAddress!, v.baseAddress!, Int32(v.count))
        if i < n {
          base[i] = otherwise(base[i])
          i += 1
        }
      }
    }
  }
}

/// §2.11: values >= 1e-3 become 1/K (K counted over the whole scope), the rest 0; corrected: K per row.
func applyBinarization(_ parts: [UnsafeMutableBufferPointer<Float>], corrected: Bool, rowLength: Int?) throws
  -> QuantStatistics
{
  if corrected {
    guard let len = rowLength, len > 0 else {
      throw QuantError("binarization's corrected variant needs the row length (it normalises per row)", isUsage: true)
    }
    var total = 0
    var levels: Set<Float> = [0]
    for p in parts {
      guard p.count % len == 0 else {
        throw QuantError("binarization: buffer of \(p.count) values is not a whole number of rows of \(len)", isUsage: false)
      }
      var row = 0
      while row < p.count {
        var k = 0
        for i in row..<(row + len) where p[i] >= minValF { k += 1 }
        let val = k > 0 ? Float(1.0 / Double(k)) : 0
        levels.insert(val)
        for i in row..<(row + len) where p[i] == p[i] { p[i] = p[i] >= minValF ? val : 0 }
        total += k
        row += len
      }
    }
    return QuantStatistics(thresholds: [minVal], values: [], count: total, levels: levels.sorted())
  }
  var k = 0
  for p in parts {
    guard let base = p.baseAddress else { continue }
    k += spiqa_quant_count_at_least(base, p.count, minValF)
  }
  let value = k > 0 ? 1.0 / Double(k) : 0
  let vf = Float(value)
  func binarize(_ x: Float) -> Float { x < minValF ? 0 : x >= minValF ? vf : x }
  for p in parts { applySteps(p, starts: [0, minValF.bitPattern], values: [0, vf], otherwise: binarize) }
  return QuantStatistics(thresholds: [minVal], values: [value], count: k, levels: k > 0 ? [0, vf] : [0])
}
