import Foundation
import Testing

import SpiqaModel

/// The hooks at the reference points: attention (observe / transform / replace) and hidden states (§1.1, §1.3).
@Suite("ForwardHooks")
struct ForwardHookTests {
  static func tinyBERT() throws -> Encoder {
    try Encoder(directory: try #require(fixtureDirectory) + "/tiny-bert-qa-f32", maxBatch: 4, maxSeqLen: 32)
  }

  /// Compares a hooked forward with the transformers run whose attention function applies the same change in
  /// the reference order (softmax → zero pad rows/cols → change → P·V). Padded rows are comparable here.
  func compareWholeTensors(_ name: String, hooks: ForwardHooks, recorder: AttentionRecorder) throws {
    let bundle = try ReferenceBundle(name)
    let encoder = try Self.tinyBERT()
    let batch = try #require(try bundle.batches(padTokenId: 0).first)
    let out = try encoder.forward(batch, hooks: hooks, outputHiddenStates: true)
    let c = encoder.config, bsz = batch.batchSize, t = batch.seqLen, heads = c.numHeads
    // Reference attention [B, L, H, T, T] vs recorded [L][B, H, T, T].
    let refAttn = try bundle.array("attn").values
    var mine: [Float] = []
    for b in 0..<bsz { for l in 0..<c.numLayers { mine += recorder.layers[l][(b * heads * t * t)..<((b + 1) * heads * t * t)] } }
    var attn = Deviation(), hidden = Deviation(), logits = Deviation()
    attn.add(mine, refAttn)
    let states = try #require(out.hiddenStates)
    var mineHidden: [Float] = []
    let hsz = c.hiddenSize
    for b in 0..<bsz { for s in states { mineHidden += s[(b * t * hsz)..<((b + 1) * t * hsz)] } }
    hidden.add(mineHidden, try bundle.array("hidden").values)
    logits.add(try #require(out.startLogits).flatMap { $0 }, try bundle.array("start").values)
    logits.add(try #require(out.endLogits).flatMap { $0 }, try bundle.array("end").values)
    #expect(attn.maxAbs <= 1e-5, "\(name) attention: \(attn)")
    #expect(hidden.maxRel <= 1e-4, "\(name) hidden (padded rows included): \(hidden)")
    #expect(logits.maxRel <= 1e-4, "\(name) logits (padded positions included): \(logits)")
    print("hooks \(name): attention \(attn); hidden \(hidden); logits \(logits)")
  }

  @Test("transform: pruning p > 0.05 in the attention hook matches the reference order in transformers")
  func prune() throws {
    let recorder = AttentionRecorder()
    var hooks = ForwardHooks()
    hooks.attention = { layer, probs, shape in
      for k in probs.indices where !(probs[k] > 0.05) { probs[k] = 0 }
      try recorder.hooks.attention?(layer, probs, shape)
    }
    try compareWholeTensors("tiny-bert-qa-f32-pruned", hooks: hooks, recorder: recorder)
  }

  @Test("replace: uniform attention over the real tokens written by the hook matches transformers")
  func replace() throws {
    let recorder = AttentionRecorder()
    var hooks = ForwardHooks()
    hooks.attention = { layer, probs, shape in
      for b in 0..<shape.batch {
        let n = shape.lengths[b], t = shape.seqLen
        for h in 0..<shape.heads {
          let o = shape.offset(item: b, head: h)
          for r in 0..<t { for c in 0..<t { probs[o + r * t + c] = (r < n && c < n) ? 1 / Float(n) : 0 } }
        }
      }
      try recorder.hooks.attention?(layer, probs, shape)
    }
    try compareWholeTensors("tiny-bert-qa-f32-uniform", hooks: hooks, recorder: recorder)
  }

  @Test("observe: rows of real tokens sum to 1, padded rows and columns are 0, shape and layers as documented")
  func observe() throws {
    let encoder = try Self.tinyBERT()
    let batch = EncoderBatch(sequences: [[2, 17, 99, 3], [2, 5, 3], [2, 44, 45, 46, 47, 48, 3]], padTokenId: 0)
    var seen: [Int] = []
    let hooks = ForwardHooks(attention: { layer, probs, shape in
      seen.append(layer)
      #expect(shape == AttentionShape(batch: 3, heads: 4, seqLen: 7, lengths: [4, 3, 7]))
      #expect(probs.count == shape.count)
      for b in 0..<3 {
        for h in 0..<4 {
          let o = shape.offset(item: b, head: h)
          for r in 0..<7 {
            let row = probs[(o + r * 7)..<(o + r * 7 + 7)]
            if r < shape.lengths[b] {
              #expect(abs(row.reduce(0, +) - 1) < 1e-5)
              #expect(row.dropFirst(shape.lengths[b]).allSatisfy { $0 == 0 })
            } else {
              #expect(row.allSatisfy { $0 == 0 })
            }
          }
        }
      }
    })
    _ = try encoder.forward(batch, hooks: hooks)
    #expect(seen == [0, 1])
  }

  @Test("identity replay: writing back recorded probabilities reproduces the forward bit for bit")
  func replay() throws {
    let encoder = try Self.tinyBERT()
    let batch = EncoderBatch(sequences: [[2, 17, 99, 3], [2, 5, 3, 8, 9, 10]], padTokenId: 0)
    let recorder = AttentionRecorder()
    let plain = try encoder.forward(batch, hooks: recorder.hooks)
    let replayed = try encoder.forward(batch, hooks: ForwardHooks(attention: { layer, probs, _ in
      for k in probs.indices { probs[k] = 0 }  // prove the replayed values, not leftovers, are used
      _ = probs.update(fromContentsOf: recorder.layers[layer])
    }))
    #expect(plain.lastHiddenState == replayed.lastHiddenState)
    #expect(plain.startLogits == replayed.startLogits)
  }

  @Test("realBlock / setRealBlock: a padded batch replays the blocks recorded from sequences run alone")
  func realBlocks() throws {
    let encoder = try Self.tinyBERT()
    let seqs = [[2, 17, 99, 3, 7], [2, 5, 3]]
    // Record each sequence alone, as [heads, n, n] per layer.
    var recorded: [[[Float]]] = []
    for s in seqs {
      var layers: [[Float]] = []
      _ = try encoder.forward(EncoderBatch(sequences: [s], padTokenId: 0), hooks: ForwardHooks(attention: { _, p, shape in
        #expect(shape.realBlock(p, item: 0) == Array(p))  // no padding: the block is the whole buffer
        layers.append(shape.realBlock(p, item: 0))
      }))
      recorded.append(layers)
    }
    // Replay them into a padded batch of two *other* sequences: the outputs become those of the recorded attention.
    let other = EncoderBatch(sequences: [[2, 40, 41, 3, 9], [2, 6, 3]], padTokenId: 0)
    let replayed = try encoder.forward(other, hooks: ForwardHooks(attention: { layer, p, shape in
      for b in 0..<2 { try shape.setRealBlock(recorded[b][layer], item: b, in: p) }
      for b in 0..<2 { #expect(shape.realBlock(p, item: b) == recorded[b][layer]) }
    }))
    let plain = try encoder.forward(other)
    #expect(replayed.lastHiddenState != plain.lastHiddenState)
    #expect(throws: SpiqaModelError.self) {
      try encoder.forward(other, hooks: ForwardHooks(attention: { _, p, shape in try shape.setRealBlock([1], item: 0, in: p) }))
    }
  }

  @Test("no attention hook (real block only) and a no-op hook (whole T×T block) agree, padded rows included")
  func hookFreePath() throws {
    let encoder = try Self.tinyBERT()
    let batch = EncoderBatch(sequences: [[2, 17, 99, 3], [2, 5, 3, 8, 9, 10, 11, 12, 3], [2, 400, 3]], padTokenId: 0)
    let free = try encoder.forward(batch, outputHiddenStates: true)
    let hooked = try encoder.forward(batch, hooks: ForwardHooks(attention: { _, _, _ in }), outputHiddenStates: true)
    var d = Deviation()
    let (freeStates, hookedStates) = (try #require(free.hiddenStates), try #require(hooked.hiddenStates))
    #expect(freeStates.count == hookedStates.count)
    for (a, b) in zip(freeStates, hookedStates) { d.add(a, b) }
    d.add(try #require(free.startLogits).flatMap { $0 }, try #require(hooked.startLogits).flatMap { $0 })
    #expect(d.maxRel <= 1e-5, "\(d)")  // k = n vs k = T changes the GEMM summation order
  }

  @Test("padded batch rows equal the same sequences run alone")
  func paddingInvariance() throws {
    let encoder = try Self.tinyBERT()
    let seqs = [[2, 17, 99, 3], [2, 5, 3, 8, 9, 10, 11, 12, 3], [2, 400, 3]]
    let batched = try encoder.forward(EncoderBatch(sequences: seqs, padTokenId: 0))
    let hsz = encoder.config.hiddenSize, t = 9
    for (b, s) in seqs.enumerated() {
      let alone = try encoder.forward(EncoderBatch(sequences: [s], padTokenId: 0))
      var d = Deviation()
      d.add(batched.lastHiddenState[(b * t * hsz)..<((b * t + s.count) * hsz)], alone.lastHiddenState)
      d.add(batched.meanPooled[b], alone.meanPooled[0])
      #expect(d.maxRel <= 1e-5, "sequence \(b): \(d)")
    }
  }

  @Test("hidden-state hooks: layer input vs layer output point (§1.3) and what output_hidden_states records")
  func hiddenHooks() throws {
    let encoder = try Self.tinyBERT()
    let batch = EncoderBatch(sequences: [[2, 17, 99, 3, 55, 61], [2, 5, 3]], padTokenId: 0)
    let threshold: Float = 0.5
    func mask(_ x: UnsafeMutableBufferPointer<Float>) { for k in x.indices where !(x[k] > threshold || x[k] < -threshold) { x[k] = 0 } }
    // The same masking applied as layer 0's output hook or as layer 1's input hook.
    let asOutput = try encoder.forward(batch, hooks: ForwardHooks(layerOutput: { l, x, shape in
      #expect(shape == HiddenShape(batch: 2, seqLen: 6, hidden: 64, lengths: [6, 3]))
      if l == 0 { mask(x) }
    }), outputHiddenStates: true)
    let asInput = try encoder.forward(batch, hooks: ForwardHooks(layerInput: { l, x, _ in if l == 1 { mask(x) } }),
                                      outputHiddenStates: true)
    let plain = try encoder.forward(batch, outputHiddenStates: true)
    #expect(asOutput.lastHiddenState == asInput.lastHiddenState)
    #expect(asOutput.lastHiddenState != plain.lastHiddenState)
    let h1Output = try #require(asOutput.hiddenStates)[1], h1Input = try #require(asInput.hiddenStates)[1]
    // After a layerOutput hook the recorded state is masked; a layerInput hook acts after recording.
    #expect(h1Output.allSatisfy { $0 == 0 || abs($0) > threshold })
    #expect(h1Input == (try #require(plain.hiddenStates))[1])
    // Layer 0's input hook sees the embeddings output, i.e. hidden_states[0].
    var embeddings: [Float] = []
    _ = try encoder.forward(batch, hooks: ForwardHooks(layerInput: { l, x, _ in if l == 0 { embeddings = Array(x) } }))
    #expect(embeddings == (try #require(plain.hiddenStates))[0])
  }

  @Test("a throwing hook stops the forward with its error")
  func throwingHook() throws {
    struct Stop: Error {}
    let encoder = try Self.tinyBERT()
    #expect(throws: Stop.self) {
      try encoder.forward(EncoderBatch(sequences: [[2, 3]], padTokenId: 0),
                          hooks: ForwardHooks(attention: { _, _, _ in throw Stop() }))
    }
  }
}
