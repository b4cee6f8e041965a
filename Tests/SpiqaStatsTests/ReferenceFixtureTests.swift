import Foundation
import Testing

@testable import SpiqaStats

/// Every statistic against scripts/hist_reference.py (numpy, reference definitions) on the committed sample
/// (5 records, 2 layers × 3 heads, n = 1…33, pruned head, all-zero and one-hot rows, boundary values) compared
/// with a log2-rounded copy for Jensen–Shannon.
@Suite struct ReferenceFixtureTests {
  struct Expected: Decodable {
    struct Record: Decodable { var n: Int; var layers: Int; var heads: Int }
    struct Rows: Decodable { var sparsity: [Double]; var ttm: [Int32]; var median: [Int32]; var js: [Double]; var hist: [Int32] }
    struct Head: Decodable {
      var values: Int64; var zeros: Int64; var le: [Int64]
      var min: Double; var max: Double; var mean: Double; var std: Double
      var ref: [[Double]]
      var histogram: [Int64]; var rows: Int64; var empty_rows: Int64
      var row_sparsity_mean: Double; var row_sparsity_std: Double; var row_sparsity_hist: [Int64]
      var ttm_mean: Double; var ttm_std: Double; var ttm_frac_mean: Double; var ttm_frac_std: Double
      var ttm_hist: [Int64]
      var median_bin_mean: Double; var median_bin_std: Double; var median_bin_hist: [Int64]
      var row_hist_mean: [Double]; var row_cdf_mean: [Double]
      var row_hist_spread: [[Int64]]; var row_cdf_spread: [[Int64]]
      var js_mean: Double; var js_std: Double; var js_max: Double
    }
    struct Layer: Decodable { var diversity: Double }
    var records: [Record]; var per_row: [Rows]; var per_head: [Head]; var per_layer: [Layer]
  }

  static func load(_ name: String, _ ext: String) throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: ext))
    return try Data(contentsOf: url)
  }

  static func floats(_ d: Data) -> [Float] {
    d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
  }

  func close(_ a: Double, _ b: Double, _ what: String, rtol: Double = 1e-9) {
    if a.isNaN || b.isNaN {
      #expect(a.isNaN && b.isNaN, "\(what): \(a) vs \(b)")
    } else {
      #expect(abs(a - b) <= rtol * max(abs(a), abs(b)) + 1e-15, "\(what): got \(a), numpy \(b)")
    }
  }

  @Test func everyStatisticEqualsNumpy() throws {
    let exp = try JSONDecoder().decode(Expected.self, from: Self.load("sample_expected", "json"))
    let x = Self.floats(try Self.load("sample", "f32"))
    let q = Self.floats(try Self.load("sample_q", "f32"))
    let stats = try AttentionStatistics(options: StatsOptions(), layers: 2, heads: 3)
    var offset = 0
    for (i, r) in exp.records.enumerated() {
      let count = r.layers * r.heads * r.n * r.n
      var rows = RowArrays()
      try x[offset..<(offset + count)].withUnsafeBufferPointer { a in
        try q[offset..<(offset + count)].withUnsafeBufferPointer { b in
          try stats.add(a, n: r.n, compare: b, rows: &rows)
        }
      }
      offset += count
      let e = exp.per_row[i]
      #expect(rows.histogram == e.hist, "record \(i) row histograms")
      #expect(rows.tokensToMajority == e.ttm, "record \(i) tokens-to-majority")
      #expect(rows.medianBin == e.median, "record \(i) median bins")
      #expect(rows.sparsity == e.sparsity, "record \(i) row sparsity")
      #expect(rows.jensenShannon.count == e.js.count, "record \(i) JS rows")
      for (a, b) in zip(rows.jensenShannon, e.js) { close(a, b, "record \(i) JS", rtol: 1e-12) }
    }
    #expect(offset == x.count)
    for (k, e) in exp.per_head.enumerated() {
      let h = stats.heads[k]
      #expect(h.values == e.values && h.zeros == e.zeros, "head \(k) counts")
      #expect(h.atMostThreshold == e.le, "head \(k) ≤ threshold counts")
      #expect(Double(h.minimum) == e.min && Double(h.maximum) == e.max, "head \(k) min/max")
      close(h.moments.mean, e.mean, "head \(k) mean")
      close(h.moments.std, e.std, "head \(k) std")
      for s in 0..<4 {
        close(h.reference[s].min, e.ref[s][0], "head \(k) ref stat \(s) min")
        close(h.reference[s].max, e.ref[s][1], "head \(k) ref stat \(s) max")
        close(h.reference[s].moments.mean, e.ref[s][2], "head \(k) ref stat \(s) mean")
        close(h.reference[s].moments.std, e.ref[s][3], "head \(k) ref stat \(s) std", rtol: 1e-7)
      }
      #expect(h.histogram == e.histogram, "head \(k) histogram")
      #expect(h.rows == e.rows && h.emptyRows == e.empty_rows)
      close(h.rowSparsity.mean, e.row_sparsity_mean, "row sparsity mean")
      close(h.rowSparsity.std, e.row_sparsity_std, "row sparsity std")
      #expect(h.rowSparsityHistogram == e.row_sparsity_hist, "head \(k) row sparsity histogram")
      close(h.tokensToMajority.mean, e.ttm_mean, "ttm mean")
      close(h.tokensToMajority.std, e.ttm_std, "ttm std")
      close(h.tokensToMajorityFraction.mean, e.ttm_frac_mean, "ttm frac mean")
      close(h.tokensToMajorityFraction.std, e.ttm_frac_std, "ttm frac std")
      #expect(h.tokensToMajorityHistogram == e.ttm_hist, "head \(k) ttm histogram")
      close(h.medianBin.mean, e.median_bin_mean, "median mean")
      close(h.medianBin.std, e.median_bin_std, "median std")
      #expect(h.medianBinHistogram == e.median_bin_hist)
      let used = Double(h.rows - h.emptyRows)
      for b in 0..<h.rowHistogramSum.count {
        close(h.rowHistogramSum[b] / used, e.row_hist_mean[b], "head \(k) row hist mean bin \(b)")
        close(h.rowCDFSum[b] / used, e.row_cdf_mean[b], "head \(k) row cdf mean bin \(b)")
      }
      let levels = 50
      #expect(h.rowHistogramSpread == e.row_hist_spread.flatMap { $0 }, "head \(k) spread")
      #expect(h.rowCDFSpread == e.row_cdf_spread.flatMap { $0 }, "head \(k) cdf spread")
      #expect(h.rowHistogramSpread.count == h.histogram.count * levels)
      close(h.jensenShannon.mean, e.js_mean, "js mean")
      close(h.jensenShannon.std, e.js_std, "js std", rtol: 1e-7)
      close(h.jensenShannonMax, e.js_max, "js max")
    }
    for (l, e) in exp.per_layer.enumerated() { close(stats.diversity(layer: l), e.diversity, "layer \(l) diversity") }
  }

  /// Threads split heads, so results are identical whatever the count; without per-row statistics the per-head
  /// histogram, thresholds and moments stay the same.
  @Test func threadsAndNoRowStatsGiveTheSameHeads() throws {
    let exp = try JSONDecoder().decode(Expected.self, from: Self.load("sample_expected", "json"))
    let x = Self.floats(try Self.load("sample", "f32"))
    func run(threads: Int, perRow: Bool) throws -> AttentionStatistics {
      var o = StatsOptions()
      o.threads = threads
      o.perRowStatistics = perRow
      let s = try AttentionStatistics(options: o, layers: 2, heads: 3)
      var offset = 0
      for r in exp.records {
        let count = r.layers * r.heads * r.n * r.n
        try x[offset..<(offset + count)].withUnsafeBufferPointer { try s.add($0, n: r.n) }
        offset += count
      }
      return s
    }
    let one = try run(threads: 1, perRow: true)
    for (threads, perRow) in [(3, true), (2, false)] {
      let other = try run(threads: threads, perRow: perRow)
      #expect(one.heads.count == other.heads.count)
      for (a, b) in zip(one.heads, other.heads) {
        #expect(a.histogram == b.histogram && a.thresholdClasses == b.thresholdClasses && a.zeros == b.zeros)
        #expect(a.moments == b.moments && a.reference == b.reference)
        if perRow {
          #expect(a.medianBinHistogram == b.medianBinHistogram && a.rowHistogramSpread == b.rowHistogramSpread)
          #expect(a.tokensToMajority == b.tokensToMajority)
        } else {
          #expect(b.tokensToMajority.count == 0)
        }
      }
    }
  }

  @Test func tokensToMajorityEdgeCases() {
    func ttm(_ v: [Float]) -> Int {
      var s = [Float](repeating: 0, count: v.count)
      return v.withUnsafeBufferPointer { r in s.withUnsafeMutableBufferPointer { RowStatistics.tokensToMajority(r, scratch: $0) } }
    }
    #expect(ttm([0.5, 0.5]) == 1)  // 0.5 is not > 0.5
    #expect(ttm([0, 0, 0]) == 0)  // never exceeds: argmax of all False
    #expect(ttm([0.1, 0.2, 0.3, 0.4]) == 1)
    #expect(ttm([0.25, 0.25, 0.25, 0.25]) == 2)
    #expect(ttm([1]) == 0)
  }

  @Test func shapeMismatchIsAnError() throws {
    let s = try AttentionStatistics(options: StatsOptions(), layers: 1, heads: 1)
    let v = [Float](repeating: 0.25, count: 15)
    #expect(throws: StatsError.self) { try v.withUnsafeBufferPointer { try s.add($0, n: 4) } }
  }
}
