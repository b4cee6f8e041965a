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
func dataDependentStatistics(
  method: QuantMethod, bits: Int, parts: [UnsafeMutableBufferPointer<Float>], selection: Bool = true
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
      try slogMeanStatistics(bits: bits, regions: [$0], zeros: total - keys.count, threads: 1, selection: selection)
    }
  }
  var sorted = keys
  radixSort(&sorted)
  return try sortedStatistics(method: method, bits: bits, scope: SortedScope(sortedKeys: sorted, zeros: 0))
}

/// uniform_slog_mean's statistics from the keys of a scope's values other than +0.0, split over any number of
/// regions in any order, and the number of +0.0 values (`zeros`).
///
/// The sorted scope is `zeros` times 0, then the positive values. Ranks come from bucket counts
/// (`BucketSelection`), and a bin's mean from bucket sums wherever its float64 sum is exact in any order (the
/// clamped methods' bound; zeros add nothing) — usually every bin above the lowest values. Only a bin that fails
/// the bound, whose low values span many binades, is gathered and sorted (on `threads` workers), and summed in
/// numpy's pairwise order. Negative values, -0.0 or NaN (never in attention) take the full sort (the selection
/// declines them); so does `selection: false`.
func slogMeanStatistics(
  bits: Int, regions: [UnsafeBufferPointer<UInt32>], zeros: Int, threads: Int, selection: Bool = true
) throws -> QuantStatistics {
  let keyCount = regions.reduce(0) { $0 + $1.count }
  let n = keyCount + zeros
  if selection && n > 0 {
    // Key ranks read: what `statistics` reads past the zeros, and the first positive value (a bin's first when it
    // starts among the zeros).
    let ranks = neededRanks(method: .uniformSlogMean, bits: bits, n: n).filter { $0 >= zeros }.map { $0 - zeros }
      + (zeros < n ? [0] : [])
    if let picked = BucketSelection(regions: regions, ranks: ranks, threads: threads) {
      // Each bin's positive values (key ranks): summed from the buckets when exact; the others — the lowest bins,
      // next to each other — gathered and sorted together, once.
      var exactSums: [Int: Double] = [:]
      var inexact: Range<Int>?
      var start = 0
      for c in logCuts(method: .uniformSlogMean, bits: bits, n: n) {
        if c > zeros && start < c {
          let lo = max(start, zeros) - zeros, hi = c - zeros
          if let sum = try? picked.exactSum(lo, hi) {
            exactSums[lo] = sum
          } else {
            inexact = min(lo, inexact?.lowerBound ?? lo)..<max(hi, inexact?.upperBound ?? hi)
          }
        }
        start = c
      }
      let sorted = inexact.map { picked.sortedBuckets(covering: $0.lowerBound, $0.upperBound, threads: threads) }
      return try statistics(
        method: .uniformSlogMean, bits: bits, n: n,
        value: { $0 < zeros ? 0 : try picked.value($0 - zeros) },
        mean: { a, b in
          let zerosInBin = max(0, min(zeros, b) - a)
          guard b > zeros else { return (0.0 + 0.0) / Double(b - a) }
          let lo = max(a, zeros) - zeros
          if let sum = exactSums[lo] { return (0.0 + sum) / Double(b - a) }
          guard let sorted, let inexact else { throw BucketSelection.NotExact() }  // every bin was classified
          let sum = sorted.keys.withUnsafeBufferPointer {
            spiqa_quant_pairwise_sum($0.baseAddress! + sorted.offset + (lo - inexact.lowerBound), 0, zerosInBin, 0, b - a)
          }
          return (0.0 + sum) / Double(b - a)
        })
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
/// its scope's values > 1e-3, in any order and split over any number of regions: by bucket selection when exact,
/// else from the sorted keys.
func clampedStatistics(method: QuantMethod, bits: Int, regions: [UnsafeBufferPointer<UInt32>], threads: Int = 1)
  throws -> QuantStatistics
{
  let n = regions.reduce(0) { $0 + $1.count }
  let ranks = neededRanks(method: method, bits: bits, n: n)
  if let picked = BucketSelection(regions: regions, ranks: ranks, threads: threads) {
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

/// Order statistics and bin means of positive float32 values without sorting them all: bucket counts and float64
/// sums by the top 16 bits (`spiqa_quant_bucket_sums`), then only the buckets that hold a wanted rank are gathered
/// and sorted.
///
/// A mean is numpy's (pairwise float64 sum of the sorted values, divided by the count) only when every partial sum
/// is exact, whatever the order: all values of a bin are multiples of the ulp of its smallest, so that holds when
/// count · largest < 2^52 · ulp(smallest). For values > 1e-3 that is any bin of fewer than ~500,000 values; beyond,
/// `mean` throws `NotExact` and the caller sorts.
struct BucketSelection {
  struct NotExact: Error {}

  /// The keys, as given (valid while the selection is used).
  private let regions: [UnsafeBufferPointer<UInt32>]
  /// prefix[b] = values in buckets before b (SPIQA_QUANT_BUCKETS + 1 entries).
  private let prefix: [Int]
  private let sums: [Double]
  /// The gathered keys, sorted, and where each gathered bucket starts in them.
  private let gathered: [UInt32]
  private let gatheredStart: [Int: Int]

  /// nil when the keys are not all of positive finite floats.
  init?(keys: [UInt32], ranks: [Int]) {
    let selection = keys.withUnsafeBufferPointer { Self(regions: [$0], ranks: ranks) }
    guard let selection else { return nil }
    self = selection
  }

  /// The keys of several unsorted regions taken together (a scope whose blocks collected their own keys).
  /// With `threads` > 1 and enough keys, the bucket counts and the gathering run on that many workers.
  init?(regions: [UnsafeBufferPointer<UInt32>], ranks: [Int], threads: Int = 1) {
    let buckets = Int(SPIQA_QUANT_BUCKETS)
    let total = regions.reduce(0) { $0 + $1.count }
    let pieces = splitKeys(regions, into: total >= 1 << 16 ? max(1, threads) : 1)
    let w = pieces.count
    // Per piece, then added up: a bucket's float64 sum is exact in any order (its values share one exponent).
    var counts = [UInt32](repeating: 0, count: buckets * w)
    var sums = [Double](repeating: 0, count: buckets * w)
    var smallest = [UInt32](repeating: .max, count: w)
    counts.withUnsafeMutableBufferPointer { c in
      sums.withUnsafeMutableBufferPointer { s in
        smallest.withUnsafeMutableBufferPointer { m in
          let c = UncheckedPointer(c.baseAddress!), s = UncheckedPointer(s.baseAddress!), m = UncheckedPointer(m.baseAddress!)
          parallelFor(w) { p in
            for k in pieces[p] where k.count > 0 {
              let least = spiqa_quant_bucket_sums(k.baseAddress!, k.count, c.pointer + p * buckets, s.pointer + p * buckets)
              m.pointer[p] = min(m.pointer[p], least)
            }
          }
        }
      }
    }
    // Positive floats only (a negative value's key, or -0.0's, aliases a positive bucket).
    if smallest.contains(where: { $0 <= sortKey(0) }) { return nil }
    for p in 1..<w {
      for b in 0..<buckets where counts[p * buckets + b] > 0 {
        counts[b] += counts[p * buckets + b]
        sums[b] += sums[p * buckets + b]
      }
    }
    counts.removeSubrange(buckets...)
    sums.removeSubrange(buckets...)
    // Positive finite floats only: keys 0x80000001…0xFF7FFFFF (+inf and NaN land in the top buckets).
    if counts[(0x7F80_0000 >> 16)...].contains(where: { $0 > 0 }) { return nil }
    var prefix = [Int](repeating: 0, count: buckets + 1)
    for b in 0..<buckets { prefix[b + 1] = prefix[b] + Int(counts[b]) }
    var wanted = [UInt8](repeating: 0, count: buckets)
    for r in ranks { wanted[Self.bucket(of: r, prefix: prefix)] = 1 }
    // The wanted buckets as key intervals (runs of buckets merged): few intervals are tested 16 keys at a time.
    var lows: [UInt32] = [], highs: [UInt32] = []
    var b = 0
    while b < buckets {
      guard wanted[b] != 0 else { b += 1; continue }
      var e = b
      while e + 1 < buckets && wanted[e + 1] != 0 { e += 1 }
      let keys = Self.keys(ofBuckets: b, e)
      lows.append(keys.low)
      highs.append(keys.high)
      b = e + 1
    }
    // Each piece gathers into its own stretch of the buffer (the kernel writes within it), then they close up.
    var pieceStart = [0]
    for piece in pieces { pieceStart.append(pieceStart.last! + piece.reduce(0) { $0 + $1.count }) }
    var gathered = [UInt32](unsafeUninitializedCapacity: max(total, 1)) { out, count in
      var kept = [Int](repeating: 0, count: w)
      let o = UncheckedPointer(out.baseAddress!)
      kept.withUnsafeMutableBufferPointer { kept in
        let kept = UncheckedPointer(kept.baseAddress!)
        parallelFor(w) { p in
          var k = 0
          for region in pieces[p] where region.count > 0 {
            let out = o.pointer + pieceStart[p] + k
            k += lows.count <= 16
              ? spiqa_quant_gather_intervals(region.baseAddress!, region.count, lows, highs, Int32(lows.count), out)
              : spiqa_quant_gather_buckets(region.baseAddress!, region.count, wanted, out)
          }
          kept.pointer[p] = k
        }
      }
      var k = kept[0]
      for p in 1..<w {
        // Moving down within one buffer: a forward copy is safe where the stretches overlap.
        for i in 0..<kept[p] { o.pointer[k + i] = o.pointer[pieceStart[p] + i] }
        k += kept[p]
      }
      count = k
    }
    radixSort(&gathered)
    var starts: [Int: Int] = [:]
    var at = 0
    for b in 0..<buckets where wanted[b] != 0 {
      starts[b] = at
      at += Int(counts[b])
    }
    self.regions = regions
    self.prefix = prefix
    self.sums = sums
    self.gathered = gathered
    self.gatheredStart = starts
  }

  /// The keys of positive floats in buckets `first...last`, as one closed key interval.
  private static func keys(ofBuckets first: Int, _ last: Int) -> (low: UInt32, high: UInt32) {
    (0x8000_0000 | UInt32(first) << 16, 0x8000_0000 | UInt32(last) << 16 | 0xFFFF)
  }

  /// The bucket holding rank `r` (the last b with prefix[b] <= r).
  private static func bucket(of r: Int, prefix: [Int]) -> Int {
    var lo = 0, hi = prefix.count - 1
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if prefix[mid] <= r { lo = mid } else { hi = mid }
    }
    return lo
  }

  /// Value of rank `r` in sorted order. Throws `NotExact` for a rank whose bucket was not gathered.
  func value(_ r: Int) throws -> Double {
    let b = Self.bucket(of: r, prefix: prefix)
    guard let start = gatheredStart[b] else { throw NotExact() }
    return Double(floatFromKey(gathered[start + r - prefix[b]]))
  }

  /// `np.mean(s[a:b])`; throws `NotExact` when the float64 sum could round.
  func mean(_ a: Int, _ b: Int) throws -> Double {
    (0.0 + (try exactSum(a, b))) / Double(b - a)
  }

  /// The sum of `s[a:b]`, which is what any summation order gives when every partial sum is exact; throws
  /// `NotExact` otherwise (or when a needed bucket was not gathered: ranks a and b − 1 must have been asked for).
  func exactSum(_ a: Int, _ b: Int) throws -> Double {
    let count = b - a
    let smallest = Float(try value(a)), largest = try value(b - 1)
    guard smallest > 0, Double(count) * largest < 0x1p52 * Double(smallest.ulp) else { throw NotExact() }
    let first = Self.bucket(of: a, prefix: prefix), last = Self.bucket(of: b - 1, prefix: prefix)
    func partial(_ bucket: Int, _ from: Int, _ to: Int) throws -> Double {
      guard let start = gatheredStart[bucket] else { throw NotExact() }
      var s = 0.0
      for r in from..<to { s += Double(floatFromKey(gathered[start + r - prefix[bucket]])) }
      return s
    }
    var sum: Double
    if first == last {
      sum = try partial(first, a, b)
    } else {
      sum = try partial(first, a, prefix[first + 1])
      for bucket in (first + 1)..<last { sum += sums[bucket] }
      sum += try partial(last, prefix[last], b)
    }
    return sum
  }

  /// The keys of every bucket from the one holding rank `a` to the one holding rank `b − 1`, gathered from the
  /// regions (one key-range pass) and sorted on `threads` workers, and where rank `a` sits in them: `s[a:b]` is
  /// `keys[offset ..< offset + b - a]`. Positive keys only (a bucket range is then a key range).
  func sortedBuckets(covering a: Int, _ b: Int, threads: Int) -> (keys: [UInt32], offset: Int) {
    let first = Self.bucket(of: a, prefix: prefix), last = Self.bucket(of: b - 1, prefix: prefix)
    let (low, high) = Self.keys(ofBuckets: first, last)
    let total = prefix[last + 1] - prefix[first]
    let gathered = [UInt32](unsafeUninitializedCapacity: total + 16) { out, count in
      var k = 0
      for region in regions where region.count > 0 {
        k += spiqa_quant_gather_intervals(region.baseAddress!, region.count, [low], [high], 1, out.baseAddress! + k)
      }
      count = k
    }
    return gathered.withUnsafeBufferPointer { (sortedKeys([$0], threads: threads), a - prefix[first]) }
  }
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
  starts.withUnsafeBufferPointer { s in
    values.withUnsafeBufferPointer { v in
      for r in 0..<rows {
        let row = base + r * stride
        var i = 0
        while i < n {
          i += spiqa_quant_steps(row + i, n - i, s.baseAddress!, v.baseAddress!, Int32(v.count))
          if i < n {
            row[i] = otherwise(row[i])
            i += 1
          }
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
