import RealModule

/// Task head of an encoder.
public enum Head: Sendable, Equatable {
  /// Encoder only (hidden states and the mean-pooled embedding).
  case none
  /// Extractive QA (`qa_outputs`): start and end logits per token.
  case questionAnswering
  /// Sequence classification: one logit per label (`labels` from config.json id2label).
  case sequenceClassification(labels: [String])
}

extension Encoder {
  /// Evaluates `head` on the final hidden states in `buffers`, filling the logits of `output`.
  func applyHead(to output: inout EncoderOutput) throws {
    let hsz = config.hiddenSize, t = output.seqLen, bsz = output.batch
    let last = output.lastHiddenState
    switch (head, weights.head) {
    case (.none, _):
      return
    case (.questionAnswering, .questionAnswering(let w, let bias)?):
      // [batch·T, 2] = hidden · qa_outputsᵀ + b
      var logits = [Float](repeating: 0, count: bsz * t * 2)
      last.withUnsafeBufferPointer { x in
        logits.withUnsafeMutableBufferPointer { y in
          BLAS.linear(x: x.baseAddress!, rows: bsz * t, weight: w, bias: bias, y: y.baseAddress!)
        }
      }
      output.startLogits = (0..<bsz).map { b in (0..<t).map { logits[(b * t + $0) * 2] } }
      output.endLogits = (0..<bsz).map { b in (0..<t).map { logits[(b * t + $0) * 2 + 1] } }
    case (.sequenceClassification, let hw?):
      // The first token (<s> / [CLS]) of each sequence: [batch, hidden], through the family's classifier
      var first = [Float](repeating: 0, count: bsz * hsz)
      for b in 0..<bsz { for j in 0..<hsz { first[b * hsz + j] = last[b * t * hsz + j] } }
      guard case .classifier(let dense, let denseBias, let activation, let outW, let outBias) = hw else {
        throw SpiqaModelError.usage("this checkpoint has a question-answering head, not a classifier")
      }
      let labels = outW.shape[0]
      var pooled = [Float](repeating: 0, count: bsz * hsz)
      var logits = [Float](repeating: 0, count: bsz * labels)
      first.withUnsafeBufferPointer { x in
        pooled.withUnsafeMutableBufferPointer { p in
          BLAS.linear(x: x.baseAddress!, rows: bsz, weight: dense, bias: denseBias, y: p.baseAddress!)
          switch activation {
          case .tanh: for k in 0..<p.count { p[k] = Float.tanh(p[k]) }
          case .relu: for k in 0..<p.count { p[k] = max(0, p[k]) }
          case .gelu:
            // Exact GELU, x·Φ(x), in double (a few values per sequence).
            for k in 0..<p.count {
              let x = Double(p[k])
              p[k] = Float(0.5 * x * (1 + Double.erf(x / 2.0.squareRoot())))
            }
          }
          logits.withUnsafeMutableBufferPointer { y in
            BLAS.linear(x: UnsafePointer(p.baseAddress!), rows: bsz, weight: outW, bias: outBias, y: y.baseAddress!)
          }
        }
      }
      output.logits = (0..<bsz).map { b in Array(logits[(b * labels)..<((b + 1) * labels)]) }
    default:
      throw SpiqaModelError.usage("head \(head) requested but the checkpoint has no weights for it")
    }
  }
}
