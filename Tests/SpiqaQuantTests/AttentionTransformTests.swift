import SpiqaQuant
import Testing

/// The transform's kernels: prune then quantize over one scope, and the hidden-state points.
@Suite struct AttentionTransformTests {
  @Test func pruneThenQuantizeEqualsTheTwoKernels() throws {
    let q = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    let t = AttentionTransform(threshold: 0.05, quantizer: q)
    var values: [Float] = [0.01, 0.04, 0.05, 0.06, 0.2, 0.64]
    var expected = values
    expected.withUnsafeMutableBufferPointer { prune($0, threshold: 0.05) }
    try q.apply(&expected)
    try values.withUnsafeMutableBufferPointer { _ = try t.transformAttention([$0], rowLength: 6) }
    #expect(values == expected)
    #expect(values[0] == 0 && values[2] == 0)
  }

  /// All parts form one scope: binarization counts K over both.
  @Test func partsShareOneScope() throws {
    let t = AttentionTransform(quantizer: try AttentionQuantizer(method: .binarization, bits: 1))
    var a: [Float] = [0.5, 0.5, 0, 0]
    var b: [Float] = [0.25, 0.75]
    let stats = try a.withUnsafeMutableBufferPointer { pa in
      try b.withUnsafeMutableBufferPointer { pb in try t.transformAttention([pa, pb], rowLength: 2) }
    }
    #expect(stats?.count == 4)
    #expect(a == [0.25, 0.25, 0, 0] && b == [0.25, 0.25])
  }

  @Test func hiddenStatesAndIdentity() throws {
    #expect(AttentionTransform.identity.isIdentity && !AttentionTransform.identity.changesAttention)
    let t = AttentionTransform(hsThreshold: 0.5, hsBits: 8)
    #expect(!t.isIdentity && !t.changesAttention)
    var h: [Float] = [0.3, -0.4, 0.6, -2.0]
    h.withUnsafeMutableBufferPointer { t.transformLayerOutput($0) }
    #expect(h == [0, 0, 0.6, -2.0])
    var x: [Float] = [0.3, 40]
    try x.withUnsafeMutableBufferPointer { try t.transformLayerInput($0) }
    #expect(x == [0.25, 32.0])  // 2 fraction bits; the integer part is capped at 2^5
  }

  @Test func validateRefusesWhatTheKernelsCannotDo() throws {
    #expect(throws: QuantError.self) { try AttentionTransform(threshold: -1).validate() }
    #expect(throws: QuantError.self) { try AttentionTransform(hsThreshold: .nan).validate() }
    #expect(throws: QuantError.self) { try AttentionTransform(hsBits: 5).validate() }
    try AttentionTransform(threshold: 0.1, hsBits: 7).validate()
  }
}
