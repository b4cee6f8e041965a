import CQuantKernels
import SpiqaCore

/// Sorting and summing helpers that reproduce numpy float64 statistics over float32 data.

/// Order-preserving UInt32 key of a float32 (negative values flipped), so integer order = numeric order
/// (NaN with the sign bit set sorts first, other NaN last, like numpy's sort puts NaN last).
@inline(__always)
func sortKey(_ x: Float) -> UInt32 {
  let u = x.bitPattern
  return (u & 0x8000_0000) != 0 ? ~u : u | 0x8000_0000
}

/// Inverse of `sortKey`.
@inline(__always)
func floatFromKey(_ k: UInt32) -> Float {
  Float(bitPattern: (k & 0x8000_0000) != 0 ? k & 0x7FFF_FFFF : ~k)
}

/// Sorts UInt32 keys ascending: LSD radix sort, stable, in C (`spiqa_quant_radix_sort`); short arrays by `sort`.
func radixSort(_ keys: inout [UInt32]) {
  let n = keys.count
  if n < 2 { return }
  if n < 256 { keys.sort(); return }
  var scratch = [UInt32](unsafeUninitializedCapacity: n) { _, count in count = n }
  keys.withUnsafeMutableBufferPointer { k in
    scratch.withUnsafeMutableBufferPointer { s in spiqa_quant_radix_sort(k.baseAddress!, s.baseAddress!, n) }
  }
}

/// numpy's pairwise summation (`pairwise_sum_DOUBLE`, block 128, 8-way unrolled) of float32 values taken from
/// sorted keys, converted to float64, plus numpy's reduction start `0.0 + …`. Matches `np.sum` bit for bit. The
/// readable form of `spiqa_quant_pairwise_sum` (what `SortedScope` uses), kept for the tests to check it against.
func numpyPairwiseSum(_ keys: UnsafeBufferPointer<UInt32>) -> Double {
  @inline(__always) func at(_ i: Int) -> Double { Double(floatFromKey(keys[i])) }
  func pw(_ lo: Int, _ n: Int) -> Double {
    if n < 8 {
      var res = 0.0
      for i in 0..<n { res += at(lo + i) }
      return res
    } else if n <= 128 {
      var r0 = at(lo), r1 = at(lo + 1), r2 = at(lo + 2), r3 = at(lo + 3)
      var r4 = at(lo + 4), r5 = at(lo + 5), r6 = at(lo + 6), r7 = at(lo + 7)
      var i = 8
      while i < n - (n % 8) {
        r0 += at(lo + i); r1 += at(lo + i + 1); r2 += at(lo + i + 2); r3 += at(lo + i + 3)
        r4 += at(lo + i + 4); r5 += at(lo + i + 5); r6 += at(lo + i + 6); r7 += at(lo + i + 7)
        i += 8
      }
      var res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
      while i < n { res += at(lo + i); i += 1 }
      return res
    } else {
      var n2 = n / 2
      n2 -= n2 % 8
      return pw(lo, n2) + pw(lo + n2, n - n2)
    }
  }
  return 0.0 + pw(0, keys.count)
}

/// `np.mean(s[start:end])` of sorted float32 values (as float64).
func numpyMean(_ keys: UnsafeBufferPointer<UInt32>, _ start: Int, _ end: Int) -> Double {
  let slice = UnsafeBufferPointer(rebasing: keys[start..<end])
  return numpyPairwiseSum(slice) / Double(end - start)
}

/// A scope's values sorted as numpy's `sort` leaves them, with its +0.0 values counted instead of stored (most of a
/// padded layer for uniform_slog_mean): `keys[..<zerosAt]` (the negative values, -0.0 included), then `zeros`
/// times +0.0, then `keys[zerosAt...]`. Reads ranks and bin means without materialising the zeros.
struct SortedScope {
  /// Sort keys of every value but +0.0, ascending.
  let keys: [UInt32]
  let zeros: Int
  let zerosAt: Int

  init(sortedKeys: [UInt32], zeros: Int) {
    keys = sortedKeys
    self.zeros = zeros
    let zeroKey = sortKey(0)
    zerosAt = sortedKeys.partitioningIndex { $0 > zeroKey }
  }

  /// Number of values (zeros included).
  var count: Int { keys.count + zeros }

  /// `s[i]` as float64.
  func value(_ i: Int) -> Double {
    if i < zerosAt { return Double(floatFromKey(keys[i])) }
    if i < zerosAt + zeros { return 0 }
    return Double(floatFromKey(keys[i - zeros]))
  }

  /// `np.mean(s[a:b])`: numpy's pairwise float64 sum (after its reduction start `0.0 + …`), divided by the count.
  func mean(_ a: Int, _ b: Int) -> Double {
    let sum = keys.withUnsafeBufferPointer { k in
      spiqa_quant_pairwise_sum(k.baseAddress ?? UnsafePointer(bitPattern: 1)!, zerosAt, zeros, a, b - a)
    }
    return (0.0 + sum) / Double(b - a)
  }
}

/// The keys of several regions, together, sorted ascending (same result as concatenating and `radixSort`).
///
/// With `threads` > 1 and at least 2^18 keys, in parallel: the regions are cut into one piece per worker, each piece
/// counts its keys' first digits (top 11 bits: sign, exponent, two mantissa bits) and scatters them to where
/// that digit's keys go, then the workers sort disjoint runs of digits by the remaining bits.
func sortedKeys(_ regions: [UnsafeBufferPointer<UInt32>], threads: Int) -> [UInt32] {
  let n = regions.reduce(0) { $0 + $1.count }
  var keys = [UInt32]()
  // Below ~256K keys waking the workers costs more than it saves (measured on the lowest bins of uniform_slog_mean:
  // 47K keys sorted in 0.33 ms on two workers, 0.22 ms on one).
  guard threads > 1, n >= 1 << 18 else {
    keys.reserveCapacity(n)
    for r in regions { keys.append(contentsOf: r) }
    radixSort(&keys)
    return keys
  }
  let pieces = splitKeys(regions, into: threads)
  let digits = Int(SPIQA_QUANT_TOP_DIGITS)
  var counts = [Int](repeating: 0, count: threads * digits)
  counts.withUnsafeMutableBufferPointer { c in
    let c = UncheckedSendable(c.baseAddress!)
    Parallel.forEach(threads) { p in
      for r in pieces[p] where r.count > 0 { spiqa_quant_top_digit_counts(r.baseAddress!, r.count, c.value + p * digits) }
    }
  }
  // Digit d's keys start at bucketStart[d]; within it, piece p's at offsets[p][d].
  var offsets = [Int](repeating: 0, count: threads * digits)
  var bucketStart = [Int](repeating: 0, count: digits + 1)
  var at = 0
  for d in 0..<digits {
    bucketStart[d] = at
    for p in 0..<threads {
      offsets[p * digits + d] = at
      at += counts[p * digits + d]
    }
  }
  bucketStart[digits] = at
  // Disjoint runs of digits with about n / threads keys each.
  var runs: [Range<Int>] = []
  var first = 0
  for w in 0..<threads {
    var last = first
    let goal = (w + 1) * n / threads
    while last < digits && (w == threads - 1 || bucketStart[last + 1] <= goal || last == first) { last += 1 }
    runs.append(first..<last)
    first = last
  }
  keys = [UInt32](unsafeUninitializedCapacity: n) { out, count in
    var scratch = [UInt32](unsafeUninitializedCapacity: n) { _, c in c = n }
    let o = UncheckedSendable(out.baseAddress!)
    scratch.withUnsafeMutableBufferPointer { s in
      let s = UncheckedSendable(s.baseAddress!)
      offsets.withUnsafeMutableBufferPointer { off in
        let off = UncheckedSendable(off.baseAddress!)
        Parallel.forEach(threads) { p in
          for r in pieces[p] where r.count > 0 {
            spiqa_quant_scatter_top_digit(r.baseAddress!, r.count, off.value + p * digits, o.value)
          }
        }
      }
      Parallel.forEach(runs.count) { w in
        for d in runs[w] {
          let lo = bucketStart[d], m = bucketStart[d + 1] - lo
          if m > 1 { spiqa_quant_radix_sort(o.value + lo, s.value + lo, m) }
        }
      }
    }
    count = n
  }
  return keys
}

/// The keys of `regions` cut into `count` pieces of about equal size (one per worker), in order.
func splitKeys(_ regions: [UnsafeBufferPointer<UInt32>], into count: Int) -> [[UnsafeBufferPointer<UInt32>]] {
  let n = regions.reduce(0) { $0 + $1.count }
  var pieces = [[UnsafeBufferPointer<UInt32>]](repeating: [], count: max(1, count))
  guard count > 1, n > 0 else {
    pieces[0] = regions
    return pieces
  }
  var seen = 0
  for region in regions {
    var at = 0
    while at < region.count {
      let piece = min(count - 1, seen * count / n)
      let pieceEnd = (piece + 1) * n / count
      let take = piece == count - 1 ? region.count - at : min(region.count - at, max(1, pieceEnd - seen))
      pieces[piece].append(UnsafeBufferPointer(rebasing: region[at..<(at + take)]))
      at += take
      seen += take
    }
  }
  return pieces
}
