import CQuantKernels
import Foundation
import SpiqaCore
import SpiqaTestSupport
import Testing
@testable import SpiqaQuant

/// uniform_slog_mean's fast statistics: the parallel sort equals the serial radix sort; a scope whose +0.0s are
/// only counted (`SortedScope`, the C pairwise kernel) reads the same ranks and bit-identical numpy means as the
/// materialised sorted array (the Swift `numpyMean`); and the bucket path (exact bins from bucket sums, the others
/// as the float32 their float64 mean becomes when bucket sums decide it, else sorted alone) gives the full sort's
/// statistics bit for bit, those bins' float64 values as that float32.
@Suite struct SortedScopeTests {
  /// Keys of softmax-like values with a few negatives, -0.0, NaN-free, split into uneven regions.
  static func keys(count: Int, seed: UInt64) -> [UInt32] {
    var state = seed
    return (0..<count).map { i -> UInt32 in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let u = Double(state >> 11) / Double(1 << 53)
      switch i % 97 {
      case 0: return sortKey(-Float(u))
      case 1: return sortKey(-0.0)
      case 2: return sortKey(Float(u) * 1e-38)  // subnormal and tiny
      default: return sortKey(Float(exp(-30 * u * u)))
      }
    }
  }

  static func regions(_ base: UnsafeBufferPointer<UInt32>, cuts: [Int]) -> [UnsafeBufferPointer<UInt32>] {
    var out: [UnsafeBufferPointer<UInt32>] = []
    var at = 0
    for c in cuts + [base.count] where c >= at {
      out.append(UnsafeBufferPointer(rebasing: base[at..<c]))
      at = c
    }
    return out
  }

  @Test(arguments: [1, 2, 3, 8])
  func parallelSortEqualsRadixSort(threads: Int) {
    for (count, seed) in [(10, 1), (40_000, 2), (300_001, 3)] as [(Int, UInt64)] {
      let keys = Self.keys(count: count, seed: seed)
      var expected = keys
      radixSort(&expected)
      keys.withUnsafeBufferPointer { k in
        let got = sortedKeys(Self.regions(k, cuts: [0, 3, count / 7, count / 7, count / 2]), threads: threads)
        #expect(got == expected, "\(count) keys, \(threads) threads")
      }
    }
    // All keys in one first digit (one worker sorts everything), and all equal.
    let narrow = (0..<300_000).map { sortKey(0.5 + Float($0 % 1_000) * 1e-6) }
    var expected = narrow
    radixSort(&expected)
    narrow.withUnsafeBufferPointer { k in
      #expect(sortedKeys(Self.regions(k, cuts: [100]), threads: threads) == expected)
    }
    let same = [UInt32](repeating: sortKey(0.25), count: 270_000)
    same.withUnsafeBufferPointer { k in #expect(sortedKeys(Self.regions(k, cuts: []), threads: threads) == same) }
  }

  @Test func countedZerosReadAsMaterialisedOnes() {
    for (count, zeros) in [(0, 5), (9, 0), (1_000, 3_000), (50_000, 20_001), (200_000, 123)] {
      var sorted = Self.keys(count: count, seed: UInt64(count + zeros))
      radixSort(&sorted)
      let scope = SortedScope(sortedKeys: sorted, zeros: zeros)
      var full = sorted
      full.insert(contentsOf: repeatElement(sortKey(0), count: zeros), at: scope.zerosAt)
      #expect(scope.count == full.count)
      full.withUnsafeBufferPointer { f in
        for i in stride(from: 0, to: full.count, by: max(1, full.count / 50)) {
          #expect(scope.value(i).bitPattern == Double(floatFromKey(f[i])).bitPattern)
        }
        let n = full.count
        let ranges = [(0, n), (0, n / 2), (n / 2, 3 * n / 4), (scope.zerosAt, scope.zerosAt + zeros), (1, 9),
                      (max(0, scope.zerosAt - 5), min(n, scope.zerosAt + zeros + 300)), (n - 130, n)]
        for (a, b) in ranges where 0 <= a && a < b && b <= n {
          #expect(scope.mean(a, b).bitPattern == numpyMean(f, a, b).bitPattern, "\(count)+\(zeros) zeros: [\(a), \(b))")
        }
      }
    }
  }

  /// The statistics of a padded layer: the blockwise form (keys without +0.0, zeros counted, on 1–3 workers) equals
  /// the whole-buffer `apply` on every method output.
  @Test func slogMeanFromRegionsEqualsWholeScope() throws {
    let layer = randomSoftmax(rows: 1_200, n: 128, seed: 7, scale: 6)
    let pool = BucketHistogramPool()  // reused scope after scope, as the forward pass does
    // Padding: zero the second half of every row (more than half the scope is 0, then less).
    for zeroFraction in [0.7, 0.3] {
      var x = layer
      for r in 0..<1_200 {
        for c in Int(128 * (1 - zeroFraction))..<128 { x[r * 128 + c] = 0 }
      }
      for bits in [1, 2, 3, 5] {
        let q = try AttentionQuantizer(method: .uniformSlogMean, bits: bits)
        let whole = try x.withUnsafeMutableBufferPointer { try dataDependentStatistics(method: .uniformSlogMean, bits: bits, parts: [$0]) }
        var keys = [UInt32](repeating: 0, count: x.count)
        let kept = x.withUnsafeBufferPointer { xb in
          keys.withUnsafeMutableBufferPointer { kb in
            q.statisticsKeys(xb.baseAddress!, rows: 1_200, columns: 128, stride: 128, into: kb.baseAddress!)
          }
        }
        for threads in [1, 2, 3] {
          let stats = try keys.withUnsafeBufferPointer { kb in
            try q.statistics(keys: [UnsafeBufferPointer(rebasing: kb[0..<(kept / 3)]),
                                    UnsafeBufferPointer(rebasing: kb[(kept / 3)..<kept])],
                             scopeSize: x.count, threads: threads)
          }
          #expect(stats == whole, "b=\(bits) zeros \(zeroFraction) threads \(threads)")
          #expect(q.cascade(stats).keepsZero == (zeroFraction > 0.5), "b=\(bits) zeros \(zeroFraction)")
          // Phase 1 counting: three blocks of rows count their keys on three threads into one pool.
          #expect(try Self.countedInPhaseOne(q, x, rows: 1_200, columns: 128, pool: pool, threads: threads) == whole,
                  "b=\(bits) zeros \(zeroFraction) threads \(threads), counted in phase 1")
        }
      }
    }
  }

  /// Several scopes at once (a pass's per-question scope groups, side by side on the workers) give each scope's own
  /// statistics, on 1–3 workers, with and without phase-1 counts, and the first failing scope's error.
  @Test func scopesSideBySideEqualOneByOne() throws {
    for method in [QuantMethod.uniformSlogMean, .uniformSlogClampedMean, .uniformSlinearClampedMean] {
      let q = try AttentionQuantizer(method: method, bits: 3)
      // Five scopes of different sizes and padding, keys collected as phase 1 does (counted into `pools[k]`).
      let layers = (0..<5).map { k in
        var x = randomSoftmax(rows: 100 + 60 * k, n: 64, seed: UInt64(40 + k), scale: 2 + Double(k))
        for r in 0..<(100 + 60 * k) { for c in (64 - 9 * k)..<64 { x[r * 64 + c] = 0 } }
        return x
      }
      let pools = (0..<5).map { _ in BucketHistogramPool() }
      func keys(_ k: Int, counting: Bool) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: layers[k].count)
        let kept = layers[k].withUnsafeBufferPointer { xb in
          out.withUnsafeMutableBufferPointer {
            q.statisticsKeys(xb.baseAddress!, rows: xb.count / 64, columns: 64, stride: 64, into: $0.baseAddress!,
                             counting: counting ? pools[k] : nil)
          }
        }
        return Array(out.prefix(kept))
      }
      func run(_ keys: [[UInt32]], sizes: [Int], counted: Bool, threads: Int) throws -> [QuantStatistics] {
        let all = Array(keys.joined())
        var starts = [0]
        for k in keys { starts.append(starts.last! + k.count) }
        return try all.withUnsafeBufferPointer { b in
          let scopes = (0..<keys.count).map {
            AttentionQuantizer.ScopeKeys(keys: [UnsafeBufferPointer(rebasing: b[starts[$0]..<starts[$0 + 1]])],
                                         scopeSize: sizes[$0], counted: counted ? pools[$0] : nil)
          }
          return try q.statistics(scopes: scopes, threads: threads)
        }
      }
      let sizes = layers.map(\.count)
      let plain = (0..<5).map { keys($0, counting: false) }
      let one = try (0..<5).map { k in
        try plain[k].withUnsafeBufferPointer { try q.statistics(keys: [$0], scopeSize: sizes[k]) }
      }
      for threads in [1, 2, 3] {
        #expect(try run(plain, sizes: sizes, counted: false, threads: threads) == one, "\(method) threads \(threads)")
        let counted = (0..<5).map { keys($0, counting: true) }
        #expect(try run(counted, sizes: sizes, counted: true, threads: threads) == one,
                "\(method) threads \(threads), counted in phase 1")
        #expect(pools.allSatisfy { $0.merged() == nil }, "the statistics empty the pools")
      }
      // A scope too small for its keys (uniform_slog_mean counts its zeros from the size) fails the whole call.
      if method == .uniformSlogMean {
        var small = sizes
        small[3] = 1
        #expect(throws: QuantError.self) { try run(plain, sizes: small, counted: false, threads: 2) }
      }
    }
  }

  /// The blockwise statistics of `x` (`rows × columns`) with its keys written and counted by three blocks of rows at
  /// once (phase 1), on `threads` workers. The pool must come back empty.
  static func countedInPhaseOne(
    _ q: AttentionQuantizer, _ x: [Float], rows: Int, columns: Int, pool: BucketHistogramPool, threads: Int
  ) throws -> QuantStatistics {
    var keys = [UInt32](repeating: 0, count: x.count)
    var kept = [0, 0, 0]
    let cuts = [0, rows / 3, rows / 2, rows]
    x.withUnsafeBufferPointer { xb in
      keys.withUnsafeMutableBufferPointer { kb in
        kept.withUnsafeMutableBufferPointer { kp in
          let xs = UnsafeMutablePointer(mutating: xb.baseAddress!), k = UncheckedSendable(kb.baseAddress!)
          let xp = UncheckedSendable(xs), kc = UncheckedSendable(kp.baseAddress!)
          Parallel.forEach(3) { b in
            let at = cuts[b] * columns
            kc.value[b] = q.statisticsKeys(xp.value + at, rows: cuts[b + 1] - cuts[b], columns: columns,
                                             stride: columns, into: k.value + at, counting: pool)
          }
        }
      }
    }
    let stats = try keys.withUnsafeBufferPointer { kb in
      try q.statistics(keys: (0..<3).map { UnsafeBufferPointer(rebasing: kb[(cuts[$0] * columns)..<(cuts[$0] * columns + kept[$0])]) },
                       scopeSize: x.count, threads: threads, counted: pool)
    }
    #expect(pool.merged() == nil, "the statistics empty the pool")
    return stats
  }

  /// Bucket path vs full sort on padded softmax layers: zeros above and below half the scope, logits spread from
  /// flat to peaky (bins of tiny values that must be sorted, and bins whose sums are exact), subnormals, ties.
  @Test func bucketPathEqualsFullSort() throws {
    var cases = 0
    var decidedFromBuckets = 0
    for (k, zeroFraction) in [0.0, 0.3, 0.49, 0.5, 0.51, 0.75, 0.97].enumerated() {
      for scale in [1.0, 4.0, 12.0] {
        var x = randomSoftmax(rows: 700, n: 96, seed: UInt64(k * 13) + UInt64(scale), scale: scale)
        let zeroColumns = Int(96 * zeroFraction)
        for r in 0..<700 {
          for c in (96 - zeroColumns)..<96 { x[r * 96 + c] = 0 }
          if r % 50 == 3 { x[r * 96] = Float.leastNonzeroMagnitude * Float(r) }  // subnormals
          if r % 7 == 1 { x[r * 96 + 1] = 0.125 }  // ties
        }
        for bits in [1, 2, 3, 4, 6] {
          let parts = x.withUnsafeMutableBufferPointer { [$0] }
          let sorted = Result { try dataDependentStatistics(method: .uniformSlogMean, bits: bits, parts: parts, selection: false) }
          let picked = Result { try dataDependentStatistics(method: .uniformSlogMean, bits: bits, parts: parts, selection: true) }
          switch (sorted, picked) {
          case (.success(let a), .success(let b)):
            #expect(a.thresholds.map(\.bitPattern) == b.thresholds.map(\.bitPattern), "zeros \(zeroFraction) scale \(scale) b=\(bits)")
            // Each float64 bin value is numpy's, or (a lowest bin decided from bucket sums) the float32 numpy's
            // becomes; the cascade sees the same float32 either way.
            #expect(a.values.count == b.values.count, "zeros \(zeroFraction) scale \(scale) b=\(bits)")
            for (v, w) in zip(a.values, b.values) where v.bitPattern != w.bitPattern {
              #expect(w.bitPattern == Double(Float(v)).bitPattern, "zeros \(zeroFraction) scale \(scale) b=\(bits): \(v) vs \(w)")
              decidedFromBuckets += 1
            }
            #expect(a.count == b.count && a.levels == b.levels)
            cases += 1
          case (.failure, .failure):
            break
          default:
            Issue.record("zeros \(zeroFraction) scale \(scale) b=\(bits): one path failed: \(sorted) vs \(picked)")
          }
        }
      }
    }
    #expect(cases > 90)
    #expect(decidedFromBuckets > 20, "the lowest bins' float32 means taken from bucket sums")
    // A negative value sends the bucket path to the full sort, with the same result.
    var y = randomSoftmax(rows: 40, n: 64, seed: 5)
    y[7] = -0.25
    let parts = y.withUnsafeMutableBufferPointer { [$0] }
    #expect(try dataDependentStatistics(method: .uniformSlogMean, bits: 3, parts: parts, selection: true)
            == dataDependentStatistics(method: .uniformSlogMean, bits: 3, parts: parts, selection: false))
  }

  /// Zeros counted without being there (`countedZeros`: padding trimmed away) give the statistics and levels of a
  /// scope that holds them, for uniform_slog_mean; the clamped methods ignore them.
  @Test(arguments: [QuantMethod.uniformSlogMean, .uniformSlogClampedMean])
  func countedZerosEqualZerosPresent(method: QuantMethod) throws {
    for (rows, padding) in [(40, 3_000), (40, 900), (10, 100_000)] {
      var real = randomSoftmax(rows: rows, n: 64, seed: UInt64(rows + padding))
      var present = real + [Float](repeating: 0, count: padding)
      let counted = try real.withUnsafeMutableBufferPointer {
        try AttentionQuantizer(method: method, bits: 3).apply([$0], countedZeros: padding)
      }
      let held = try present.withUnsafeMutableBufferPointer { try AttentionQuantizer(method: method, bits: 3).apply([$0]) }
      #expect(counted == held, "\(method.rawValue), \(padding) zeros")
      #expect(real == Array(present.prefix(real.count)), "\(method.rawValue), \(padding) zeros")
    }
  }

  /// The clamped methods' bucket counts and gathering split over workers give the one-worker statistics.
  @Test(arguments: [QuantMethod.uniformSlinearClampedMean, .uniformSlogClampedMean])
  func clampedStatisticsOnWorkers(method: QuantMethod) throws {
    var x = randomSoftmax(rows: 3_000, n: 200, seed: 11, scale: 2)
    let pool = BucketHistogramPool()
    let keys = x.withUnsafeMutableBufferPointer { unsortedKeys([$0], keepAll: false) }
    #expect(keys.count > 1 << 16)
    for bits in [2, 3, 5] {
      let one = try keys.withUnsafeBufferPointer { k in
        try clampedStatistics(method: method, bits: bits, regions: [UnsafeBufferPointer(rebasing: k[0..<100]),
                                                                    UnsafeBufferPointer(rebasing: k[100...])])
      }
      for threads in [2, 3] {
        let many = try keys.withUnsafeBufferPointer { k in
          try clampedStatistics(method: method, bits: bits, regions: [UnsafeBufferPointer(rebasing: k[0..<100]),
                                                                      UnsafeBufferPointer(rebasing: k[100...])],
                                threads: threads)
        }
        #expect(many == one, "\(method.rawValue) b=\(bits) threads \(threads)")
        let q = try AttentionQuantizer(method: method, bits: bits)
        #expect(try Self.countedInPhaseOne(q, x, rows: 3_000, columns: 200, pool: pool, threads: threads) == one,
                "\(method.rawValue) b=\(bits) threads \(threads), counted in phase 1")
      }
    }
  }

  /// The statistics keys are the same at every kernel ISA level (AVX-512 compresses 16 lanes at a time), for both
  /// tests (values > 1e-3, every value but +0.0), on values around 1e-3, zeros of both signs, negatives and NaN.
  @Test func keysAtEveryISALevel() throws {
    var x = randomSoftmax(rows: 50, n: 77, seed: 3, scale: 5)
    for i in stride(from: 0, to: x.count, by: 7) { x[i] = 1e-3 }
    for i in stride(from: 3, to: x.count, by: 11) { x[i] = Float(1e-3).nextUp }
    for i in stride(from: 5, to: x.count, by: 89) { x[i] = -0.0 }
    for i in stride(from: 6, to: x.count, by: 101) { x[i] = -x[i + 1] }
    for i in stride(from: 9, to: x.count, by: 997) { x[i] = .nan }
    for keepAll in [0, 1] as [Int32] {
      var results: [[UInt32]] = []
      try forEachISA { _ in
        var out = [UInt32](repeating: 0, count: x.count)
        let k = x.withUnsafeBufferPointer { xb in
          out.withUnsafeMutableBufferPointer { spiqa_quant_sort_keys(xb.baseAddress!, xb.count, $0.baseAddress!, keepAll, 1e-3) }
        }
        results.append(Array(out[..<k]))
      }
      let expected = x.compactMap { v -> UInt32? in
        (keepAll == 1 ? sortKey(v) != sortKey(0) : Double(v) > 1e-3) ? sortKey(v) : nil
      }
      for r in results { #expect(r == expected, "keep_all \(keepAll)") }
    }
    // The key-interval gather of the bucket path, at every level, with 1, 3 and 17 intervals (the last one scalar),
    // and with an empty interval (low above high), the ends of the key range and a wide one.
    let keys = x.map(sortKey)
    var cases: [(lows: [UInt32], highs: [UInt32])] = []
    for count in [1, 3, 17] {
      let lows: [UInt32] = (0..<count).map { j in sortKey(Float(1e-5) * Float(j * 3 + 1)) }
      let highs: [UInt32] = (0..<count).map { j in sortKey(Float(1e-5) * Float(j * 3 + 2)) }
      cases.append((lows, highs))
    }
    let edgeLows: [UInt32] = [sortKey(0.01), sortKey(0.5), 0, sortKey(1e-4)]
    let edgeHighs: [UInt32] = [sortKey(0.001), UInt32.max, sortKey(-0.0), sortKey(0.02)]
    cases.append((edgeLows, edgeHighs))
    for (lows, highs) in cases {
      let count = lows.count
      #expect(keys.contains { key in zip(lows, highs).contains { key >= $0 && key <= $1 } }, "a case that gathers")
      try forEachISA { isa in
        var out = [UInt32](repeating: 0, count: keys.count + 16)
        let k = keys.withUnsafeBufferPointer { kb in
          out.withUnsafeMutableBufferPointer {
            spiqa_quant_gather_intervals(kb.baseAddress!, kb.count, lows, highs, Int32(count), $0.baseAddress!)
          }
        }
        let expected = keys.filter { key in zip(lows, highs).contains { key >= $0 && key <= $1 } }
        #expect(Array(out[..<k]) == expected, "ISA \(isa), \(count) intervals")
      }
    }
  }
}
