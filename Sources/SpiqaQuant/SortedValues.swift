import CQuantKernels

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
/// sorted keys, converted to float64, plus numpy's reduction start `0.0 + …`. Matches `np.sum` bit for bit.
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
