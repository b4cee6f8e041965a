import CCPU
import CStatKernels
import Foundation
import Testing

@testable import SpiqaStats
import SpiqaTestSupport

/// The float64 sums of the moments (`spiqa_row_sums_f64`, `spiqa_squared_deviations_f64`) give exactly the bits
/// of the plain loops that define them, at every ISA level, for any row length and any number of rows or blocks
/// (the vector paths take 16 rows, or 8 and 4 blocks, at a time and leave the rest to scalar code).
@Suite struct StatSumsTests {
  /// Attention-like values: mostly small, some exact zeros, a few near 1, spanning many exponents so that the
  /// float64 sums round differently in any other order.
  static func values(_ count: Int, seed: UInt64) -> [Float] {
    var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
      s ^= s << 13
      s ^= s >> 7
      s ^= s << 17
      let u = Double(s >> 11) / Double(1 << 53)
      return s % 7 == 0 ? 0 : Float(exp(-40 * u * u)) * (s % 5 == 0 ? 1 : 1e-3)
    }
  }

  static func rowSum(_ p: ArraySlice<Float>, pairs: Bool) -> Double {
    var even = 0.0
    var odd = 0.0
    for (k, v) in p.enumerated() {
      if pairs && k % 2 == 1 { odd += Double(v) } else { even += Double(v) }
    }
    return pairs ? even + odd : even
  }

  @Test(arguments: [1, 7, 8, 9, 64, 100, 384])
  func rowSumsMatchThePlainLoops(n: Int) throws {
    let rows = 37  // two groups of 16 and 5 rows left over
    let x = Self.values(rows * n, seed: UInt64(n))
    try forEachISA { isa in
      for pairs in [false, true] {
        var out = [Double](repeating: .nan, count: rows)
        BlockWorker.rowSums(x, n: n, rows: rows, pairs: pairs, into: &out)
        for r in 0..<rows {
          let want = Self.rowSum(x[(r * n)..<(r * n + n)], pairs: pairs)
          #expect(out[r].bitPattern == want.bitPattern, "isa \(isa) n \(n) row \(r) pairs \(pairs): \(out[r]) vs \(want)")
        }
      }
    }
  }

  @Test(arguments: [1, 3, 4, 5, 8, 13])
  func squaredDeviationsMatchThePlainLoop(blocks: Int) throws {
    let count = 1003  // not a multiple of 4
    let flat = Self.values(blocks * count, seed: UInt64(100 + blocks))
    var means: [Double] = []
    var want: [Double] = []
    for b in 0..<blocks {
      let block = flat[(b * count)..<((b + 1) * count)]
      let m = block.reduce(0.0) { $0 + Double($1) } / Double(count)
      var a = 0.0
      for v in block {
        let d = Double(v) - m
        a += d * d
      }
      means.append(m)
      want.append(a)
    }
    try forEachISA { isa in
      flat.withUnsafeBufferPointer { f in
        let pointers = (0..<blocks).map { f.baseAddress! + $0 * count }
        let got = BlockWorker.squaredDeviations(pointers, count: count, means: means)
        #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "isa \(isa), \(blocks) blocks")
      }
    }
  }
}
