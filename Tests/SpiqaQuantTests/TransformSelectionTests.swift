import Foundation
import SpiqaCore
import SpiqaIO
import Testing

@testable import SpiqaQuant

/// Layer/head selection and head ablation in the library: metadata keys only when set, the stream quantizer
/// selecting by model index with statistics over the selected heads only.
@Suite struct TransformSelectionTests {
  static func selected(_ t: AttentionTransform, layers: Set<Int>?, heads: Set<Int>?, ablate: Bool = false)
    -> AttentionTransform
  {
    var t = t
    t.layers = layers
    t.heads = heads
    t.ablate = ablate
    return t
  }

  @Test func metadataKeysOnlyWithASelectionAndReadBack() throws {
    let plain = AttentionTransform(threshold: 0.05)
    for style in [TransformMetadata.extractedRecord, .extractionHeader, .quantizedRecord, .quantizeHeader,
                  .quantizeReport, .evalResult] {
      let o = style.object(plain)
      #expect(o["transform_layers"] == nil && o["transform_heads"] == nil && o["ablate"] == nil)
      let s = style.object(Self.selected(AttentionTransform(), layers: [3, 1], heads: [2], ablate: true))
      #expect(s["transform_layers"] == [1, 3] && s["transform_heads"] == [2] && s["ablate"] == true)
    }
    let t = Self.selected(AttentionTransform(), layers: [0, 4], heads: nil, ablate: true)
    let back = try TransformMetadata.read(TransformMetadata.extractedRecord.object(t))
    #expect(back.layers == [0, 4] && back.heads == nil && back.ablate)
    #expect(TransformMetadata.isTransformed(TransformMetadata.quantizedRecord.object(t)))
    #expect(throws: QuantError.self) { try TransformMetadata.read(["transform_heads": "0"]) }
  }

  @Test func ablationNeedsASelectionAndNothingElse() throws {
    #expect(throws: QuantError.self) { try Self.selected(AttentionTransform(), layers: nil, heads: nil, ablate: true).validate() }
    #expect(throws: QuantError.self) {
      try Self.selected(AttentionTransform(threshold: 0.1), layers: [0], heads: nil, ablate: true).validate()
    }
    try Self.selected(AttentionTransform(), layers: nil, heads: [1], ablate: true).validate()
    let t = Self.selected(AttentionTransform(threshold: 0.1), layers: [5], heads: [0])
    #expect(throws: QuantError.self) { try t.checkSelection(layers: 5, heads: 2) }
    try t.checkSelection(layers: 6, heads: 2)
  }

  /// One record [2 layers, 3 heads, n, n] recorded from model layers 2, 5 and heads 1, 4, 7.
  static func stream(_ t: AttentionTransform, n: Int = 3) throws -> (input: [Float], output: [Float], meta: JSONObject) {
    let input = QuantizeStreamTests.attention(layers: 2, heads: 3, n: n, seed: 3)
    let inPath = QuantizeStreamTests.temp("sel-in.npy"), outPath = QuantizeStreamTests.temp("sel-out.npy")
    defer { for path in [inPath, outPath] { try? FileManager.default.removeItem(atPath: path) } }
    let w = try RecordWriter(path: inPath, compression: .none)
    try w.writeHeader(["producer": "TransformSelectionTests"])
    try w.write(meta: ["kind": "attention", "example_id": "e", "layers": [2, 5], "heads": [1, 4, 7]],
                array: NPYArray(float32: input, shape: [2, 3, n, n]))
    try w.close()
    let out = try RecordWriter(path: outPath, compression: .none)
    try QuantizeStream(settings: QuantizeSettings(transform: t), reader: try RecordReader(path: inPath), writer: out).run()
    try out.close()
    var values: [Float] = []
    var meta: JSONObject = [:]
    try RecordReader(path: outPath).forEach { r in
      if case .tensor(let m, let a) = r { meta = m; values = try a.floats() }
    }
    return (input, values, meta)
  }

  @Test func streamAblatesExactlyTheSelectedHeadsByModelIndex() throws {
    let t = Self.selected(AttentionTransform(), layers: [5], heads: [1, 7], ablate: true)
    let (x, y, meta) = try Self.stream(t)
    for l in 0..<2 {
      for h in 0..<3 {
        let block = (l * 3 + h) * 9..<((l * 3 + h) * 9 + 9)
        let zeroed = l == 1 && (h == 0 || h == 2)
        #expect(Array(y[block]) == (zeroed ? [Float](repeating: 0, count: 9) : Array(x[block])), "layer \(l) head \(h)")
      }
    }
    #expect(meta["transform_layers"] == [5] && meta["transform_heads"] == [1, 7] && meta["layers"] == [2, 5])
  }

  /// Binarization over the selected heads: 1/K with K counted over those heads only; the others pass through.
  @Test func statisticsOverTheSelectedHeadsOnly() throws {
    let q = try AttentionQuantizer(method: .binarization, bits: 1)
    let t = Self.selected(AttentionTransform(quantizer: q, scope: .record), layers: nil, heads: [4])
    let (x, y, _) = try Self.stream(t)
    for l in 0..<2 {
      for h in 0..<3 {
        let block = (l * 3 + h) * 9..<((l * 3 + h) * 9 + 9)
        if h == 1 {
          var expected = Array(x[block])
          try expected.withUnsafeMutableBufferPointer { _ = try q.apply([$0], rowLength: 3) }
          #expect(Array(y[block]) == expected, "layer \(l)")
        } else {
          #expect(Array(y[block]) == Array(x[block]), "layer \(l) head \(h)")
        }
      }
    }
  }

  /// A mask selects different heads in different layers: model layer 2 head 4, model layer 5 heads 1 and 7.
  @Test func maskSelectsHeadsPerLayer() throws {
    var t = AttentionTransform()
    t.mask = (0..<6).map { l in (0..<8).map { h in (l == 2 && h == 4) || (l == 5 && (h == 1 || h == 7)) } }
    t.ablate = true
    let (x, y, meta) = try Self.stream(t)
    for l in 0..<2 {
      for h in 0..<3 {
        let block = (l * 3 + h) * 9..<((l * 3 + h) * 9 + 9)
        let zeroed = (l == 0 && h == 1) || (l == 1 && h != 1)
        #expect(Array(y[block]) == (zeroed ? [Float](repeating: 0, count: 9) : Array(x[block])), "layer \(l) head \(h)")
      }
    }
    let back = try TransformMetadata.read(meta)
    #expect(back.mask == t.mask && back.ablate && meta["transform_layers"] == nil)
    #expect(t.selectedHeads(layer: 5) == [1, 7] && t.selectedHeads(layer: 0) == [] && !t.transforms(layer: 0))
    // A mask smaller than the record's indices, and one of the wrong shape for a model.
    var small = t
    small.mask = [[true]]
    #expect(throws: QuantError.self) { _ = try Self.stream(small) }
    #expect(throws: QuantError.self) { try t.checkSelection(layers: 6, heads: 12) }
    try t.checkSelection(layers: 6, heads: 8)
    var both = t
    both.layers = [0]
    #expect(throws: QuantError.self) { try both.validate() }
  }

  @Test func selectionsTheRecordLacksAreUsageErrors() throws {
    for (layers, heads) in [(Set([3]), Set<Int>?.none), (nil, Set([2]))] {
      let t = Self.selected(AttentionTransform(threshold: 0.1), layers: layers, heads: heads)
      let e = #expect(throws: QuantError.self) { _ = try Self.stream(t) }
      #expect(e?.exitCode == 64)
    }
  }
}
