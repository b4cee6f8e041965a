import CQuantKernels

/// The data-dependent quantizers (§2.8–2.11): statistics over the whole scope in numpy float64, then the
/// reference's cascade assignment in float32.

/// What a data-dependent quantizer derived from its scope.
public struct QuantStatistics: Sendable, Equatable {
  /// Cascade thresholds (`ranking_map`), float64 values of float32 inputs; binarization: `[1e-3]`.
  public var thresholds: [Double]
  /// Float64 bin values (`value_clamp_to`) before the cast to float32; binarization: `[1/K]`. uniform_slog_mean's
  /// lowest bins may hold the float32 that numpy's float64 mean is cast to instead (`BucketSelection.float32Mean`).
  public var values: [Double]
  /// Number of values the statistics were taken over (N: kept values > 1e-3, all values, or K for binarization).
  public var count: Int
  /// The float32 output levels (0 included), sorted.
  public var levels: [Float]
}

let minVal: Double = 1e-3
let minValF = Float(minVal)

/// The sort keys of the scope's values > 1e-3 (float64 comparison, as numpy) or, with `keepAll`, of every value but
/// +0.0, in data order.
func unsortedKeys(_ parts: [UnsafeMutableBufferPointer<Float>], keepAll: Bool) -> [UInt32] {
  var total = 0
  for p in parts { total += p.count }
  return [UInt32](unsafeUninitializedCapacity: total) { buf, count in
    var k = 0
    for p in parts {
      guard let base = p.baseAddress, let out = buf.baseAddress, p.count > 0 else { continue }
      k += spiqa_quant_sort_keys(base, p.count, out + k, keepAll ? 1 : 0, minVal)
    }
    count = k
  }
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

/// Derives thresholds and values exactly as the reference's numpy code does. The clamped methods (values > 1e-3)
/// take their order statistics and bin sums from bucket counts without sorting when that is provably exact
/// (`BucketSelection`); otherwise from the sorted values. uniform_slog_mean counts its +0.0s and sorts only the bins
/// that need it (`slogMeanStatistics`). `selection: false` sorts everything (the tests' reference).
/// `countedZeros`: +0.0 values of the scope that are not in `parts` (uniform_slog_mean counts padding trimmed away;
/// the other methods take only values above 1e-3 and ignore it).
func dataDependentStatistics(
  method: QuantMethod, bits: Int, parts: [UnsafeMutableBufferPointer<Float>], selection: Bool = true,
  countedZeros: Int = 0
) throws -> QuantStatistics {
  let keepAll = method == .uniformSlogMean
  let keys = unsortedKeys(parts, keepAll: keepAll)
  if selection && !keepAll {
    return try keys.withUnsafeBufferPointer { try clampedStatistics(method: method, bits: bits, regions: [$0]) }
  }
  if keepAll {
    var total = 0
    for p in parts { total += p.count }
    return try keys.withUnsafeBufferPointer {
      try slogMeanStatistics(
        bits: bits, regions: [$0], zeros: total - keys.count + countedZeros, threads: 1, selection: selection)
    }
  }
  var sorted = keys
  radixSort(&sorted)
  return try sortedStatistics(method: method, bits: bits, scope: SortedScope(sortedKeys: sorted, zeros: 0))
}

/// uniform_slog_mean's statistics from the keys of a scope's values other than +0.0, split over any number of
/// regions in any order, and the number of +0.0 values (`zeros`).
///
/// The sorted scope is `zeros` times 0, then the positive values. Ranks come from bucket counts (`BucketCounts`:
/// `counted`, the keys' histogram when the caller counted them, else counted here), and a bin's mean from bucket
/// sums wherever its float64 sum is exact in any order (the clamped methods' bound; zeros add nothing) — usually
/// every bin above the lowest values. The bins that may fail the bound (judged from their buckets), whose low values
/// span many binades, take their mean from bucket sums too when an error bound shows which float32 numpy's float64
/// mean becomes (`BucketSelection.float32Mean`: the cascade only uses that float32). Otherwise they are gathered
/// and sorted with the wanted ranks' buckets, in one pass over the keys on `threads` workers, and summed in numpy's
/// pairwise order. Negative values, -0.0 or NaN (never in attention) take the full sort (the counts decline them);
/// so does `selection: false`.
func slogMeanStatistics(
  bits: Int, regions: [UnsafeBufferPointer<UInt32>], zeros: Int, threads: Int, counted: BucketHistogram? = nil,
  selection: Bool = true
) throws -> QuantStatistics {
  let keyCount = regions.reduce(0) { $0 + $1.count }
  let n = keyCount + zeros
  if selection && n > 0, let counts = BucketCounts(regions: regions, counted: counted, threads: threads) {
    // Key ranks read: what `statistics` reads past the zeros, and the first positive value (a bin's first when it
    // starts among the zeros).
    let ranks = neededRanks(method: .uniformSlogMean, bits: bits, n: n).filter { $0 >= zeros }.map { $0 - zeros }
      + (zeros < n ? [0] : [])
    // The bins' positive values (key ranks) whose sum may round: the lowest bins, next to each other.
    var inOrder: Range<Int>?
    var start = 0
    for c in logCuts(method: .uniformSlogMean, bits: bits, n: n) {
      if c > zeros && start < c {
        let lo = max(start, zeros) - zeros, hi = c - zeros
        if counts.mayRound(lo, hi) {
          inOrder = min(lo, inOrder?.lowerBound ?? lo)..<max(hi, inOrder?.upperBound ?? hi)
        }
      }
      start = c
    }
    // First without sorting those bins: their means as the float32 they become, when bucket sums decide it
    // (`float32Mean`); the stored float64 value is then that float32. Otherwise gather and sort them.
    for sorts in inOrder == nil ? [false] : [false, true] {
      let picked = BucketSelection(
        counts: counts, regions: regions, ranks: ranks, covering: sorts ? inOrder : nil, threads: threads)
      do {
        return try statistics(
          method: .uniformSlogMean, bits: bits, n: n,
          value: { $0 < zeros ? 0 : try picked.value($0 - zeros) },
          mean: { a, b in
            let zerosInBin = max(0, min(zeros, b) - a)
            guard b > zeros else { return (0.0 + 0.0) / Double(b - a) }
            let lo = max(a, zeros) - zeros, hi = b - zeros
            if let inOrder, inOrder.contains(lo) {
              guard sorts else { return Double(try picked.float32Mean(lo, hi, count: b - a)) }
              let sum = try picked.withSortedKeys(lo, hi) { spiqa_quant_pairwise_sum($0, 0, zerosInBin, 0, b - a) }
              return (0.0 + sum) / Double(b - a)
            }
            return (0.0 + (try picked.exactSum(lo, hi))) / Double(b - a)
          })
      } catch is BucketSelection.NotExact where !sorts {
        continue
      }
    }
  }
  let scope = SortedScope(sortedKeys: sortedKeys(regions, threads: threads), zeros: zeros)
  return try sortedStatistics(method: .uniformSlogMean, bits: bits, scope: scope)
}

/// `statistics` read from a sorted scope.
func sortedStatistics(method: QuantMethod, bits: Int, scope: SortedScope) throws -> QuantStatistics {
  try statistics(method: method, bits: bits, n: scope.count, value: scope.value, mean: scope.mean)
}

/// The statistics of a clamped method (uniform_slinear_clamped_mean, uniform_slog_clamped_mean) from the keys of
/// its scope's values > 1e-3, in any order and split over any number of regions: by bucket selection when exact
/// (from `counted`, the keys' histogram when the caller counted them), else from the sorted keys.
func clampedStatistics(
  method: QuantMethod, bits: Int, regions: [UnsafeBufferPointer<UInt32>], threads: Int = 1,
  counted: BucketHistogram? = nil
) throws -> QuantStatistics {
  let n = regions.reduce(0) { $0 + $1.count }
  let ranks = neededRanks(method: method, bits: bits, n: n)
  if let counts = BucketCounts(regions: regions, counted: counted, threads: threads) {
    let picked = BucketSelection(counts: counts, regions: regions, ranks: ranks, threads: threads)
    do {
      return try statistics(method: method, bits: bits, n: n, value: picked.value, mean: picked.mean)
    } catch is BucketSelection.NotExact {
      // the sort below
    }
  }
  let keys = sortedKeys(regions, threads: threads)
  return try sortedStatistics(method: method, bits: bits, scope: SortedScope(sortedKeys: keys, zeros: 0))
}

/// The ranks `statistics` reads for `n` values: each threshold's and each bin's first and last.
func neededRanks(method: QuantMethod, bits: Int, n: Int) -> [Int] {
  guard n > 0 else { return [] }
  switch method {
  case .uniformSlinearClampedMean:
    let step = linearStep(bits: bits, n: n)
    return Array(stride(from: step, to: n, by: step))
  default:
    let cuts = logCuts(method: method, bits: bits, n: n)
    return ([0] + cuts + cuts.filter { $0 > 0 }.map { $0 - 1 }).filter { $0 < n }
  }
}

/// uniform_slinear_clamped_mean's threshold spacing: `max(int(N / r), 1)` with r = 2^bits − 1.
func linearStep(bits: Int, n: Int) -> Int { max(n / ((1 << bits) - 1), 1) }

/// The uniform_slog methods' bin ends `cumsum([N//2, N//4, …, N//2^(R-1) or ^R, N//2^R])[:-1]`: R = 2^bits cuts
/// for uniform_slog_mean, R − 1 for the clamped method.
func logCuts(method: QuantMethod, bits: Int, n: Int) -> [Int] {
  let cutCount = method == .uniformSlogMean ? 1 << bits : (1 << bits) - 1
  var cuts: [Int] = []
  var acc = 0
  for i in 1...cutCount {
    acc += i < 63 ? n >> i : 0
    cuts.append(acc)
  }
  return cuts
}

/// The reference's statistics from the sorted values `s[0..<n]` of the scope, read through `value(i)` = `s[i]` and
/// `mean(a, b)` = `np.mean(s[a:b])`.
func statistics(
  method: QuantMethod, bits: Int, n: Int, value sv: (Int) throws -> Double, mean: (Int, Int) throws -> Double
) throws -> QuantStatistics {
  var thresholds: [Double] = []
  var values: [Double] = []
  switch method {
  case .uniformSlinearClampedMean:
    // uniform_threshs = [m] + s[range(0, N, max(int(N / r), 1))[1:]]; values = mid-points of consecutive thresholds
    if n == 0 { break }
    let step = linearStep(bits: bits, n: n)
    var t: [Double] = [minVal]
    var i = step
    while i < n { t.append(try sv(i)); i += step }
    if t.count < 2 {
      throw QuantError("\(method.rawValue): \(n) value(s) > 1e-3 in the scope give no threshold (the reference raises IndexError); use a larger scope", isUsage: false)
    }
    for j in 0..<(t.count - 1) { values.append((t[j] + t[j + 1]) / 2.0) }
    thresholds = Array(t.dropFirst())
  case .uniformSlogClampedMean, .uniformSlogMean:
    // cuts = cumsum([N//2, N//4, …, N//2^(R-1) or ^R, N//2^R])[:-1]; thresholds s[cuts]; values bin means
    if n == 0 { break }
    var start = 0
    for c in logCuts(method: method, bits: bits, n: n) {
      if start < c {
        values.append(try mean(start, c))
      } else if let previous = values.last {
        values.append(previous)
      } else {
        throw QuantError("\(method.rawValue): \(n) value(s) in the scope leave the first bin empty (the reference raises IndexError); use a larger scope or fewer bits", isUsage: false)
      }
      thresholds.append(try sv(c))
      start = c
    }
  default:
    break
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
  let cascade = QuantCascade(stats: stats, method: method, corrected: corrected)
  for p in parts { cascade.apply(p) }
}

/// The reference cascade of one scope's statistics as a value mapping, applicable to any buffer of the scope
/// (see `applyCascade`).
public struct QuantCascade: Sendable {
  let clamped: Bool
  let positiveOnly: Bool
  let corrected: Bool
  let t: [Float]
  let v: [Float]
  /// The cascade on [0, 1) as a step function (`applySteps`).
  let starts: [UInt32]
  let values: [Float]

  init(stats: QuantStatistics, method: QuantMethod, corrected: Bool) {
    clamped = method != .uniformSlogMean
    positiveOnly = method == .uniformSlogMean
    self.corrected = corrected
    t = stats.thresholds.map { Float($0) }
    v = stats.values.map { Float($0) }
    // On [0, 1) the cascade only changes where x crosses a threshold, 1e-3 (clamped) or the smallest positive
    // float (uniform_slog_mean): its value at each such point, merged where equal, is an exact step function.
    var points = Set<UInt32>([0])
    for x in t where x.bitPattern > 0 && x.bitPattern < SegmentTable.one { points.insert(x.bitPattern) }
    if clamped { points.insert(minValF.bitPattern) }
    if positiveOnly { points.insert(1) }
    var starts: [UInt32] = []
    var values: [Float] = []
    if !t.isEmpty {
      for u in points.sorted() {
        let q = Self.value(Float(bitPattern: u), t: t, v: v, clamped: clamped, positiveOnly: positiveOnly, corrected: corrected)
        if let last = values.last, last.bitPattern == q.bitPattern { continue }
        starts.append(u)
        values.append(q)
      }
    }
    self.starts = starts
    self.values = values
  }

  /// One value, as the reference's cascade assigns it (thresholds `t`, values `v`, at least one of each).
  static func value(_ x: Float, t: [Float], v: [Float], clamped: Bool, positiveOnly: Bool, corrected: Bool) -> Float {
    let r = t.count
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

  /// Maps `p` in place.
  public func apply(_ p: UnsafeMutableBufferPointer<Float>) {
    guard let base = p.baseAddress else { return }
    apply(base, rows: 1, columns: p.count, stride: p.count)
  }

  /// Maps the `[rows, columns]` corner of a row-major matrix of row stride `stride` in place.
  public func apply(_ base: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
    if t.isEmpty {
      // Nothing above 1e-3 in the scope (the reference raises): every value is below 1e-3, the zero mask wins.
      for r in 0..<rows {
        let row = base + r * stride
        for i in 0..<columns where clamped || row[i] == row[i] { row[i] = 0 }
      }
      return
    }
    let t = self.t, v = self.v, clamped = self.clamped, positiveOnly = self.positiveOnly, corrected = self.corrected
    applySteps(base, rows: rows, columns: columns, stride: stride, starts: starts, values: values) {
      Self.value($0, t: t, v: v, clamped: clamped, positiveOnly: positiveOnly, corrected: corrected)
    }
  }
}

/// `x` in place through the step function (`starts`, `values`) on [0, 1) and `otherwise` elsewhere; the compare
/// kernel up to SPIQA_QUANT_STEPS_MAX segments, else `otherwise` for every value.
func applySteps(_ p: UnsafeMutableBufferPointer<Float>, starts: [UInt32], values: [Float],
                otherwise: (Float) -> Float)
{
  guard let base = p.baseAddress else { return }
  applySteps(base, rows: 1, columns: p.count, stride: p.count, starts: starts, values: values, otherwise: otherwise)
}

/// `applySteps` on the `[rows, columns]` corner of a row-major matrix of row stride `stride` (one setup for all
/// rows: called per attention block, whose padded columns are left alone).
func applySteps(_ base: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, stride: Int, starts: [UInt32],
                values: [Float], otherwise: (Float) -> Float)
{
  guard values.count <= Int(SPIQA_QUANT_STEPS_MAX) else {
    for r in 0..<rows {
      let row = base + r * stride
      for i in 0..<n { row[i] = otherwise(row[i]) }
    }
    return
  }
  guard rows > 0, n > 0 else { return }
  let atOne = otherwise(1)
  starts.withUnsafeBufferPointer { s in
    values.withUnsafeBufferPointer { v in
      var at = 0
      while true {
        at = spiqa_quant_steps_rows(base, rows, n, stride, at, s.baseAddress!, v.baseAddress!, Int32(v.count), atOne)
        guard at < rows * n else { return }
        let x = base + (at / n) * stride + at % n
        x.pointee = otherwise(x.pointee)
        at += 1
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
