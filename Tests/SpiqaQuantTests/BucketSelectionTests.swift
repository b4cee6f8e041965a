import Foundation
import SpiqaTestSupport
import Testing
@testable import SpiqaQuant

/// The clamped methods' statistics from bucket counts (no sort) equal the sorted path's bit for bit — thresholds,
/// float64 bin means, count and levels — on scopes from a handful of values to a whole padded layer, and the
/// selection declines (the sort runs) where the float64 sums could round.
@Suite struct BucketSelectionTests {
  static let sizes: [(rows: Int, n: Int)] = [(1, 7), (3, 40), (64, 37), (384, 128), (2_000, 320)]

  /// At every ISA level: the keys are gathered by interval (up to 8 of them, AVX2 and AVX-512) or by a bucket table
  /// (more intervals, and always in portable C); 1 to 6 bits want from a few intervals to dozens.
  @Test(arguments: [QuantMethod.uniformSlinearClampedMean, .uniformSlogClampedMean])
  func selectionEqualsSort(method: QuantMethod) throws {
    try forEachISA { isa in try selectionEqualsSort(method: method, isa: isa) }
  }

  func selectionEqualsSort(method: QuantMethod, isa: Int32) throws {
    for (k, size) in Self.sizes.enumerated() {
      for scale in [1.0, 3.0, 8.0] {
        var x = randomSoftmax(rows: size.rows, n: size.n, seed: UInt64(k * 31 + Int(scale)), scale: scale)
        for bits in 1...6 {
          let parts = x.withUnsafeMutableBufferPointer { [$0] }
          let sorted = Result { try dataDependentStatistics(method: method, bits: bits, parts: parts, selection: false) }
          let picked = Result { try dataDependentStatistics(method: method, bits: bits, parts: parts, selection: true) }
          switch (sorted, picked) {
          case (.success(let a), .success(let b)):
            #expect(a.thresholds.map(\.bitPattern) == b.thresholds.map(\.bitPattern), "\(method.rawValue) b=\(bits) \(size) ISA \(isa)")
            #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern), "\(method.rawValue) b=\(bits) \(size) ISA \(isa)")
            #expect(a.count == b.count && a.levels == b.levels)
          case (.failure, .failure):
            break  // the reference's own failure (too few values), in both
          default:
            Issue.record("\(method.rawValue) b=\(bits) \(size) ISA \(isa): one path failed: \(sorted) vs \(picked)")
          }
        }
      }
    }
  }

  /// A bin whose float64 sum could round (here: a million values spanning 1e-3…1) is not taken from the buckets.
  @Test func declinesWhenTheSumCouldRound() throws {
    var keys: [UInt32] = []
    for i in 0..<1_200_000 {
      let u = Double((i &* 2_654_435_761) % 1_000_003) / 1_000_003.0
      let v = Float(0.001 + 0.999 * u)
      keys.append(sortKey(v))
    }
    let picked = try #require(BucketSelection(keys: keys, ranks: [0, 600_000, 599_999, 1_199_999]))
    #expect(throws: BucketSelection.NotExact.self) { try picked.mean(0, 1_200_000) }
    // A small bin of the same data is exact, and equals the sorted mean.
    var sorted = keys
    radixSort(&sorted)
    let m = try picked.mean(0, 600_000)
    let expected = sorted.withUnsafeBufferPointer { numpyMean($0, 0, 600_000) }
    #expect(m.bitPattern == expected.bitPattern)
  }
}
