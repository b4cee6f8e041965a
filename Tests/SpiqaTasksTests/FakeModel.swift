import Foundation

import SpiqaModel
import SpiqaTasks

/// A deterministic stand-in for the encoder: synthetic softmax-like attention per layer handed to the hooks, and
/// outputs that depend on the attention actually used, so pruning, quantization and replay change the results.
final class FakeModel: TaskModel {
  let layerCount = 2
  let headCount = 2
  let maxPositions = 512
  /// Attention after the hooks, per call: [layer] → [batch, heads, T, T].
  var seen: [[[Float]]] = []
  var hiddenCalls = 0

  func attention(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] {
    let t = batch.seqLen
    let b = batch.count
    var state = [[Float]](repeating: [Float](repeating: 0, count: t), count: b)
    var perLayer: [[Float]] = []
    for layer in 0..<layerCount {
      var hidden = [Float](repeating: 0.5, count: b * t * 4)
      let hd = HiddenShape(batch: b, seqLen: t, hidden: 4, lengths: batch.lengths)
      try hidden.withUnsafeMutableBufferPointer { try hooks.layerInput?(layer, $0, hd) }
      var probs = [Float](repeating: 0, count: b * headCount * t * t)
      for i in 0..<b {
        let n = batch.lengths[i]
        let ids = batch.inputIds[i]
        for h in 0..<headCount {
          for r in 0..<n {
            var row = (0..<n).map { c -> Float in
              let k = (ids[r] * 31 + ids[c] * 17 + h * 7 + layer * 3 + r * c) % 13
              return Foundation.exp(Float(k) * 0.6)
            }
            let s = row.reduce(0, +)
            row = row.map { $0 / s }
            for c in 0..<n { probs[((i * headCount + h) * t + r) * t + c] = row[c] }
          }
        }
      }
      let dims = AttentionShape(batch: b, heads: headCount, seqLen: t, lengths: batch.lengths)
      try probs.withUnsafeMutableBufferPointer { try hooks.runAttention(layer: layer, probs: $0, shape: dims) }
      try hidden.withUnsafeMutableBufferPointer { try hooks.layerOutput?(layer, $0, hd) }
      if hooks.layerInput != nil || hooks.layerOutput != nil { hiddenCalls += 1 }
      perLayer.append(probs)
      for i in 0..<b {
        for h in 0..<headCount {
          for r in 0..<t {
            for c in 0..<t { state[i][c] += probs[((i * headCount + h) * t + r) * t + c] * Float(r % 5 + 1) }
          }
        }
      }
    }
    seen.append(perLayer)
    calls.append(Call(t: t, lengths: batch.lengths, inputIds: batch.inputIds))
    return state
  }

  func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]]) {
    let state = try attention(batch, hooks: hooks)
    let start = state.map { $0.map { $0 * 0.7 } }
    let end = state.map { s in s.indices.map { i in (i > 0 ? s[i - 1] : 0) * 0.7 + s[i] * 0.1 } }
    return (start, end)
  }

  func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] {
    let state = try attention(batch, hooks: hooks)
    return state.enumerated().map { i, s in
      let n = batch.lengths[i]
      let even = (0..<n).reduce(Float(0)) { $0 + (batch.inputIds[i][$1] % 2 == 0 ? s[$1] : 0) }
      let total = s.prefix(n).reduce(0, +)
      return [total - even, even]
    }
  }

  /// Records (as a stream writer would store them: [layers, heads, n, n]) of every row of call `call`.
  func records(call: Int, keys: [RecordKey]) -> [ReplayRecord] {
    let c = calls[call]
    return keys.enumerated().map { row, key in
      let n = c.lengths[row]
      var values: [Float] = []
      for l in 0..<layerCount {
        for h in 0..<headCount {
          for r in 0..<n {
            for k in 0..<n { values.append(seen[call][l][((row * headCount + h) * c.t + r) * c.t + k]) }
          }
        }
      }
      return ReplayRecord(
        exampleId: key.exampleId, exampleIndex: key.exampleIndex, feature: key.feature, n: n,
        layers: Array(0..<layerCount), heads: Array(0..<headCount), tokenIds: Array(c.inputIds[row].prefix(n)),
        values: values, origin: "test: call \(call) row \(row)")
    }
  }

  struct Call {
    var t: Int
    var lengths: [Int]
    var inputIds: [[Int]]
  }
  var calls: [Call] = []
}
