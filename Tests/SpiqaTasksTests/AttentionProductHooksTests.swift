import SpiqaModel
import SpiqaQuant
import SpiqaTestSupport
import Testing

@testable import SpiqaTasks

/// The forward pass with P·V by the sparse and code kernels (`AttentionProductKernel.sparse`) against sgemm on the
/// transformed attention (`.dense`): the same hidden states up to float rounding and the same zero counts, for
/// pruning, element-wise and clamped data-dependent quantizers, and a head selection.
@Suite struct AttentionProductHooksTests {
  static let config = ModelConfig(
    family: .bert, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 128, layerNormEps: 1e-12,
    maxPositions: 128, typeVocabSize: 2, padTokenId: 0, vocabSize: 500)

  /// Two sequences of 96 and 61 tokens, padded to 96.
  static let batch: EncoderBatch = {
    let lengths = [96, 61]
    let ids = lengths.enumerated().map { b, n in (0..<96).map { i in i < n ? (b * 131 + i * 617) % 499 + 1 : 0 } }
    return EncoderBatch(inputIds: ids, lengths: lengths)
  }()

  static let keys = [RecordKey(exampleId: "a", exampleIndex: 0, feature: 0),
                     RecordKey(exampleId: "b", exampleIndex: 1, feature: 0)]

  static func run(_ t: AttentionTransform, kernel: AttentionProductKernel, encoder: Encoder) throws
    -> (hidden: [Float], zeros: [Int])
  {
    let builder = AttentionHooks(transform: t, layers: config.numLayers, heads: config.numHeads, countSparsity: true)
    builder.productKernel = kernel
    let out = try encoder.forward(batch, hooks: try builder.hooks(keys: keys))
    let s = builder.sparsity
    return (out.lastHiddenState, s.zeros.flatMap { $0 })
  }

  @Test func sparseKernelsMatchSgemm() throws {
    let encoder = try Encoder(randomWeightsFor: Self.config, seed: 5, maxBatch: 2, maxSeqLen: 96)
    encoder.threads = 1  // the ISA level is set for this thread only
    // Random weights give nearly uniform attention (about 1/n): a threshold near 1/96 prunes about half of it.
    let logPruned = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    var selected = AttentionTransform(threshold: 0.0105, quantizer: logPruned)
    selected.layers = [1]
    selected.heads = [0, 2]
    let transforms: [(String, AttentionTransform)] = [
      ("threshold", AttentionTransform(threshold: 0.0105)),
      ("log-pruned", AttentionTransform(quantizer: logPruned)),
      ("log-pruned + threshold", AttentionTransform(threshold: 0.0105, quantizer: logPruned)),
      ("linear_slinear_midval 2 bits", AttentionTransform(quantizer: try AttentionQuantizer(method: .linearSlinearMidval, bits: 2))),
      ("uniform_slog_clamped_mean", AttentionTransform(threshold: 0.0105, quantizer: try AttentionQuantizer(method: .uniformSlogClampedMean, bits: 3))),
      ("selection", selected),
    ]
    try forEachISA { isa in
      for (name, t) in transforms {
        let dense = try Self.run(t, kernel: .dense, encoder: encoder)
        let sparse = try Self.run(t, kernel: .sparse, encoder: encoder)
        let worst = zip(dense.hidden, sparse.hidden).map { abs($0 - $1) / max(abs($0), 1) }.max() ?? 0
        #expect(worst <= 1e-4, "\(name), ISA \(isa): hidden states differ by \(worst)")
        #expect(dense.zeros == sparse.zeros, "\(name), ISA \(isa): zero counts")
        if t.threshold > 0 { #expect(dense.zeros.reduce(0, +) > 0, "\(name): nothing was pruned, the test proves little") }
      }
    }
  }
}
