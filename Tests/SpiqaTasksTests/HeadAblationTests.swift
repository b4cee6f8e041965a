import Foundation
import SpiqaCore
import SpiqaModel
import SpiqaQuant
import SpiqaTestSupport
import Testing

@testable import SpiqaTasks

/// Head ablation in the forward-pass hooks: exactly the selected heads become 0, and the model's outputs match
/// transformers' `head_mask` (scripts/make_ablation_fixture.py, Fixtures/head_ablation.json).
@Suite struct HeadAblationTests {
  static func ablation(layers: Set<Int>?, heads: Set<Int>?) -> AttentionTransform {
    var t = AttentionTransform()
    t.layers = layers
    t.heads = heads
    t.ablate = true
    return t
  }

  @Test func ablationZeroesExactlyTheSelectedHeads() throws {
    let shape = AttentionHooksTests.shape
    let t = Self.ablation(layers: [1], heads: [1])
    for layer in 0..<2 {
      let p = try AttentionHooksTests.apply(t, layer: layer).probs
      let u = AttentionHooksTests.uniform()
      for b in 0..<shape.batch {
        for h in 0..<shape.heads {
          let o = shape.offset(item: b, head: h), tt = shape.seqLen * shape.seqLen
          let zeroed = layer == 1 && h == 1
          #expect(Array(p[o..<(o + tt)]) == (zeroed ? [Float](repeating: 0, count: tt) : Array(u[o..<(o + tt)])))
        }
      }
    }
    // A layer selection alone zeroes every head of the layer.
    #expect(try AttentionHooksTests.apply(Self.ablation(layers: [0], heads: nil), layer: 0).probs.allSatisfy { $0 == 0 })
  }

  @Test func maskAblatesDifferentHeadsPerLayer() throws {
    var t = AttentionTransform()
    t.mask = [[true, false], [false, true]]
    t.ablate = true
    let shape = AttentionHooksTests.shape, tt = shape.seqLen * shape.seqLen
    for layer in 0..<2 {
      let p = try AttentionHooksTests.apply(t, layer: layer).probs
      for b in 0..<shape.batch {
        for h in 0..<shape.heads {
          let o = shape.offset(item: b, head: h)
          #expect(p[o..<(o + tt)].allSatisfy { $0 == 0 } == (h == layer), "layer \(layer) row \(b) head \(h)")
        }
      }
    }
    var wrong = t
    wrong.mask = [[true, false, false], [false, true, false]]
    #expect(throws: QuantError.self) { _ = try AttentionHooks(transform: wrong, layers: 2, heads: 2).hooks(keys: []) }
  }

  @Test func selectionsBeyondTheModelAreUsageErrors() throws {
    for t in [Self.ablation(layers: [2], heads: nil), Self.ablation(layers: nil, heads: [2])] {
      let e = #expect(throws: QuantError.self) { _ = try AttentionHooks(transform: t, layers: 2, heads: 2).hooks(keys: []) }
      #expect(e?.exitCode == 64)
    }
  }

  @Test func logitsMatchTransformersHeadMask() throws {
    let root = TestPaths.packageRoot
    let data = try Data(contentsOf: root.appendingPathComponent("Tests/SpiqaTasksTests/Fixtures/head_ablation.json"))
    let fixture = try #require(try JSONValue(parsing: [UInt8](data)).objectValue)
    let encoder = try Encoder(
      directory: root.appendingPathComponent("Tests/SpiqaModelTests/Fixtures/model/tiny-bert-qa-f32").path,
      maxBatch: 2, maxSeqLen: 16)
    let seqs = try #require(fixture["input_ids"]?.arrayValue).map { try #require($0.arrayValue).compactMap(\.intValue) }
    let batch = EncoderBatch(sequences: seqs, padTokenId: 0)
    let keys = seqs.indices.map { RecordKey(exampleId: "\($0)", exampleIndex: $0, feature: 0) }
    var compared = 0
    for c in try #require(fixture["cases"]?.arrayValue).compactMap(\.objectValue) {
      let pairs = try #require(c["pairs"]?.arrayValue).map { p -> (Int, Int) in
        let v = (p.arrayValue ?? []).compactMap(\.intValue)
        try #require(v.count == 2)
        return (v[0], v[1])
      }
      // The same head_mask as a --transform-mask, and as the product of lists when it is one.
      var transforms: [AttentionTransform] = []
      if pairs.isEmpty {
        transforms = [.identity]
      } else {
        var m = AttentionTransform()
        m.mask = (0..<2).map { l in (0..<4).map { h in pairs.contains { $0 == (l, h) } } }
        m.ablate = true
        transforms = [m]
        let layers = Set(pairs.map(\.0)), heads = Set(pairs.map(\.1))
        if layers.count * heads.count == pairs.count { transforms.append(Self.ablation(layers: layers, heads: heads)) }
      }
      for t in transforms {
        compared += 1
        let hooks = try AttentionHooks(transform: t, layers: 2, heads: 4).hooks(keys: keys)
        let out = try encoder.forward(batch, hooks: hooks)
        var worst: Float = 0
        for (key, mine) in [("start", try #require(out.startLogits)), ("end", try #require(out.endLogits))] {
          let ref = try #require(c[key]?.arrayValue)
          for (b, row) in ref.enumerated() {
            let r = try #require(row.arrayValue).compactMap(\.doubleValue)
            for (i, x) in r.enumerated() { worst = max(worst, abs(mine[b][i] - Float(x)) / max(abs(Float(x)), 1)) }
          }
        }
        #expect(worst <= 1e-4, "\(c["name"]?.stringValue ?? "?"): max relative deviation \(worst)")
      }
    }
    #expect(compared == 6)  // none; two product cases as mask and lists; mixed as a mask
  }
}
