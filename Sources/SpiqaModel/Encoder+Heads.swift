import RealModule

/// Task head of an encoder.
public enum Head: Sendable, Equatable {
  /// Encoder only (hidden states and the mean-pooled embedding).
  case none
  /// Extractive QA (`qa_outputs`): start and end logits per token.
  case questionAnswering
  /// Sequence classification: one logit per label (`labels` from config.json id2label).
  case sequenceClassification(labels: [String])
  /// Masked LM: vocabulary logits at chosen positions (`Encoder.maskedLMLogits`; `forward` computes none).
  case maskedLM
}

extension Encoder {
  /// Evaluates `head` on the final hidden states in `buffers`, filling the logits of `output`.
  func applyHead(to output: inout EncoderOutput) throws {
    let hsz = config.hiddenSize, t = output.seqLen, bsz = output.batch
    let last = output.lastHiddenState
    switch (head, weights.head) {
    case (.none, _), (.maskedLM, _):
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

extension Encoder {
  /// The masked-LM head at one position per sequence: `[rows.count][vocab]` logits, where row k is position
  /// `rows[k].position` of sequence `rows[k].sequence` of `output` (a `forward` of the same batch).
  /// hidden → dense → GELU (exact) → LayerNorm → decoder + bias, as BertLMPredictionHead / RobertaLMHead.
  /// - Throws: `SpiqaModelError.usage` when the checkpoint has no masked-LM head or a row is out of range.
  public func maskedLMLogits(_ output: EncoderOutput, rows: [(sequence: Int, position: Int)]) throws -> [[Float]] {
    guard case .maskedLM(let dense, let denseBias, let gamma, let beta, let decoder, let decoderBias)? = weights.head
    else {
      throw SpiqaModelError.usage("the checkpoint has no masked-LM head (cls.predictions / lm_head)")
    }
    let h = config.hiddenSize, t = output.seqLen, m = rows.count
    let vocab = decoder.shape[0]
    guard m > 0 else { return [] }
    var x = [Float](repeating: 0, count: m * h)
    for (k, r) in rows.enumerated() {
      guard r.sequence >= 0, r.sequence < output.batch, r.position >= 0, r.position < t else {
        throw SpiqaModelError.usage("masked-LM row \(r) outside the batch [\(output.batch), \(t)]")
      }
      let src = (r.sequence * t + r.position) * h
      for j in 0..<h { x[k * h + j] = output.lastHiddenState[src + j] }
    }
    var y = [Float](repeating: 0, count: m * h)
    var logits = [Float](repeating: 0, count: m * vocab)
    let eps = config.layerNormEps
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        BLAS.linear(x: xp.baseAddress!, rows: m, weight: dense, bias: denseBias, y: yp.baseAddress!, threads: threads)
        for k in 0..<yp.count {
          let v = Double(yp[k])
          yp[k] = Float(0.5 * v * (1 + Double.erf(v / 2.0.squareRoot())))
        }
        // LayerNorm per row, in double (m rows of `hidden` values).
        for k in 0..<m {
          var mean = 0.0, sq = 0.0
          for j in 0..<h { mean += Double(yp[k * h + j]) }
          mean /= Double(h)
          for j in 0..<h { let d = Double(yp[k * h + j]) - mean; sq += d * d }
          let inv = 1 / (sq / Double(h) + Double(eps)).squareRoot()
          for j in 0..<h {
            yp[k * h + j] = Float((Double(yp[k * h + j]) - mean) * inv) * gamma.pointer[j] + beta.pointer[j]
          }
        }
        logits.withUnsafeMutableBufferPointer { lp in
          BLAS.linear(
            x: UnsafePointer(yp.baseAddress!), rows: m, weight: decoder, bias: decoderBias, y: lp.baseAddress!,
            threads: threads)
        }
      }
    }
    return (0..<m).map { Array(logits[($0 * vocab)..<(($0 + 1) * vocab)]) }
  }
}
