import Foundation
import SpiqaIO
import Testing

@testable import SpiqaStats

/// Hidden-state histograms against scripts/hs_hist_reference.py (numpy, the reference's `-hs` per-token
/// histogram verbatim) on the committed sample: 3 records of [4, n, 24], values on and next to the edges.
@Suite struct HiddenStateStatisticsTests {
  struct Expected: Decodable {
    struct Layer: Decodable {
      var layer: Int; var values: Int64; var rows: Int64; var below: Int64; var above: Int64
      var min: Double; var max: Double; var mean: Double; var std: Double
      var histogram: [Int64]; var row_fraction_mean: [Double]; var row_fraction_max: [Double]
      var row_count_spread: [[Int64]]
    }
    var edges: [Double]; var records: [Int]; var per_layer: [Layer]; var log_bits_3: [Layer]
  }

  static func sample() throws -> (Expected, [Float]) {
    func load(_ name: String, _ ext: String) throws -> Data {
      let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: ext))
      return try Data(contentsOf: url)
    }
    let exp = try JSONDecoder().decode(Expected.self, from: try load("hs_expected", "json"))
    let d = try load("hs_sample", "f32")
    let x = d.withUnsafeBytes { raw in
      (0..<(d.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
    }
    return (exp, x)
  }

  /// Feeds the sample record by record: `[4, n, 24]` each.
  static func run(_ x: [Float], records: [Int], layers: [Int], options: HiddenStateHistOptions = .init()) throws
    -> HiddenStateStatistics
  {
    let s = try HiddenStateStatistics(options: options, layers: layers, hidden: 24)
    var offset = 0
    for n in records {
      let count = 4 * n * 24
      try x[offset..<(offset + count)].withUnsafeBufferPointer { try s.add($0, n: n, positions: layers) }
      offset += count
    }
    return s
  }

  @Test(arguments: [false, true])
  func everyArrayEqualsNumpy(logQuantized: Bool) throws {
    let (exp, x) = try Self.sample()
    var o = HiddenStateHistOptions()
    if logQuantized { o.logBits = 3 }
    let s = try Self.run(x, records: exp.records, layers: [0, 1, 2, 3], options: o)
    #expect(s.edges == exp.edges)
    for (j, e) in (logQuantized ? exp.log_bits_3 : exp.per_layer).enumerated() {
      let b = s.bins
      #expect(s.values[j] == e.values && s.rows[j] == e.rows && s.below[j] == e.below && s.above[j] == e.above)
      #expect(Double(s.minimum[j]) == e.min && Double(s.maximum[j]) == e.max)
      // Same float64 additions in the same order as the script's cumsum: equal bits.
      #expect(s.mean(j) == e.mean && s.std(j) == e.std, "layer \(j)")
      #expect(Array(s.histogram[(j * b)..<((j + 1) * b)]) == e.histogram)
      // The reference's float32 per-token fractions, bit for bit (numpy's float32 cumsum of the weights).
      #expect(Array(s.rowFractionMax[(j * b)..<((j + 1) * b)]) == e.row_fraction_max)
      let mean = (0..<b).map { s.rowFractionSum[j * b + $0] / Double(s.rows[j]) }
      #expect(mean == e.row_fraction_mean)
      let k = s.hidden + 1
      let spread = (0..<b).map { Array(s.rowCountSpread[((j * b + $0) * k)..<((j * b + $0 + 1) * k)]) }
      #expect(spread == e.row_count_spread)
    }
  }

  @Test func keepsChosenLayersInOrder() throws {
    let (exp, x) = try Self.sample()
    let all = try Self.run(x, records: exp.records, layers: [0, 1, 2, 3])
    let s = try HiddenStateStatistics(options: .init(), layers: [3, 1], hidden: 24)
    var offset = 0
    for n in exp.records {
      try x[offset..<(offset + 4 * n * 24)].withUnsafeBufferPointer { try s.add($0, n: n, positions: [3, 1]) }
      offset += 4 * n * 24
    }
    #expect(Array(s.histogram[0..<100]) == Array(all.histogram[300..<400]))
    #expect(Array(s.histogram[100..<200]) == Array(all.histogram[100..<200]))
  }

  @Test func edgesAndInfinities() throws {
    // One layer, one row of 8: -5 and 5 are in the first and last bin (last closed); ±inf outside; 0 in bin 50.
    let s = try HiddenStateStatistics(options: .init(), layers: [0], hidden: 8)
    let row: [Float] = [-5, 5, 0, -0.0, .infinity, -.infinity, 5.000001, -5.000001]
    try row.withUnsafeBufferPointer { try s.add($0, n: 1, positions: [0]) }
    #expect(s.histogram[0] == 1 && s.histogram[99] == 1 && s.histogram[50] == 2)
    #expect(s.below[0] == 2 && s.above[0] == 2)
    #expect(s.histogram.reduce(0, +) == 4)
  }

  /// The reference's log quantizer at its default 0 bits (step −18): ±1 for 2^−9 < |x| ≤ 2^9, ±16 above, 0 below.
  @Test func referenceLogQuantizerQuirk() {
    let q = { (x: Float) in HiddenStateStatistics.referenceLogQuantize(x, bits: 0) }
    #expect(q(0.5) == 1 && q(-3) == -1 && q(512) == 1 && q(600) == 16 && q(0.0019) == 0 && q(0.002) == 1 && q(0) == 0)
    // 3 bits: step 3, exponents −3, 0, 3 (and the clamp at 4).
    let q3 = { (x: Float) in HiddenStateStatistics.referenceLogQuantize(x, bits: 3) }
    #expect(q3(0.2) == 0.125 && q3(-1.5) == -1 && q3(9) == 8 && q3(100) == 16 && q3(0.01) == 0)
    var o = HiddenStateHistOptions()
    o.logBits = 1
    #expect(throws: StatsError.self) { try o.validate() }
  }

  @Test func nanIsAnError() throws {
    let s = try HiddenStateStatistics(options: .init(), layers: [0], hidden: 2)
    let row: [Float] = [0.5, .nan]
    #expect(throws: StatsError.self) { try row.withUnsafeBufferPointer { try s.add($0, n: 1, positions: [0]) } }
  }

  @Test func badOptionsAreRejected() {
    var o = HiddenStateHistOptions()
    o.lo = 1
    o.hi = 1
    #expect(throws: StatsError.self) { try o.validate() }
    o = HiddenStateHistOptions()
    o.bins = 0
    #expect(throws: StatsError.self) { try o.validate() }
  }

  /// A stream with a wrong-rank hidden_states record is bad data (65) with the record named.
  @Test func wrongRankRecordIsBadData() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hs-stats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("bad.npy").path
    let w = try RecordWriter(path: path, compression: .none)
    try w.writeHeader(["spiqa": 1, "kind": "stream"])
    try w.write(meta: ["spiqa": 1, "kind": "hidden_states"], array: NPYArray(float32: [1, 2, 3, 4], shape: [2, 2]))
    try w.close()
    let run = HiddenStateRun(input: path, options: .init())
    do {
      try run.process()
      Issue.record("no error")
    } catch let e as SpiqaIOError {
      #expect(e.kind == .badData)
      #expect(e.description.contains("[2, 2]") && !e.description.contains("\n"))
    }
  }
}
