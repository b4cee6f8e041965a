import CQuantKernels
import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

@testable import SpiqaQuant

/// The stream quantizer behind spiqa-quantize, on small streams written and read in a temporary folder.
@Suite struct QuantizeStreamTests {
  /// Deterministic softmax-like rows: `[layers, heads, n, n]`.
  static func attention(layers: Int = 2, heads: Int = 2, n: Int, seed: Int) -> [Float] {
    var out: [Float] = []
    for b in 0..<(layers * heads * n) {
      let row = (0..<n).map { c in Float((b * 7 + c * 13 + seed * 5) % 11 + 1) }
      let s = row.reduce(0, +)
      out += row.map { $0 / s }
    }
    return out
  }

  static func temp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-quant-\(UUID())-\(name)").path
  }

  /// Writes `records` (example id, n, upstream keys), each followed by a hidden-state record when `hidden`, and
  /// runs the stream quantizer; returns the output header, attention records and report.
  static func run(_ settings: QuantizeSettings, _ records: [(id: String, n: Int, extra: JSONObject)], hidden: Bool = true)
    throws -> (header: JSONObject, tensors: [(JSONObject, NPYArray)], report: QuantReport)
  {
    let input = temp("in.npy"), output = temp("out.npy")
    defer {
      try? FileManager.default.removeItem(atPath: input)
      try? FileManager.default.removeItem(atPath: output)
    }
    let w = try RecordWriter(path: input, compression: .none)
    try w.writeHeader(["producer": "QuantizeStreamTests"])
    for (i, r) in records.enumerated() {
      var meta: JSONObject = ["kind": "attention", "example_id": .string(r.id), "n": .int(r.n)]
      for (k, v) in r.extra { meta[k] = v }
      try w.write(meta: meta, array: NPYArray(float32: attention(n: r.n, seed: i), shape: [2, 2, r.n, r.n]))
      if hidden { try w.write(meta: ["kind": "hidden_states"], array: NPYArray(float32: [1, 2], shape: [2])) }
    }
    try w.close()
    let out = try RecordWriter(path: output, compression: .none)
    let stream = QuantizeStream(settings: settings, reader: try RecordReader(path: input), writer: out)
    try stream.run()
    try out.close()
    var header: JSONObject = [:]
    var tensors: [(JSONObject, NPYArray)] = []
    try RecordReader(path: output).forEach { record in
      switch record {
      case .header(let h): header = h
      case .tensor(let m, let a): if m["kind"] == "attention" { tensors.append((m, a)) }
      }
    }
    return (header, tensors, stream.report)
  }

  @Test func elementwiseRecordsArePrunedThenQuantized() throws {
    let q = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    let t = AttentionTransform(threshold: 0.1, quantizer: q, scope: .record)
    let out = try Self.run(QuantizeSettings(transform: t), [("a", 4, [:]), ("b", 5, [:])])
    #expect(out.tensors.count == 2)
    for (i, (meta, array)) in out.tensors.enumerated() {
      var expected = Self.attention(n: i == 0 ? 4 : 5, seed: i)
      expected.withUnsafeMutableBufferPointer { prune($0, threshold: 0.1) }
      try q.apply(&expected)
      #expect(try array.floats() == expected)
      #expect(meta["method"] == "linear_slog_clamped_midval" && meta["scope"] == .null && meta["upstream"] == nil)
    }
    let quantize = try #require(out.header["quantize"]?.objectValue)
    #expect(quantize == ["threshold": 0.1, "method": "linear_slog_clamped_midval", "bits": 3, "variant": "reference",
                         "scope": .null, "output_dtype": "f32"])
    #expect(out.report.tensors == 2)
  }

  /// Binarization over the `example` scope: every kept value of one layer is 1/K, K counted over all records of
  /// the example; records of another example have their own K. Any other record in between ends the scope.
  @Test func exampleScopeSpansConsecutiveRecordsOfOneExample() throws {
    let q = try AttentionQuantizer(method: .binarization, bits: 1)
    let t = AttentionTransform(quantizer: q, scope: .example)
    let records: [(id: String, n: Int, extra: JSONObject)] = [("a", 3, [:]), ("a", 4, [:]), ("b", 3, [:])]
    let split = try Self.run(QuantizeSettings(transform: t), records)
    let distinct = Set(split.tensors.prefix(2).flatMap { (_, a) in (try? a.floats()) ?? [] }.filter { $0 != 0 })
    #expect(distinct.count == 2)
    let out = try Self.run(QuantizeSettings(transform: t), records, hidden: false)
    let layer0 = out.tensors.map { (_, a) in try? Array(a.floats().prefix(a.count / 2)) }
    let kept = layer0.map { ($0 ?? []).filter { $0 != 0 } }
    let ka = kept[0].count + kept[1].count
    #expect(Set(kept[0] + kept[1]) == [Float(1.0 / Double(ka))])
    #expect(Set(kept[2]) == [Float(1.0 / Double(kept[2].count))])
  }

  @Test func upstreamKeepsWhatTheInputHadBeenThrough() throws {
    let upstream: JSONObject = ["threshold": 0.05, "method": "linear_slog_midval", "bits": 3, "scope": "batch"]
    let out = try Self.run(QuantizeSettings(transform: AttentionTransform(threshold: 0.2)), [("a", 3, upstream)])
    let meta = out.tensors[0].0
    #expect(meta["upstream"]?.objectValue == upstream)
    #expect(meta["threshold"] == 0.2 && meta["method"] == .null && meta["scope"] == .null)
  }

  @Test func codesDecodeToTheQuantizedValues() throws {
    let q = try AttentionQuantizer(method: .linearSlogMidval, bits: 2)
    let t = AttentionTransform(quantizer: q, scope: .record)
    let floats = try Self.run(QuantizeSettings(transform: t), [("a", 4, [:])])
    let codes = try Self.run(QuantizeSettings(transform: t, output: .codes), [("a", 4, [:])])
    let (meta, array) = codes.tensors[0]
    #expect(meta["encoding"] == "codes" && array.dtype == .uint8)
    #expect(try decodeAttention(meta: meta, array: array) == (try floats.tensors[0].1.floats()))
  }

  @Test func settingsAStreamCannotHonourAreRefused() throws {
    let dd = try AttentionQuantizer(method: .uniformSlogMean, bits: 2)
    #expect(throws: QuantError.self) { try QuantizeSettings(transform: AttentionTransform(quantizer: dd)).validate() }
    #expect(throws: QuantError.self) {
      try QuantizeSettings(transform: AttentionTransform(scope: .record), output: .codes).validate()
    }
    #expect(throws: QuantError.self) {
      try QuantizeSettings(transform: AttentionTransform(scope: .record, hsBits: 8)).validate()
    }
  }

  @Test func codeTableAddsValuesOutsideTheLevels() throws {
    var values: [Float] = [0, 0.5, 1, 0.25, .nan, 0.5]
    let encoded = try #require(values.withUnsafeMutableBufferPointer { CodeTable.encode($0, levels: [0, 0.5, 1]) })
    #expect(encoded.codes == [0, 1, 2, 3, 4, 1])
    #expect(encoded.table.levels.count == 5)
    #expect(CodeTable.codeArray(encoded.codes, count: 5, shape: [6]).dtype == .uint8)
    let wide = CodeTable.codeArray([0, 300], count: 301, shape: [2])
    #expect(wide.dtype == .uint16 && wide.bytes == [0, 0, 44, 1])
    // A code is a UInt16: 65,537 levels are refused, not wrapped, even when every value is one of them.
    let levels = (0...65536).map { Float($0) / 65536 }
    var last: [Float] = [1]
    #expect(last.withUnsafeMutableBufferPointer { CodeTable.encode($0, levels: levels) } == nil)
    #expect(last.withUnsafeMutableBufferPointer { CodeTable.encode($0, levels: Array(levels.dropFirst())) }?.codes == [65535])
  }

  /// The coding kernel at every ISA level equals a plain first-bit-pattern-match: 1 to 300 levels (the vector path
  /// takes up to 64), values on and off the levels at every position of a 16-value block, NaN, -0.0 beside +0.0.
  @Test func codesEqualAPlainSearchAtEveryISA() throws {
    var rng = SplitMix64(seed: 7)
    for count in [1, 2, 8, 16, 48, 64, 65, 300] {
      var levels = (0..<count).map { Float($0) / Float(count) }
      if count >= 8 { levels[1] = -0.0; levels.sort() }  // -0.0 sorts beside +0.0 and codes apart from it
      func plain(_ v: Float) -> Int? { levels.firstIndex { $0.bitPattern == v.bitPattern } }
      let misses: [Float] = [.nan, 0.3333, 2, count < 8 ? -0.0 : 1e-9]
      for missAt in [-1, 0, 15, 16, 37, 98, 99] {
        var x = (0..<100).map { _ in levels[Int(rng.next() % UInt64(count))] }
        if missAt >= 0 { x[missAt] = misses[missAt % 4] }
        var out = [UInt16](repeating: 0, count: x.count)
        let expectedStop = x.firstIndex { plain($0) == nil } ?? x.count
        try forEachISA { isa in
          out = [UInt16](repeating: 0, count: x.count)
          let stop = spiqa_quant_codes(x, x.count, levels, levels.count, &out)
          #expect(stop == expectedStop, "ISA \(isa), \(count) levels, miss at \(missAt)")
          #expect((0..<min(stop, expectedStop)).allSatisfy { Int(out[$0]) == plain(x[$0]) }, "ISA \(isa), \(count) levels")
        }
      }
    }
  }
}
