/// Multi-head self-attention over a fused Q/K/V buffer, in the reference order (docs/reference-behaviour.md §1.1):
/// scores = Q·Kᵀ/√d + mask → softmax (f32) → zero padded rows and columns → hook → P·V.
struct SelfAttention {
  var heads: Int
  var headSize: Int
  /// Added to the scores of padded key columns before the softmax: the reference's −10000
  /// (`(1 - mask) * -10000`). Modern transformers adds the dtype minimum instead; after the softmax both give
  /// exactly 0 in f32 for any realistic scores, and padded columns are zeroed afterwards anyway.
  var maskValue: Float
  /// Workers for the per-(item, head) loop; each runs single-threaded BLAS.
  var threads: Int

  /// - qkv: `[batch, T, 3·hidden]` row-major: queries, keys, values side by side, head `h` at columns `h·d..<(h+1)·d`.
  /// - probs: room for `[batch, heads, T, T]`; filled with the probabilities the hook sees.
  /// - context: `[batch, T, hidden]`, receives P·V with heads concatenated.
  func callAsFunction(
    qkv: UnsafePointer<Float>, probs: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>,
    shape: AttentionShape, layer: Int, hooks: ForwardHooks
  ) throws {
    let hook = hooks.attention, blockHook = hooks.attentionBlock, beforeProduct = hooks.attentionBlockBeforeProduct
    let t = shape.seqLen, d = headSize, hidden = heads * d, ld = 3 * hidden
    let pairs = shape.batch * heads
    let alpha = Float(1 / Double(d).squareRoot())
    let lengths = shape.lengths
    let maskValue = self.maskValue
    Kernels.parallel(pairs, threads: threads) { range in
      for pair in range {
        let b = pair / heads, h = pair % heads, n = lengths[b]
        let p = probs + pair * t * t
        let q = qkv + b * t * ld + h * d
        BLAS.gemmNT(m: n, n: t, k: d, a: q, lda: ld, b: q + hidden, ldb: ld, c: p, ldc: t, alpha: alpha)
        Kernels.maskedSoftmaxRows(p, rows: n, stride: t, t: t, valid: n, maskValue: maskValue)
        if n < t { (p + n * t).update(repeating: 0, count: (t - n) * t) }
        blockHook?(layer, b, h, p, n, t)
      }
    }
    if let hook { try hook(layer, UnsafeMutableBufferPointer(start: probs, count: shape.count), shape) }
    // Without a hook, padded rows and columns of P are exactly 0: only the real n×n block contributes and
    // padded context rows are 0. A hook may write anywhere, so then the whole T×T block is used — unless the
    // hooks promise to leave padding 0.
    let whole = (hook != nil || blockHook != nil || beforeProduct != nil) && !hooks.paddingStaysZero
    Kernels.parallel(pairs, threads: threads) { range in
      for pair in range {
        let b = pair / heads, h = pair % heads
        beforeProduct?(layer, b, h, probs + pair * t * t, lengths[b], t)
        let n = whole ? t : lengths[b]
        let out = context + b * t * hidden + h * d
        BLAS.gemmNN(m: n, n: d, k: n, a: probs + pair * t * t, lda: t, b: qkv + b * t * ld + 2 * hidden + h * d,
                    ldb: ld, c: out, ldc: hidden)
        for r in n..<t { (out + r * hidden).update(repeating: 0, count: d) }
      }
    }
  }
}
