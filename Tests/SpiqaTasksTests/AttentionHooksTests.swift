import SpiqaModel
import SpiqaQuant
import Testing

@testable import SpiqaTasks

/// The one hook builder on hand-made `[batch, heads, T, T]` buffers: scopes, selections, order of the steps.
@Suite struct AttentionHooksTests {
  static let shape = AttentionShape(batch: 3, heads: 2, seqLen: 3, lengths: [3, 2, 3])
  static let keys = [
    RecordKey(exampleId: "a", exampleIndex: 0, feature: 0), RecordKey(exampleId: "a", exampleIndex: 0, feature: 1),
    RecordKey(exampleId: "b", exampleIndex: 1, feature: 0),
  ]

  /// Rows of 1/n over the real block (padding 0): every value ≥ 1e-3 survives binarization's mask.
  static func uniform() -> [Float] {
    var p = [Float](repeating: 0, count: shape.count)
    for b in 0..<shape.batch {
      let n = shape.lengths[b]
      for h in 0..<shape.heads {
        for r in 0..<n { for c in 0..<n { p[shape.offset(item: b, head: h) + r * shape.seqLen + c] = 1 / Float(n) } }
      }
    }
    return p
  }

  /// Runs the attention hook of layer `layer` over `uniform()`; returns the buffer and what the recorder saw.
  static func apply(_ t: AttentionTransform, layer: Int = 0, counting: AttentionHooks? = nil) throws
    -> (probs: [Float], recorded: [Float])
  {
    let builder = counting ?? AttentionHooks(transform: t, layers: 2, heads: 2)
    var recorded: [Float] = []
    let hooks = try builder.hooks(keys: keys) { _, probs, _ in recorded = Array(probs) }
    var p = uniform()
    try p.withUnsafeMutableBufferPointer { try hooks.runAttention(layer: layer, probs: $0, shape: shape) }
    return (p, recorded)
  }

  /// The distinct non-zero values of batch row `b` (all heads, or `head`).
  static func values(_ p: [Float], row b: Int, head: Int? = nil) -> Set<Float> {
    let heads = head.map { [$0] } ?? Array(0..<shape.heads)
    let tt = shape.seqLen * shape.seqLen
    return Set(heads.flatMap { p[shape.offset(item: b, head: $0)..<(shape.offset(item: b, head: $0) + tt)] }.filter { $0 != 0 })
  }

  @Test(arguments: [QuantScope.batch, .example, .record])
  func binarizationCountsOverTheScope(_ scope: QuantScope) throws {
    let t = AttentionTransform(quantizer: try AttentionQuantizer(method: .binarization, bits: 1), scope: scope)
    let (p, recorded) = try Self.apply(t)
    #expect(recorded == p)  // the recorder sees the transformed attention
    let k = [18, 8, 18]  // kept values per row: heads · n²
    let expected: [Int]
    switch scope {
    case .batch: expected = [44, 44, 44]
    case .example: expected = [26, 26, 18]
    case .record: expected = k
    }
    for b in 0..<3 { #expect(Self.values(p, row: b) == [Float(1.0 / Double(expected[b]))], "\(scope) row \(b)") }
  }

  @Test func layerAndHeadSelectionsLimitTheTransform() throws {
    var t = AttentionTransform(threshold: 0.4)
    t.layers = [1]
    #expect(try Self.apply(t, layer: 0).probs == Self.uniform())
    #expect(try Self.apply(t, layer: 1).probs != Self.uniform())
    var h = AttentionTransform(quantizer: try AttentionQuantizer(method: .binarization, bits: 1))
    h.heads = [1]
    let p = try Self.apply(h).probs
    for b in 0..<3 {
      #expect(Self.values(p, row: b, head: 0) == [1 / Float(Self.shape.lengths[b])])  // untouched
      #expect(Self.values(p, row: b, head: 1) == [Float(1.0 / 22.0)])  // K over head 1 of every row: 9 + 4 + 9
    }
  }

  @Test func sparsityCountsTheZerosTheModelUses() throws {
    let t = AttentionTransform(threshold: 0.4)  // 1/3 is pruned, 1/2 kept
    let builder = AttentionHooks(transform: t, layers: 2, heads: 2, countSparsity: true)
    _ = try Self.apply(t, counting: builder)
    #expect(builder.sparsity.total == 9 + 4 + 9)
    #expect(builder.sparsity.zeros[0] == [18, 18])
  }

  /// One value above 1e-3 gives uniform_slinear_clamped_mean no threshold (the reference raises IndexError).
  @Test func quantizerFailuresAreDataErrors() throws {
    let t = AttentionTransform(quantizer: try AttentionQuantizer(method: .uniformSlinearClampedMean, bits: 8))
    let hooks = try AttentionHooks(transform: t, layers: 2, heads: 1).hooks(keys: [Self.keys[0]])
    var p: [Float] = [1, 0, 0, 0]
    let one = AttentionShape(batch: 1, heads: 1, seqLen: 2, lengths: [1])
    let e = #expect(throws: TasksError.self) { try p.withUnsafeMutableBufferPointer { try hooks.runAttention(layer: 1, probs: $0, shape: one) } }
    #expect(e?.exitCode == 65)
    #expect(e?.description.hasPrefix("quantizer uniform_slinear_clamped_mean at layer 1: ") == true)
  }

  @Test func hiddenStateHooksOnlyWhenSet() throws {
    let none = try AttentionHooks(transform: .identity, layers: 2, heads: 2).hooks(keys: Self.keys)
    #expect(none.layerInput == nil && none.layerOutput == nil)
    let both = try AttentionHooks(transform: AttentionTransform(hsThreshold: 0.1, hsBits: 8), layers: 2, heads: 2)
      .hooks(keys: Self.keys)
    #expect(both.layerInput != nil && both.layerOutput != nil)
  }
}
