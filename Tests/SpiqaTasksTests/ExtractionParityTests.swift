import Foundation
import SpiqaIO
import SpiqaQuant
import Testing

@testable import SpiqaTasks
import SpiqaTestSupport

/// A case of scripts/make_extract_fixtures.py (Tests/CLITests/Fixtures/extract/<case>.json + .bin), read from the
/// source tree: the same fixtures serve the CLI tests and these library tests.
struct ExtractFixture {
  struct Record {
    var sequence: ExtractionSequence
    var key: String
    var full: Bool
    var hidden: Bool
  }
  let meta: [String: Any]
  let records: [Record]
  private let index: [String: (offset: Int, shape: [Int])]
  private let data: [Float]

  static var directory: String {
    TestPaths.packageRoot.appendingPathComponent("Tests/CLITests/Fixtures/extract").path
  }

  init(_ name: String) throws {
    let json = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/\(name).json"))
    let obj = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
    meta = try #require(obj["meta"] as? [String: Any])
    var idx: [String: (Int, [Int])] = [:]
    for (k, v) in try #require(obj["arrays"] as? [String: [String: Any]]) {
      idx[k] = (try #require(v["offset"] as? Int), try #require(v["shape"] as? [Int]))
    }
    index = idx
    records = try #require(meta["records"] as? [[String: Any]]).map { r in
      Record(
        sequence: ExtractionSequence(
          exampleId: try #require(r["example_id"] as? String), exampleIndex: try #require(r["example_index"] as? Int),
          feature: try #require(r["feature"] as? Int), ids: try #require(r["ids"] as? [Int]),
          tokenTypes: r["types"] as? [Int]),
        key: try #require(r["key"] as? String), full: r["full"] as? Bool ?? false, hidden: r["hidden"] as? Bool ?? false)
    }
    let raw = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/\(name).bin"))
    data = raw.withUnsafeBytes { bytes in
      (0..<(raw.count / 4)).map {
        Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
      }
    }
  }

  func has(_ key: String) -> Bool { index[key] != nil }

  func array(_ key: String) throws -> [Float] {
    let e = try #require(index[key], "no array \(key) in the fixture")
    return Array(data[e.offset..<(e.offset + e.shape.reduce(1, *))])
  }

  /// Records grouped by example, in order (SQuAD: one batch per question).
  var groupsByExample: [[ExtractionSequence]] {
    var out: [[ExtractionSequence]] = []
    for r in records {
      if let last = out.last?.last, last.exampleId == r.sequence.exampleId {
        out[out.count - 1].append(r.sequence)
      } else {
        out.append([r.sequence])
      }
    }
    return out
  }

  /// Largest |a − b| between a recorded `[L, H, n, n]` block and the fixture's checks (max, projection, full block).
  func maxError(_ key: String, attention a: UnsafeBufferPointer<Float>, n: Int, full: Bool) throws -> Float {
    try errors(key, attention: a, n: n, full: full).max
  }

  /// The largest error and every query row's projection error ([L·H·n]).
  func errors(_ key: String, attention a: UnsafeBufferPointer<Float>, n: Int, full: Bool) throws
    -> (max: Float, rows: [Float])
  {
    var rows: [Float] = []
    let maxes = try array(key + ".max"), proj = try array(key + ".proj")
    let blocks = maxes.count
    #expect(a.count == blocks * n * n)
    let w = (0..<n).map { Double((7919 * $0) % 101) / 101 }
    var err: Float = 0
    for k in 0..<blocks {
      var m = -Float.infinity
      for r in 0..<n {
        var s = 0.0
        for c in 0..<n {
          let v = a[(k * n + r) * n + c]
          m = max(m, v)
          s += Double(v) * w[c]
        }
        rows.append(abs(Float(s) - proj[k * n + r]))
        err = max(err, rows[rows.count - 1])
      }
      err = max(err, abs(m - maxes[k]))
    }
    if full {
      let ref = try array(key + ".full")
      for i in 0..<ref.count { err = max(err, abs(ref[i] - a[i])) }
    }
    return (err, rows)
  }
}

/// The model every extraction test runs: all-MiniLM-L6-v2 from $SPIQA_MODEL or models/ under the package root.
let extractModel = TestPaths.miniLM

/// `AttentionExtractor` against transformers (scripts/make_extract_fixtures.py): exact, pruned + quantized and
/// data-dependent quantized attention of real SQuAD features and SST-2 sentences, ≤ 1e-5.
@Suite(.enabled(if: extractModel != nil, "all-MiniLM-L6-v2 not found (set SPIQA_MODEL or run make setup)"))
struct ExtractionParityTests {
  /// Runs `groups` and returns the largest error over every record of the fixture.
  func check(
    _ name: String, transform: AttentionTransform = .identity, options: ExtractionOptions = ExtractionOptions(),
    padTo: Int? = nil, perExample: Bool
  ) throws -> Float {
    try checkRows(name, transform: transform, options: options, padTo: padTo, perExample: perExample).max
  }

  /// Like `check`, also returning every query row's projection error.
  func checkRows(
    _ name: String, transform: AttentionTransform = .identity, options: ExtractionOptions = ExtractionOptions(),
    padTo: Int? = nil, perExample: Bool
  ) throws -> (max: Float, rows: [Float]) {
    var rows: [Float] = []
    let fx = try ExtractFixture(name)
    let ex = try AttentionExtractor(directory: try #require(extractModel), transform: transform, options: options)
    let groups = perExample ? fx.groupsByExample : [fx.records.map(\.sequence)]
    var err: Float = 0
    var seen = 0
    for g in groups {
      try ex.run(ExtractionGroup(sequences: g, padTo: padTo)) { f in
        let rec = fx.records[seen]
        seen += 1
        #expect(f.sequence == rec.sequence)
        #expect(f.attentionShape == [6, 12, rec.sequence.count, rec.sequence.count])
        let e = try fx.errors(rec.key, attention: f.attention, n: f.n, full: rec.full)
        err = max(err, e.max)
        rows += e.rows
        if rec.hidden, let h = f.hiddenStates {
          let ref = try fx.array(rec.key + ".hidden")
          #expect(f.hiddenShape == [7, f.n, 384])
          var e: Float = 0
          for i in 0..<ref.count { e = max(e, abs(ref[i] - h[i]) / max(1, abs(ref[i]))) }
          #expect(e <= 1e-4, "hidden states of \(rec.key): max relative error \(e)")
        }
      }
    }
    #expect(seen == fx.records.count)
    return (err, rows)
  }

  /// `AttentionExtractor.write` streams a one-sequence sub-batch's record layer by layer from the forward pass and
  /// writes larger sub-batches from the arena: the stream is byte for byte what writing each `run` record gives.
  @Test(arguments: ["squad", "sst2"], [false, true])
  func streamedRecordsEqualAssembledOnes(_ name: String, quantized: Bool) throws {
    let fx = try ExtractFixture(name)
    var options = ExtractionOptions()
    options.hiddenStates = true
    options.tokens = true
    options.dtype = quantized ? .float16 : .float32
    let transform = quantized
      ? AttentionTransform(quantizer: try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)) : .identity
    let ex = try AttentionExtractor(directory: try #require(extractModel), transform: transform, options: options)
    let groups = name == "squad" ? fx.groupsByExample : [fx.records.map(\.sequence)]
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-stream-\(UUID())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    func stream(_ file: String, streamed: Bool) throws -> [UInt8] {
      let path = dir.appendingPathComponent(file).path
      let w = try RecordWriter(path: path)
      try w.writeHeader(["t": 1])
      var records = 0
      for g in groups {
        let group = ExtractionGroup(sequences: g)
        if streamed {
          records += try ex.write(group, to: w) { ids in ids.map { "t\($0)" } }
        } else {
          try ex.run(group) { f in
            try w.write(meta: ex.attentionMeta(f, tokens: f.sequence.ids.map { "t\($0)" }), floats: f.attention,
                        shape: f.attentionShape, dtype: options.dtype)
            if let hs = f.hiddenStates {
              try w.write(meta: ex.hiddenMeta(f), floats: hs, shape: f.hiddenShape, dtype: options.dtype)
            }
            records += 1
          }
        }
      }
      #expect(records == fx.records.count)
      try w.close()
      return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
    let assembled = try stream("a.npy.gz", streamed: false)
    let streamed = try stream("b.npy.gz", streamed: true)
    #expect(assembled == streamed)
    #expect(assembled.count > 1000)
  }

  @Test func squadFeaturesMatchTransformers() throws {
    let err = try check("squad", perExample: true)
    #expect(err <= 1e-5, "max abs error \(err)")
  }

  @Test func squadFeaturesPaddedTo320MatchToo() throws {
    let err = try check("squad", padTo: 320, perExample: true)
    #expect(err <= 1e-5, "max abs error \(err)")
  }

  @Test func sst2SentencesAndHiddenStatesMatchTransformers() throws {
    var o = ExtractionOptions()
    o.hiddenStates = true
    let err = try check("sst2", options: o, perExample: false)
    #expect(err <= 1e-5, "max abs error \(err)")
  }

  /// `--task text` over the fixture's SST-2 sentences written one per line with empty lines between them: the
  /// transformers token ids, ids `text-<line>` that count the empty lines, and the transformers attention.
  @Test(.enabled(if: TestPaths.shared("data/glue/SST-2/dev.tsv") != nil, "SST-2 dev not found (../shared)"))
  func textLinesMatchTransformers() throws {
    let fx = try ExtractFixture("sst2")
    let sst2 = try SST2Dataset(path: try #require(TestPaths.shared("data/glue/SST-2/dev.tsv")))
    let sentences = fx.records.map { sst2.examples[$0.sequence.exampleIndex].sentence }
    let src = try ExtractionSource(
      text: TextLines(text: sentences.joined(separator: "\n\n") + "\n"), selection: .all,
      tokenizer: loadTaskTokenizer(directory: try #require(extractModel)), batchSize: 8)
    let seqs = try (0..<src.groupCount).flatMap { try src.group($0).sequences }
    #expect(seqs.map(\.exampleId) == (0..<fx.records.count).map { "text-\(2 * $0)" })
    #expect(seqs.count == fx.records.count && seqs.map(\.ids) == fx.records.map(\.sequence.ids))
    let ex = try AttentionExtractor(directory: try #require(extractModel), transform: .identity)
    var seen = 0, err: Float = 0
    try ex.run(ExtractionGroup(sequences: seqs)) { f in
      let e = try fx.errors(fx.records[seen].key, attention: f.attention, n: f.n, full: fx.records[seen].full)
      err = max(err, e.max)
      seen += 1
    }
    #expect(seen == fx.records.count)
    #expect(err <= 1e-5, "max abs error \(err)")
  }

  @Test func prunedAndQuantizedOnTheFlyMatchTheReferenceOrder() throws {
    let t = AttentionTransform(threshold: 0.05, quantizer: try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3))
    let err = try check("sst2-pruned", transform: t, perExample: false)
    #expect(err <= 1e-5, "max abs error \(err)")
  }

  /// uniform_slog_mean takes quantiles over the whole layer tensor, zeros of the 320-padding included. Its bins are
  /// data values, so a float-level difference in the softmax (vectorised exp vs PyTorch's) can move an element that
  /// sits on a threshold to the neighbouring bin; nearly every row must still match to 1e-5, and padding only to the
  /// longest sequence (138) must not.
  @Test func dataDependentQuantizerSeesThe320Padding() throws {
    let t = AttentionTransform(quantizer: try AttentionQuantizer(method: .uniformSlogMean, bits: 2))
    let padded = try checkRows("squad-uniform", transform: t, padTo: 320, perExample: true)
    let off = padded.rows.filter { $0 > 1e-5 }.count
    #expect(Double(off) <= 0.01 * Double(padded.rows.count), "\(off) of \(padded.rows.count) rows differ > 1e-5")
    #expect(padded.max <= 0.01, "max abs error \(padded.max)")
    let unpadded = try checkRows("squad-uniform", transform: t, padTo: nil, perExample: true)
    #expect(unpadded.rows.filter { $0 > 1e-5 }.count > 10 * max(1, off), "padding to the longest should differ")
  }

  @Test func layerAndHeadSubsetsAreSlicesOfTheFullTensor() throws {
    let fx = try ExtractFixture("sst2")
    let seqs = Array(fx.records.map(\.sequence).prefix(2))
    let full = try AttentionExtractor(directory: try #require(extractModel))
    var all: [[Float]] = []
    try full.run(ExtractionGroup(sequences: seqs)) { all.append(Array($0.attention)) }
    var o = ExtractionOptions()
    o.layers = [1, 4]
    o.heads = [0, 3, 11]
    let sub = try AttentionExtractor(directory: try #require(extractModel), options: o)
    var b = 0
    try sub.run(ExtractionGroup(sequences: seqs)) { f in
      let n = f.n
      #expect(f.attentionShape == [2, 3, n, n])
      let meta = sub.attentionMeta(f, tokens: nil)
      #expect(meta["layers"] == [1, 4])
      #expect(meta["heads"] == [0, 3, 11])
      #expect(meta["shape"] == .array([2, 3, .int(n), .int(n)]))
      for (li, l) in [1, 4].enumerated() {
        for (hi, h) in [0, 3, 11].enumerated() {
          for i in 0..<(n * n) {
            #expect(f.attention[(li * 3 + hi) * n * n + i] == all[b][(l * 12 + h) * n * n + i])
          }
        }
      }
      b += 1
    }
    #expect(b == 2)
  }

  /// Binarization maps every kept value to 1/K with K counted over the scope: per record, per example or per batch.
  @Test(arguments: [QuantScope.record, .example, .batch])
  func quantizerScopeSetsWhatStatisticsSee(_ scope: QuantScope) throws {
    let fx = try ExtractFixture("sst2")
    var seqs = Array(fx.records.map(\.sequence).prefix(3))
    seqs[1].exampleId = seqs[0].exampleId  // rows 0 and 1 form one example
    let t = AttentionTransform(quantizer: try AttentionQuantizer(method: .binarization, bits: 1), scope: scope)
    let ex = try AttentionExtractor(directory: try #require(extractModel), transform: t)
    var kept: [Int] = []  // non-zeros of layer 0 per record
    var values: [Set<Float>] = []
    try ex.run(ExtractionGroup(sequences: seqs)) { f in
      let layer0 = f.attention[0..<(12 * f.n * f.n)].filter { $0 != 0 }
      kept.append(layer0.count)
      values.append(Set(layer0))
    }
    let expectedK: [Int]
    switch scope {
    case .record: expectedK = kept
    case .example: expectedK = [kept[0] + kept[1], kept[0] + kept[1], kept[2]]
    case .batch: expectedK = Array(repeating: kept.reduce(0, +), count: 3)
    }
    #expect(values.count == expectedK.count, "\(scope): \(values.count) records")
    for (v, k) in zip(values, expectedK) {
      #expect(v == [Float(1.0 / Double(k))], "\(scope): values \(v), expected 1/\(k)")
    }
  }

  @Test func badLayerIndicesAreSelectionErrors() throws {
    var o = ExtractionOptions()
    o.layers = [6]
    let e = #expect(throws: SelectionError.self) { try AttentionExtractor(directory: try #require(extractModel), options: o) }
    #expect(e == SelectionError(.layer, index: 6, available: Array(0..<6), source: "the model"))
  }
}
