import CCPU
import SpiqaModel
import SpiqaTestSupport
import Testing

/// The P·V kernels that skip zeros or work from the codes (`BlockProduct`) against sgemm on the same values, at
/// every ISA level, for head sizes with and without vector tails and rows longer than the kernels' stack lists.
@Suite struct AttentionProductTests {
  /// A block `[t, t]` whose real `[n, n]` rows are softmax-like (about 60% of entries below 1e-3), padding 0.
  static func probs(n: Int, t: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix(seed)
    var p = [Float](repeating: 0, count: t * t)
    for r in 0..<n {
      var sum: Float = 0
      for c in 0..<n {
        let u = rng.unit()
        p[r * t + c] = u < 0.6 ? u * 1e-3 : 1e-3 + u * u
        sum += p[r * t + c]
      }
      for c in 0..<n where p[r * t + c] >= 1e-3 { p[r * t + c] /= sum / 4 }
      for c in 0..<n { p[r * t + c] = min(p[r * t + c], 0.999) }
    }
    return p
  }

  /// V `[n, ld]` with its head at column `offset`.
  static func values(n: Int, ld: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix(seed)
    return (0..<(n * ld)).map { _ in rng.unit() * 2 - 1 }
  }

  /// Log-pruned-like codes: 0 below 1e-3, then 7 levels.
  static let codes = ProductCodes(
    starts: [0, Float(1e-3).bitPattern, Float(0.003).bitPattern, Float(0.01).bitPattern, Float(0.03).bitPattern,
             Float(0.08).bitPattern, Float(0.2).bitPattern, Float(0.5).bitPattern],
    values: [0, 0.0016, 0.0044, 0.0118, 0.0316, 0.0848, 0.2276, 0.6105], atOne: 0.6105)!

  static func quantized(_ x: Float, pruneBelow: Float) -> Float {
    if x < pruneBelow { return 0 }
    if x == 1 { return codes.atOne }
    var j = 0
    for k in 1..<codes.starts.count where x.bitPattern >= codes.starts[k] { j = k }
    return codes.values[j]
  }

  /// Runs `kernel` and sgemm on `p` (after `transform`) and returns the largest difference and both nonzero counts.
  static func compare(
    n: Int, t: Int, d: Int, p: [Float], transform: (Float) -> Float, kernel: (BlockProduct) -> Int?
  ) -> (difference: Float, kept: Int?, nonzeros: Int) {
    let ld = 3 * d + 5, offset = 2
    let v = values(n: n, ld: ld, seed: 7)
    var q = p.map(transform)
    var p = p
    var expected = [Float](repeating: 0, count: n * d), got = [Float](repeating: .nan, count: n * d)
    var kept: Int?
    v.withUnsafeBufferPointer { vb in
      q.withUnsafeMutableBufferPointer { qb in
        expected.withUnsafeMutableBufferPointer { eb in
          BlockProduct(layer: 0, item: 0, head: 0, probs: qb.baseAddress!, n: n, seqLen: t,
                       values: vb.baseAddress! + offset, valuesStride: ld, headSize: d, out: eb.baseAddress!,
                       outStride: d).dense()
        }
      }
      p.withUnsafeMutableBufferPointer { pb in
        got.withUnsafeMutableBufferPointer { gb in
          kept = kernel(BlockProduct(layer: 0, item: 0, head: 0, probs: pb.baseAddress!, n: n, seqLen: t,
                                     values: vb.baseAddress! + offset, valuesStride: ld, headSize: d,
                                     out: gb.baseAddress!, outStride: d))
        }
      }
    }
    var nonzeros = 0
    for r in 0..<n { for c in 0..<n where q[r * t + c] != 0 { nonzeros += 1 } }
    let difference = zip(expected, got).map { abs($0 - $1) }.max() ?? 0
    return (difference, kept, nonzeros)
  }

  @Test(arguments: [(n: 37, t: 40, d: 32), (n: 128, t: 128, d: 8), (n: 100, t: 113, d: 12), (n: 64, t: 64, d: 64),
                    (n: 1100, t: 1100, d: 16), (n: 45, t: 50, d: 80), (n: 3, t: 5, d: 32), (n: 1, t: 1, d: 1)])
  func kernelsMatchSgemm(_ shape: (n: Int, t: Int, d: Int)) throws {
    let (n, t, d) = shape
    var p = Self.probs(n: n, t: t, seed: UInt64(n * 31 + d))
    p[0] = 1  // the input 1.0 has its own code
    // Each code's first input and the float below it, in the first rows (where a kernel off by one would show).
    let edges = Self.codes.starts.dropFirst().flatMap { [Float(bitPattern: $0), Float(bitPattern: $0 - 1)] }
    for (i, x) in edges.enumerated() where n >= 3 + edges.count { p[(i % 3) * t + 1 + i] = x }
    try forEachISA { isa in
      for threshold: Float in [0, 2e-3] {
        let sparse = Self.compare(n: n, t: t, d: d, p: p, transform: { $0 < threshold ? 0 : $0 }) {
          $0.sparse(pruneBelow: threshold)
        }
        #expect(sparse.difference <= 1e-5, "sparse, ISA \(isa), threshold \(threshold)")
        #expect(sparse.kept == sparse.nonzeros)
        let bits = threshold > 0 ? threshold.bitPattern : 0
        let exact = { (x: Float) in Self.quantized(x, pruneBelow: threshold) }
        let codes = Self.compare(n: n, t: t, d: d, p: p, transform: exact) { $0.codes(Self.codes, pruneBits: bits) }
        #expect(codes.difference <= 1e-5, "codes, ISA \(isa), threshold \(threshold)")
        #expect(codes.kept == codes.nonzeros)
        let sums = Self.compare(n: n, t: t, d: d, p: p, transform: exact) { $0.levelSums(Self.codes, pruneBits: bits) }
        #expect(sums.difference <= 1e-5, "level sums, ISA \(isa), threshold \(threshold)")
        #expect(sums.kept == sums.nonzeros)
        // Row groups read a block already pruned or quantized (in place, as the forward pass does).
        let quantized = p.map(exact)
        let groups = Self.compare(n: n, t: t, d: d, p: quantized, transform: { $0 }) { $0.rowGroups()?.nonzero }
        #expect(groups.difference <= 1e-5, "row groups, ISA \(isa), threshold \(threshold)")
        #expect(groups.kept == groups.nonzeros)
      }
    }
  }

  /// Row groups skip a column only when the whole group is 0 there: rows of a group that differ (one row empty,
  /// one with a single entry, a NaN) each get sgemm's products, and a NaN reaches its row as in sgemm.
  @Test func rowGroupsKeepEachRowsOwnEntries() throws {
    let n = 23, t = 24, d = 20
    var p = Self.probs(n: n, t: t, seed: 11)
    for c in 0..<n { p[4 * t + c] = 0 }  // an empty row inside a group
    for c in 0..<n { p[5 * t + c] = c == 17 ? 0.5 : 0 }  // a single entry
    for r in 8..<12 { for c in 0..<n { p[r * t + c] = 0 } }  // an empty group
    p[21 * t + 2] = .nan
    try forEachISA { isa in
      let r = Self.compare(n: n, t: t, d: d, p: p, transform: { $0 }) { $0.rowGroups()?.nonzero }
      #expect(r.kept == r.nonzeros, "ISA \(isa)")
      // compare() takes the largest difference, which NaN hides: check the rows one by one.
      var got = [Float](repeating: 0, count: n * d), expected = got
      let v = Self.values(n: n, ld: d, seed: 5)
      var q = p
      v.withUnsafeBufferPointer { vb in
        q.withUnsafeMutableBufferPointer { qb in
          let probs = qb.baseAddress!
          let block = { (out: UnsafeMutablePointer<Float>) in
            BlockProduct(layer: 0, item: 0, head: 0, probs: probs, n: n, seqLen: t, values: vb.baseAddress!,
                         valuesStride: d, headSize: d, out: out, outStride: d)
          }
          expected.withUnsafeMutableBufferPointer { block($0.baseAddress!).dense() }
          got.withUnsafeMutableBufferPointer { _ = block($0.baseAddress!).rowGroups() }
        }
      }
      for row in 0..<n {
        let e = expected[(row * d)..<(row * d + d)], g = got[(row * d)..<(row * d + d)]
        if row == 21 {
          #expect(g.allSatisfy { $0.isNaN }, "ISA \(isa): the NaN row")
        } else {
          #expect(zip(e, g).allSatisfy { abs($0 - $1) <= 1e-5 }, "ISA \(isa): row \(row)")
        }
        if row == 4 || (8..<12).contains(row) { #expect(g.allSatisfy { $0 == 0 }, "ISA \(isa): empty row \(row)") }
      }
    }
  }

  /// An entry the codes do not cover (negative, above 1, NaN) sends the block back to the caller.
  @Test func codesRefuseValuesOutsideTheUnitInterval() throws {
    let n = 40, t = 40, d = 16
    for bad: Float in [-0.25, 1.5, .nan, -0.0] {
      for position in [3, n * n - 1, 17 * t + 33] {
        var p = Self.probs(n: n, t: t, seed: 3)
        p[position] = bad
        try forEachISA { isa in
          let r = Self.compare(n: n, t: t, d: d, p: p, transform: { $0 }) { $0.codes(Self.codes) }
          // -0.0 has the sign bit: outside the codes too (the quantizer's formula maps it).
          #expect(r.kept == nil, "\(bad) at \(position), ISA \(isa)")
        }
      }
    }
  }

  @Test func codesRejectATableWithoutAZeroLevel() {
    #expect(ProductCodes(starts: [0, 5], values: [0.1, 0.2], atOne: 1) == nil)
    #expect(ProductCodes(starts: [0, 5, 9], values: [0, 0, 0.2], atOne: 1) == nil)
    #expect(ProductCodes(starts: [0, 9, 5], values: [0, 0.1, 0.2], atOne: 1) == nil)
    #expect(ProductCodes(starts: [0, 5], values: [0, 0.2], atOne: 0) != nil)
  }
}

/// SplitMix64 for test data.
private struct SplitMix {
  var state: UInt64
  init(_ seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
