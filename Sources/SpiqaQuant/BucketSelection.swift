import CQuantKernels
import SpiqaCore
import Synchronization

/// Order statistics and bin means of positive float32 values without sorting them all (docs/quantizers.md, "How the
/// statistics are computed"): keys are counted by bucket — a positive float's exponent and top 7 mantissa bits
/// (`SPIQA_QUANT_BUCKETS`) — and only the buckets that hold a wanted rank, or a bin that must be summed in numpy's
/// order, are gathered and sorted.

/// Per-bucket counts of sort keys and the sums of their low 16 bits. For positive floats a bucket's values are its
/// lowest value plus multiples of one ulp, so the two give the bucket's exact sum (`sum(ofBucket:)`) whatever the
/// order the keys were counted in — by any number of threads, each into its own histogram, added up afterwards.
final class BucketHistogram: @unchecked Sendable {
  static let buckets = Int(SPIQA_QUANT_BUCKETS)
  let counts: UnsafeMutablePointer<UInt32>
  let lowSums: UnsafeMutablePointer<UInt64>
  /// The smallest and largest key counted (UInt32.max and 0 when none).
  private let bounds: UnsafeMutablePointer<UInt32>
  private(set) var keyCount = 0

  init() {
    counts = .allocate(capacity: Self.buckets)
    counts.initialize(repeating: 0, count: Self.buckets)
    lowSums = .allocate(capacity: Self.buckets)
    lowSums.initialize(repeating: 0, count: Self.buckets)
    bounds = .allocate(capacity: 2)
    bounds[0] = .max
    bounds[1] = 0
  }

  deinit {
    counts.deallocate()
    lowSums.deallocate()
    bounds.deallocate()
  }

  var smallest: UInt32 { bounds[0] }
  var largest: UInt32 { bounds[1] }

  static func bucket(ofKey key: UInt32) -> Int { Int((key >> 16) & UInt32(buckets - 1)) }

  func add(_ keys: UnsafePointer<UInt32>, count: Int) {
    guard count > 0 else { return }
    spiqa_quant_bucket_count(keys, count, counts, lowSums, bounds)
    keyCount += count
  }

  /// Adds `other`'s counts to these and clears `other`.
  func absorb(_ other: BucketHistogram) {
    guard other.keyCount > 0 else { return }
    for b in other.usedBuckets {
      counts[b] &+= other.counts[b]
      lowSums[b] &+= other.lowSums[b]
    }
    bounds[0] = min(bounds[0], other.smallest)
    bounds[1] = max(bounds[1], other.largest)
    keyCount += other.keyCount
    other.clear()
  }

  /// The buckets that may be non-zero: between the smallest and the largest key's when every key is of a
  /// non-negative float (their buckets grow with the key), else all.
  var usedBuckets: Range<Int> {
    guard keyCount > 0 else { return 0..<0 }
    guard smallest >= 0x8000_0000 else { return 0..<Self.buckets }
    return Self.bucket(ofKey: smallest)..<(Self.bucket(ofKey: largest) + 1)
  }

  func clear() {
    let used = usedBuckets
    if !used.isEmpty {
      (counts + used.lowerBound).update(repeating: 0, count: used.count)
      (lowSums + used.lowerBound).update(repeating: 0, count: used.count)
    }
    bounds[0] = .max
    bounds[1] = 0
    keyCount = 0
  }

  /// The exact sum of bucket `b`'s values, when every key counted is of a positive float and the bucket holds fewer
  /// than 2^29 values: count · lowest value (8 significant bits) + low-bit sum · ulp, both exact, and their sum
  /// spans fewer than 53 bits.
  func sum(ofBucket b: Int) -> Double {
    let lowest = Double(Float(bitPattern: UInt32(b) << 16))
    let ulp = Double(sign: .plus, exponent: max(b >> 7, 1) - 150, significand: 1)
    return Double(counts[b]) * lowest + Double(lowSums[b]) * ulp
  }
}

/// Histograms for the blocks of one scope, counted on several threads at once (phase 1 of a blockwise quantizer):
/// a block borrows an idle histogram, so there are as many as blocks were counted at the same time, and the
/// statistics add them up (`merged`). Reused scope after scope; `clear` empties it.
public final class BucketHistogramPool: Sendable {
  private struct State: ~Copyable {
    var idle: [BucketHistogram] = []
    var all: [BucketHistogram] = []
  }
  private let state = Mutex(State())

  public init() {}

  /// Runs `body` with a histogram no other thread is using.
  func withHistogram<R>(_ body: (BucketHistogram) -> R) -> R {
    let histogram = state.withLock { s in
      if let h = s.idle.popLast() { return h }
      let h = BucketHistogram()
      s.all.append(h)
      return h
    }
    defer { state.withLock { $0.idle.append(histogram) } }
    return body(histogram)
  }

  /// Every key counted since the last `clear`, in one histogram (the others emptied into it); nil when none.
  /// Not while blocks are being counted.
  func merged() -> BucketHistogram? {
    let all = state.withLock { $0.all }
    guard let first = all.first(where: { $0.keyCount > 0 }) else { return nil }
    for h in all where h !== first { first.absorb(h) }
    return first
  }

  /// Empties every histogram (cheap when they are empty). Not while blocks are being counted.
  public func clear() {
    for h in state.withLock({ $0.all }) { h.clear() }
  }
}

/// The first stage of a selection: a scope's keys counted by bucket, and where each bucket starts in sorted order.
struct BucketCounts {
  let histogram: BucketHistogram
  /// The keys lie in buckets `first ..< first + prefix.count - 1`; `prefix[i]` counts the keys of the buckets
  /// before `first + i`.
  let first: Int
  let prefix: [Int]

  /// nil unless every key is of a positive finite float (a negative value's key, or -0.0's, aliases a positive
  /// bucket; +inf and NaN have buckets of their own) and the 32-bit counts cannot have wrapped.
  init?(histogram: BucketHistogram) {
    let used = histogram.usedBuckets
    guard histogram.keyCount <= Int(UInt32.max),
      histogram.keyCount == 0 || (histogram.smallest > sortKey(0) && histogram.largest < sortKey(.infinity))
    else { return nil }
    var prefix = [Int](repeating: 0, count: used.count + 1)
    var at = 0
    for (i, b) in used.enumerated() {
      at += Int(histogram.counts[b])
      prefix[i + 1] = at
    }
    self.histogram = histogram
    first = used.lowerBound
    self.prefix = prefix
  }

  /// Counts the keys of `regions` (on `threads` workers when there are many).
  init?(regions: [UnsafeBufferPointer<UInt32>], threads: Int) {
    let total = regions.reduce(0) { $0 + $1.count }
    let pieces = splitKeys(regions, into: total >= 1 << 16 ? max(1, threads) : 1)
    let histograms = pieces.map { _ in BucketHistogram() }
    Parallel.forEach(pieces.count) { p in
      for region in pieces[p] where region.count > 0 { histograms[p].add(region.baseAddress!, count: region.count) }
    }
    for h in histograms.dropFirst() { histograms[0].absorb(h) }
    self.init(histogram: histograms[0])
  }

  /// The counts of `regions`: `counted` when it holds them (phase 1 counted them), else counted here.
  init?(regions: [UnsafeBufferPointer<UInt32>], counted: BucketHistogram?, threads: Int) {
    if let counted {
      let total = regions.reduce(0) { $0 + $1.count }
      assert(counted.keyCount == total, "a histogram of other keys")
      if counted.keyCount == total {
        self.init(histogram: counted)
        return
      }
    }
    self.init(regions: regions, threads: threads)
  }

  var keyCount: Int { prefix[prefix.count - 1] }

  /// The bucket holding rank `r` (0 ≤ r < keyCount): the last bucket whose keys start at or before r.
  func bucket(of r: Int) -> Int {
    var lo = 0, hi = prefix.count - 1
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if prefix[mid] <= r { lo = mid } else { hi = mid }
    }
    return first + lo
  }

  /// Rank of bucket `b`'s first key.
  func start(ofBucket b: Int) -> Int { prefix[b - first] }

  /// Keys in buckets `a...b`.
  func count(ofBuckets a: Int, _ b: Int) -> Int { prefix[b - first + 1] - prefix[a - first] }

  /// False when the float64 sum of `s[a:b]` (ranks) is certainly exact in any order, judged by its buckets' extreme
  /// values: count · largest < 2^52 · ulp(smallest), the bound of `BucketSelection.exactSum`. A bucket's values share
  /// their ulp, so only the largest is an over-estimate.
  func mayRound(_ a: Int, _ b: Int) -> Bool {
    let low = bucket(of: a), high = bucket(of: b - 1)
    let ulp = Float(bitPattern: UInt32(low) << 16).ulp
    let largest = Double(Float(bitPattern: UInt32(high) << 16 | 0xFFFF))
    return !(Double(b - a) * largest < 0x1p52 * Double(ulp))
  }
}

/// Order statistics and bin sums of a scope's keys (positive floats) from their bucket counts: the buckets holding
/// a wanted rank, and those of a rank range that must be summed in order, are gathered from the keys and sorted;
/// every other bucket is only counted.
///
/// A mean is numpy's (pairwise float64 sum of the sorted values, divided by the count) from the bucket sums only
/// when every partial sum is exact, whatever the order: all values of a bin are multiples of the ulp of its
/// smallest, so that holds when count · largest < 2^52 · ulp(smallest). For values > 1e-3 that is any bin of fewer
/// than ~500,000 values; beyond, `mean` throws `NotExact` and the caller sorts.
struct BucketSelection {
  struct NotExact: Error {}

  let counts: BucketCounts
  /// The sorted keys of the gathered buckets: runs of consecutive buckets, in bucket order.
  private let gathered: [UInt32]
  /// The gathered runs of buckets and where each starts in `gathered`, ascending.
  private let runs: [(buckets: ClosedRange<Int>, offset: Int)]

  /// nil when the keys are not all of positive finite floats.
  init?(keys: [UInt32], ranks: [Int]) {
    let selection = keys.withUnsafeBufferPointer { Self(regions: [$0], ranks: ranks) }
    guard let selection else { return nil }
    self = selection
  }

  /// The keys of several unsorted regions taken together, counted here.
  init?(regions: [UnsafeBufferPointer<UInt32>], ranks: [Int], threads: Int = 1) {
    guard let counts = BucketCounts(regions: regions, threads: threads) else { return nil }
    self.init(counts: counts, regions: regions, ranks: ranks, threads: threads)
  }

  /// Gathers from `regions` (whose keys `counts` counted) the buckets holding the ranks `ranks` and every bucket of
  /// the ranks `covering`, in one pass over the keys (cut into pieces for `threads` workers when there are many),
  /// and sorts them on one thread (two workers each sorting half the buckets measured no faster on the 2-core VM
  /// at the ~40K keys of a SQuAD layer).
  init(
    counts: BucketCounts, regions: [UnsafeBufferPointer<UInt32>], ranks: [Int], covering: Range<Int>? = nil,
    threads: Int = 1
  ) {
    // The wanted buckets as runs of consecutive buckets (merged where they touch), and where each run starts among
    // the gathered keys.
    var wanted = ranks.filter { $0 >= 0 && $0 < counts.keyCount }.map { counts.bucket(of: $0) }.map { $0...$0 }
    if let covering, !covering.isEmpty {
      wanted.append(counts.bucket(of: covering.lowerBound)...counts.bucket(of: covering.upperBound - 1))
    }
    var runs: [(buckets: ClosedRange<Int>, offset: Int)] = []
    var total = 0
    for r in wanted.sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = runs.last, r.lowerBound <= last.buckets.upperBound + 1 {
        guard r.upperBound > last.buckets.upperBound else { continue }
        total += counts.count(ofBuckets: last.buckets.upperBound + 1, r.upperBound)
        runs[runs.count - 1].buckets = last.buckets.lowerBound...r.upperBound
      } else {
        runs.append((r, total))
        total += counts.count(ofBuckets: r.lowerBound, r.upperBound)
      }
    }
    // One pass over the keys, cut into one piece per worker; each piece gathers into its own stretch of the buffer,
    // then the stretches close up and are sorted.
    let pieces = splitKeys(regions, into: counts.keyCount >= 1 << 16 ? max(1, threads) : 1)
    let intervals = runs.map { Self.keys(ofBuckets: $0.buckets.lowerBound, $0.buckets.upperBound) }
    let lows = intervals.map(\.low), highs = intervals.map(\.high)
    // Few intervals: compared with each key, 8 or 16 keys at a time; more (or no vector kernels): a table of buckets.
    let byIntervals = intervals.count <= Int(spiqa_quant_gather_intervals_max())
    var mask: [UInt8] = []
    if !byIntervals {
      mask = [UInt8](repeating: 0, count: BucketHistogram.buckets)
      for run in runs { for b in run.buckets { mask[b] = 1 } }
    }
    // Room for every key of a piece, and the 16 more the kernels may store, whatever the keys are.
    var pieceStart = [0]
    for piece in pieces { pieceStart.append(pieceStart.last! + piece.reduce(0) { $0 + $1.count } + 16) }
    var gathered = [UInt32](unsafeUninitializedCapacity: pieceStart.last!) { out, count in
      var kept = [Int](repeating: 0, count: pieces.count)
      let o = UncheckedSendable(out.baseAddress!)
      kept.withUnsafeMutableBufferPointer { kept in
        let kept = UncheckedSendable(kept.baseAddress!)
        Parallel.forEach(pieces.count) { p in
          var k = 0
          for region in pieces[p] where region.count > 0 && !intervals.isEmpty {
            let out = o.value + pieceStart[p] + k
            k += byIntervals
              ? spiqa_quant_gather_intervals(region.baseAddress!, region.count, lows, highs, Int32(lows.count), out)
              : spiqa_quant_gather_buckets(region.baseAddress!, region.count, mask, out)
          }
          kept.value[p] = k
        }
      }
      var k = kept[0]
      for p in 1..<pieces.count {
        // Moving down within one buffer: a forward copy is safe where the stretches overlap.
        for i in 0..<kept[p] { o.value[k + i] = o.value[pieceStart[p] + i] }
        k += kept[p]
      }
      count = k
    }
    precondition(gathered.count == total, "the keys are not the ones counted")
    radixSort(&gathered)
    self.counts = counts
    self.gathered = gathered
    self.runs = runs
  }

  /// The keys of positive floats in buckets `first...last`, as one closed key interval.
  private static func keys(ofBuckets first: Int, _ last: Int) -> (low: UInt32, high: UInt32) {
    (0x8000_0000 | UInt32(first) << 16, 0x8000_0000 | UInt32(last) << 16 | 0xFFFF)
  }

  /// Where rank `r`'s key is in `gathered`, when its bucket was gathered.
  private func gatheredIndex(_ r: Int) -> Int? {
    let b = counts.bucket(of: r)
    var lo = 0, hi = runs.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if runs[mid].buckets.upperBound < b { lo = mid + 1 } else { hi = mid }
    }
    guard lo < runs.count, runs[lo].buckets.contains(b) else { return nil }
    return runs[lo].offset + r - counts.start(ofBucket: runs[lo].buckets.lowerBound)
  }

  /// Value of rank `r` in sorted order. Throws `NotExact` for a rank whose bucket was not gathered.
  func value(_ r: Int) throws -> Double {
    guard let i = gatheredIndex(r) else { throw NotExact() }
    return Double(floatFromKey(gathered[i]))
  }

  /// `np.mean(s[a:b])`; throws `NotExact` when the float64 sum could round.
  func mean(_ a: Int, _ b: Int) throws -> Double {
    (0.0 + (try exactSum(a, b))) / Double(b - a)
  }

  /// The sum of `s[a:b]`, which is what any summation order gives when every partial sum is exact; throws
  /// `NotExact` otherwise (or when a needed bucket was not gathered: ranks a and b − 1 must have been asked for).
  func exactSum(_ a: Int, _ b: Int) throws -> Double {
    let smallest = Float(try value(a)), largest = try value(b - 1)
    guard smallest > 0, Double(b - a) * largest < 0x1p52 * Double(smallest.ulp) else { throw NotExact() }
    return try bucketSum(a, b).sum
  }

  /// The float64 sum of `s[a:b]` in bucket order: the first and last buckets' gathered keys one by one, the buckets
  /// between from their exact sums (`BucketHistogram.sum(ofBucket:)`); with the number of roundings it may have made
  /// (`terms`: one per key added, three per whole bucket). Throws `NotExact` when rank a's or b − 1's bucket was
  /// not gathered.
  private func bucketSum(_ a: Int, _ b: Int) throws -> (sum: Double, terms: Int) {
    let first = counts.bucket(of: a), last = counts.bucket(of: b - 1)
    var terms = 0
    func partial(_ from: Int, _ to: Int) throws -> Double {
      guard let i = gatheredIndex(from) else { throw NotExact() }
      var s = 0.0
      for j in 0..<(to - from) { s += Double(floatFromKey(gathered[i + j])) }
      terms += to - from
      return s
    }
    if first == last { return (try partial(a, b), terms) }
    var sum = try partial(a, counts.start(ofBucket: first + 1))
    for bucket in (first + 1)..<last { sum += counts.histogram.sum(ofBucket: bucket) }
    terms += 3 * (last - first - 1)
    sum += try partial(counts.start(ofBucket: last), b)
    return (sum, terms)
  }

  /// `np.mean` of `count − (b − a)` zeros followed by `s[a:b]`, as the float32 the cascade casts it to, from bucket
  /// sums instead of numpy's pairwise sum over the sorted values (`uniform_slog_mean`'s lowest bins, whose float64
  /// sum may round). Every term is positive, so the float64 sum here is within `(terms + 2)·u` of the exact sum
  /// (u = 2^-53; a bucket's sum costs two roundings), and numpy's pairwise sum within `(depth + 26)·u` (leaves of
  /// at most 16 sequential adds per accumulator, 3 adds joining the eight, up to 7 left over, one level per
  /// halving); one more rounding each for the two divisions. When every float64 in that interval rounds to the same
  /// float32 (round to nearest is monotone), that float32 is what the reference's float64 mean becomes. Throws
  /// `NotExact` when the interval straddles a float32 rounding boundary (rare: it is ~10^-12 of the mean wide, a
  /// float32 step 6·10^-8) or a bucket of rank a or b − 1 was not gathered; the caller then sorts.
  func float32Mean(_ a: Int, _ b: Int, count: Int) throws -> Float {
    let (sum, terms) = try bucketSum(a, b)
    let depth = Int.bitWidth - count.leadingZeroBitCount
    let radius = Double(terms + depth + 40) * 0x1p-53 * 1.5
    let mean = sum / Double(count)
    let low = Float(mean * (1 - radius)), high = Float(mean * (1 + radius))
    guard low == high, low.isFinite else { throw NotExact() }
    return low
  }

  /// `body` on the sorted keys `s[a:b]`; throws `NotExact` unless every bucket they lie in was gathered (the ranks
  /// `covering` asked for them).
  func withSortedKeys<R>(_ a: Int, _ b: Int, _ body: (UnsafePointer<UInt32>) -> R) throws -> R {
    guard let i = gatheredIndex(a), let j = gatheredIndex(b - 1), j - i == b - 1 - a else { throw NotExact() }
    return gathered.withUnsafeBufferPointer { body($0.baseAddress! + i) }
  }
}
