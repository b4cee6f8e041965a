import SpiqaCore
import Foundation
import SpiqaIO
import SpiqaStats
import Testing

/// spiqa-hist's pass and outputs as library calls, on small streams in a temporary folder.
@Suite struct HistRunTests {
  static func temp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-hist-\(UUID())-\(name)").path
  }

  /// A stream of `count` records `[2 layers (model 2, 5), 3 heads, n, n]` with rows summing to 1, and one
  /// hidden-state record after each; `scale` changes the values (a "quantized" version keeps the zeros).
  static func stream(count: Int = 3, n: Int = 4, scale: Float = 1) throws -> String {
    let path = temp("in.npy")
    let w = try RecordWriter(path: path, compression: .none)
    try w.writeHeader(["producer": "HistRunTests"])
    for i in 0..<count {
      var v: [Float] = []
      for r in 0..<(2 * 3 * n) {
        let row = (0..<n).map { c in Float((r * 5 + c * 3 + i) % 7) }
        let s = row.reduce(0, +)
        v += row.map { s > 0 ? min(1, $0 / s * scale) : 0 }
      }
      try w.write(
        meta: ["kind": "attention", "example_id": .string("e\(i)"), "feature": 0, "n": .int(n), "layers": [2, 5],
               "heads": [0, 1, 2]],
        array: NPYArray(float32: v, shape: [2, 3, n, n]))
      try w.write(meta: ["kind": "hidden_states", "example_id": .string("e\(i)")], array: NPYArray(float32: [0], shape: [1]))
    }
    try w.close()
    return path
  }

  @Test func keepsTheAskedLayersAndCountsRecords() throws {
    let path = try Self.stream()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let run = HistRun(input: path, options: StatsOptions(), layers: [5], heads: [0, 2])
    var progress = 0
    try run.process { _ in progress += 1 }
    #expect(progress == 3 && run.records == 3 && run.skipped == 3)
    #expect(run.layerIndices == [5] && run.headIndices == [0, 2])
    let stats = try #require(run.stats)
    #expect(stats.records == 3 && stats.heads.count == 2)
    #expect(stats.heads.allSatisfy { $0.values == 3 * 16 })
  }

  @Test func aLayerTheStreamLacksIsASelectionError() throws {
    let path = try Self.stream(count: 1)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let e = #expect(throws: SelectionError.self) { try HistRun(input: path, options: StatsOptions(), layers: [3]).process() }
    #expect(e == SelectionError(.layer, index: 3, available: [2, 5], source: path))
  }

  @Test func comparedStreamsMustHaveTheSameRecords() throws {
    let a = try Self.stream(count: 3), b = try Self.stream(count: 2, scale: 0.5)
    defer {
      try? FileManager.default.removeItem(atPath: a)
      try? FileManager.default.removeItem(atPath: b)
    }
    #expect(throws: SpiqaIOError.self) { try HistRun(input: a, compare: b, options: StatsOptions()).process() }
    let run = HistRun(input: b, compare: b, options: StatsOptions())
    try run.process()
    let stats = try #require(run.stats)
    #expect(stats.heads.allSatisfy { abs($0.jensenShannon.meanOrNaN) < 1e-6 })  // a stream against itself
  }

  /// The array files are record streams: per-row arrays per record, named arrays after the run.
  @Test func outputsAreReadableStreams() throws {
    let path = try Self.stream(count: 2)
    let rows = Self.temp("rows.npy.gz"), arrays = Self.temp("arrays.npy")
    defer { for p in [path, rows, arrays] { try? FileManager.default.removeItem(atPath: p) } }
    let run = HistRun(input: path, options: StatsOptions(), perRowPath: rows)
    try run.process()
    #expect(!FileManager.default.fileExists(atPath: rows), "the per-row output waits for commitRows()")
    try run.commitRows()
    let stats = try #require(run.stats)
    let tables = HistTables(stats: stats, layers: run.layerIndices, heads: run.headIndices, compared: false)
    try HistOutputs.writeArrays(tables, path: arrays, input: path)
    var names: [String] = []
    var histogram: [Int64] = []
    try RecordReader(path: arrays).forEach { r in
      guard case .tensor(let m, let a) = r, let name = m["name"]?.stringValue else { return }
      names.append(name)
      if name == "histogram" { histogram = a.bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } }
    }
    #expect(names.prefix(3) == ["layers", "heads", "edges"])
    #expect(histogram.count == 2 * 3 * 100 && histogram.reduce(0, +) <= 2 * 3 * 2 * 16)
    var rowRecords = 0
    try RecordReader(path: rows).forEach { r in
      if case .tensor(let m, _) = r, m["kind"] == "hist_rows" { rowRecords += 1 }
    }
    #expect(rowRecords == 2 * 4)  // row_histogram, row_sparsity, tokens_to_majority, median_bin per record
    let summary = try #require(HistOutputs.summary(tables, input: path).objectValue)
    #expect(summary["records"] == 2 && summary["layers"] == [2, 5])
    #expect(summary["per_head"]?.arrayValue?.count == 6 && summary["per_layer"]?.arrayValue?.count == 2)
  }
}
