import Foundation
import Testing

import SpiqaModel

/// Two encoders forwarding at the same time on two threads must give exactly what each gives alone: nothing one
/// encoder does (its worker count, its GEMM splitting) may reach the other through OpenBLAS's process-wide state.
@Suite("Concurrent encoders")
struct ConcurrentEncoderTests {
  /// A MiniLM-sized two-layer encoder with random weights: GEMMs large enough for OpenBLAS to thread them.
  static let config = ModelConfig(
    family: .bert, hiddenSize: 384, numLayers: 2, numHeads: 12, intermediateSize: 1536, layerNormEps: 1e-12,
    maxPositions: 512, typeVocabSize: 2, padTokenId: 0, vocabSize: 1000)

  /// One batch of `[4, 128]` token ids (a fixed scramble of 1..<1000), two of the four sequences padded.
  static let batch: EncoderBatch = {
    let lengths = [128, 97, 128, 64]
    let ids = lengths.enumerated().map { b, n in (0..<128).map { i in i < n ? (b * 131 + i * 617) % 999 + 1 : 0 } }
    return EncoderBatch(inputIds: ids, lengths: lengths)
  }()

  /// The bits of the last hidden state and of every layer's attention probabilities of one forward.
  static func bits(_ encoder: Encoder) throws -> [UInt32] {
    var attention: [UInt32] = []
    let hooks = ForwardHooks(attention: { _, probs, _ in attention += probs.map(\.bitPattern) })
    let out = try encoder.forward(batch, hooks: hooks)
    return out.lastHiddenState.map(\.bitPattern) + attention
  }

  @Test("two encoders on two threads match their serial results bit for bit", arguments: [(2, 2), (1, 2)])
  func concurrentForwardsAreIndependent(threads: (Int, Int)) throws {
    let encoders = try [threads.0, threads.1].enumerated().map { i, t in
      let e = try Encoder(randomWeightsFor: Self.config, seed: UInt64(i + 1), maxBatch: 4, maxSeqLen: 128)
      e.threads = t
      return e
    }
    let serial = try encoders.map { try Self.bits($0) }
    let iterations = 25
    let mismatches = Mismatches()
    let done = DispatchGroup()
    for (i, encoder) in encoders.enumerated() {
      let box = EncoderBox(encoder)
      done.enter()
      let thread = Thread {
        defer { done.leave() }
        for _ in 0..<iterations where (try? Self.bits(box.encoder)) != serial[i] { mismatches.add(i) }
      }
      thread.start()
    }
    done.wait()
    #expect(mismatches.counts.isEmpty, "forwards that differed from their serial run, by encoder: \(mismatches.counts)")
  }
}

/// Counts, by encoder index, the concurrent forwards whose bits differed (written from two threads).
private final class Mismatches: @unchecked Sendable {
  private let lock = NSLock()
  private var byEncoder: [Int: Int] = [:]
  func add(_ encoder: Int) { lock.withLock { byEncoder[encoder, default: 0] += 1 } }
  var counts: [Int: Int] { lock.withLock { byEncoder } }
}

/// Hands one encoder to the one thread that runs it.
private final class EncoderBox: @unchecked Sendable {
  let encoder: Encoder
  init(_ encoder: Encoder) { self.encoder = encoder }
}
