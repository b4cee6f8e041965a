import SpiqaModel
import SpiqaQuant
import SpiqaTestSupport
import Testing

@testable import SpiqaTasks

/// The forward pass with P·V by the sparse and code kernels (`AttentionProductKernel.sparse`) and by row groups
/// (`.groups`) against sgemm on the transformed attention (`.dense`): the same hidden states up to float rounding
/// and the same zero counts, for pruning, element-wise and clamped data-dependent quantizers, and a head selection.
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
        for kernel in [AttentionProductKernel.sparse, .groups] {
          let fast = try Self.run(t, kernel: kernel, encoder: encoder)
          let worst = zip(dense.hidden, fast.hidden).map { abs($0 - $1) / max(abs($0), 1) }.max() ?? 0
          #expect(worst <= 1e-4, "\(name), \(kernel), ISA \(isa): hidden states differ by \(worst)")
          #expect(dense.zeros == fast.zeros, "\(name), \(kernel), ISA \(isa): zero counts")
        }
        if t.threshold > 0 { #expect(dense.zeros.reduce(0, +) > 0, "\(name): nothing was pruned, the test proves little") }
      }
    }
  }

  /// An `attention` hook that only looks (a recorder) moves the fused transform in place, and must change no bit:
  /// the row-groups kernel still multiplies, so that attention recorded while quantizing replays to the scores of
  /// quantizing on the fly (the kernel's sums are not sgemm's).
  @Test func anObserverChangesNoBitOfTheRowGroupsProduct() throws {
    let encoder = try Encoder(randomWeightsFor: Self.config, seed: 5, maxBatch: 2, maxSeqLen: 96)
    encoder.threads = 1  // the ISA level is set for this thread only
    let logPruned = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    let transforms: [(String, AttentionTransform)] = [
      ("threshold", AttentionTransform(threshold: 0.0105)),
      ("log-pruned", AttentionTransform(quantizer: logPruned)),
      ("log-pruned + threshold", AttentionTransform(threshold: 0.0105, quantizer: logPruned)),
    ]
    try forEachISA { isa in
      var sgemmDiffers = false
      for (name, t) in transforms {
        let builder = AttentionHooks(transform: t, layers: Self.config.numLayers, heads: Self.config.numHeads)
        builder.productKernel = .groups
        let hooks = try builder.hooks(keys: Self.keys)
        #expect(hooks.attentionProductStandIn != nil, "\(name): the transform is fused into the product")
        var observed = hooks
        var seen = 0
        observed.attention = { _, _, _ in seen += 1 }
        let alone = try encoder.forward(Self.batch, hooks: hooks).lastHiddenState
        let watched = try encoder.forward(Self.batch, hooks: observed).lastHiddenState
        #expect(seen == Self.config.numLayers)
        #expect(alone == watched, "\(name), ISA \(isa): an observer changed the result")
        builder.productKernel = .dense
        sgemmDiffers = try sgemmDiffers || encoder.forward(Self.batch, hooks: builder.hooks(keys: Self.keys)).lastHiddenState != alone
      }
      // Otherwise the test could not tell the kernels apart.
      #expect(sgemmDiffers, "ISA \(isa): row groups and sgemm gave the same bits")
    }
  }

  /// The reference keeps p > t: an entry equal to the threshold is pruned by every kernel, as in place.
  @Test func kernelsPruneAnEntryAtTheThreshold() throws {
    let n = 9, d = 5
    let threshold: Float = 0.125
    var probs = [Float](repeating: 0, count: n * n)
    for i in probs.indices { probs[i] = [threshold, threshold.nextUp, threshold.nextDown, 0.5, 0][i % 5] }
    let values = (0..<(n * d)).map { Float($0 % 7) - 3 }
    let logPruned = try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3)
    let transforms = [AttentionTransform(threshold: Double(threshold)),
                      AttentionTransform(threshold: Double(threshold), quantizer: logPruned)]
    try forEachISA { isa in
      for t in transforms {
        var reference = probs
        t.transformElementwise(&reference, rows: n, columns: n, stride: n)
        let expected = Self.product(reference, values: values, n: n, d: d) { $0.dense() }
        for kernel in [AttentionProductKernel.BlockKernel.sparse, .rowGroups] {
          let hook = try #require(AttentionHooks.productHook(
            transform: t, kernel: kernel, counting: false, layers: 1, items: 1, heads: 1)).hook
          let got = Self.product(probs, values: values, n: n, d: d) { #expect(hook($0)) }
          #expect(got == expected || zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-5 },
                  "\(kernel), quantizer \(t.quantizer != nil), ISA \(isa)")
        }
      }
    }
  }

  /// `body` on a `BlockProduct` of a copy of `probs` `[n, n]` and `values` `[n, d]`; returns out `[n, d]`.
  static func product(_ probs: [Float], values: [Float], n: Int, d: Int, _ body: (BlockProduct) -> Void) -> [Float] {
    var p = probs, out = [Float](repeating: .nan, count: n * d)
    p.withUnsafeMutableBufferPointer { pb in
      values.withUnsafeBufferPointer { vb in
        out.withUnsafeMutableBufferPointer { ob in
          body(BlockProduct(layer: 0, item: 0, head: 0, probs: pb.baseAddress!, n: n, seqLen: n,
                            values: vb.baseAddress!, valuesStride: d, headSize: d, out: ob.baseAddress!, outStride: d))
        }
      }
    }
    return out
  }
}
