import Foundation
import SpiqaModel
import SpiqaQuant
import Testing

@testable import SpiqaTasks

/// The blockwise form of the data-dependent quantizers (keys per block, statistics per scope, cascade per block:
/// what spiqa-eval runs) gives the same bits as quantizing each scope's buffers in one call (what the recorder
/// path, the stream quantizer and the reference do), for every scope, with pruning and a head selection, and counts
/// the same zeros. uniform_slog_mean also quantizes the padding when less than half of a scope is 0 (item 0 is
/// unpadded, item 1 about half), and says whether P·V may skip it.
@Suite struct BlockwiseQuantizationTests {
  static let shape = AttentionShape(batch: 3, heads: 4, seqLen: 40, lengths: [40, 29, 11])
  /// Mostly padding: uniform_slog_mean keeps 0 at 0 over the whole batch.
  static let paddedShape = AttentionShape(batch: 3, heads: 4, seqLen: 40, lengths: [20, 29, 11])
  /// Two features of example "a", one of "b" (the `example` scope groups the first two).
  static let keys = AttentionHooksTests.keys

  /// Softmax rows over the real block with peaky logits (many values below 1e-3), padding 0.
  static func layer(seed: UInt64, shape: AttentionShape = shape) -> [Float] {
    var p = [Float](repeating: 0, count: shape.count)
    var state = seed
    for b in 0..<shape.batch {
      let n = shape.lengths[b]
      for h in 0..<shape.heads {
        for r in 0..<n {
          var row = (0..<n).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let u = Double(state >> 11) / Double(1 << 53)
            return exp(9 * u * u * u)
          }
          let s = row.reduce(0, +)
          row = row.map { $0 / s }
          for c in 0..<n { p[shape.offset(item: b, head: h) + r * shape.seqLen + c] = Float(row[c]) }
        }
      }
    }
    return p
  }

  @Test(arguments: [QuantMethod.uniformSlinearClampedMean, .uniformSlogClampedMean, .uniformSlogMean])
  func blockwiseEqualsWholeScope(method: QuantMethod) throws {
    for (scope, shape) in QuantScope.allCases.map({ ($0, Self.shape) }) + [(.batch, Self.paddedShape)] {
      for bits in [2, 3, 4] {
        for (threshold, heads) in [(0.0, nil), (0.01, Set([1, 3]))] as [(Double, Set<Int>?)] {
          var t = AttentionTransform(threshold: threshold, quantizer: try AttentionQuantizer(method: method, bits: bits),
                                     scope: scope)
          t.heads = heads
          let label = "\(method.rawValue) \(shape.lengths) b=\(bits) \(scope.rawValue) t=\(threshold) heads=\(heads.map { $0.sorted() } ?? [])"
          let input = Self.layer(seed: UInt64(bits * 7 + (QuantScope.allCases.firstIndex(of: scope) ?? 0) * 131), shape: shape)
          // Blockwise, through the hooks spiqa-eval uses.
          let pipeline = AttentionHooks(transform: t, layers: 1, heads: shape.heads, countSparsity: true)
          pipeline.threads = bits == 3 ? 2 : 1
          let hooks = try pipeline.hooks(keys: Self.keys)
          #expect(hooks.attentionBlockBeforeProduct != nil, "\(label): not the blockwise path")
          var blockwise = input
          try blockwise.withUnsafeMutableBufferPointer { try hooks.runAttention(layer: 0, probs: $0, shape: shape) }
          // Whole scope at once.
          var whole = input
          try whole.withUnsafeMutableBufferPointer { probs in
            let groups = AttentionHooks.scopeGroups(Self.keys, scope: scope)
            for parts in AttentionHooks.scopes(probs, shape: shape, groups: groups, heads: t.selectedHeads(layer: 0)) {
              try t.transformAttention(parts, rowLength: shape.seqLen)
            }
          }
          #expect(zip(blockwise, whole).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(label)")
          // P·V over the real n×n block exactly when every padded value is still 0.
          var paddingZero = true
          for b in 0..<shape.batch {
            let n = shape.lengths[b], s = shape.seqLen
            for h in 0..<shape.heads {
              for r in 0..<s { for c in 0..<s where (r >= n || c >= n) && whole[shape.offset(item: b, head: h) + r * s + c] != 0 { paddingZero = false } }
            }
          }
          let skipsPadding = hooks.paddingStaysZero || (hooks.paddingStayedZero?(0) ?? false)
          #expect(!skipsPadding || paddingZero, "\(label)")
          if method != .uniformSlogMean || shape == Self.paddedShape { #expect(skipsPadding, "\(label)") }
          #expect(blockwise != input, "\(label): nothing was quantized")
          var zeros = 0
          for b in 0..<shape.batch {
            let n = shape.lengths[b]
            for h in 0..<shape.heads {
              for r in 0..<n {
                for c in 0..<n where whole[shape.offset(item: b, head: h) + r * shape.seqLen + c] == 0 { zeros += 1 }
              }
            }
          }
          let total = shape.lengths.reduce(0) { $0 + $1 * $1 } * shape.heads
          #expect(abs(pipeline.sparsity.overall - Double(zeros) / Double(total)) < 1e-12, "\(label)")
        }
      }
    }
  }
}
