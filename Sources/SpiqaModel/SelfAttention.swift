import SpiqaCore

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
    // Without a hook, padded rows and columns of P are exactly 0: only the real n×n block contributes and
    // padded context rows are 0. A hook may write anywhere, so then the whole T×T block is used — unless the
    // hooks promise to leave padding 0.
    let whole = (hook != nil || blockHook != nil || beforeProduct != nil) && !hooks.paddingStaysZero
    // A product hook that fuses a transform would hide it from an `attention` hook (a recorder): then the
    // transform runs in place (its stand-in) and P·V by the same kernel without the transform, or sgemm.
    let fusesTransform = hooks.attentionProduct != nil && hooks.attentionProductStandIn != nil
    let standIn = fusesTransform && hook != nil ? hooks.attentionProductStandIn : nil
    let productHook = whole ? nil : standIn != nil ? hooks.attentionProductAfterStandIn : hooks.attentionProduct
    /// P·V of one (item, head) block into its columns of `context` (over T×T when `whole`); padded context rows 0.
    func product(_ pair: Int, whole: Bool) {
      let b = pair / heads, h = pair % heads
      let n = whole ? t : lengths[b]
      let block = BlockProduct(
        layer: layer, item: b, head: h, probs: probs + pair * t * t, n: n, seqLen: t,
        values: qkv + b * t * ld + 2 * hidden + h * d, valuesStride: ld, headSize: d,
        out: context + b * t * hidden + h * d, outStride: hidden)
      if productHook?(block) != true { block.dense() }
      for r in n..<t { (block.out + r * hidden).update(repeating: 0, count: d) }
    }
    // With no hook that needs the whole layer between the softmax and P·V, each block is multiplied right
    // after its softmax, while it is still in cache.
    let fused = hook == nil && beforeProduct == nil
    Parallel.ranges(pairs, threads: threads) { range in
      for pair in range {
        let b = pair / heads, h = pair % heads, n = lengths[b]
        let p = probs + pair * t * t
        let q = qkv + b * t * ld + h * d
        BLAS.gemmNT(m: n, n: t, k: d, a: q, lda: ld, b: q + hidden, ldb: ld, c: p, ldc: t, alpha: alpha)
        Kernels.maskedSoftmaxRows(p, rows: n, stride: t, t: t, valid: n, maskValue: maskValue)
        if n < t { (p + n * t).update(repeating: 0, count: (t - n) * t) }
        blockHook?(layer, b, h, p, n, t)
        standIn?(layer, b, h, p, n, t)
        if fused { product(pair, whole: whole) }
      }
    }
    if fused { return }
    if let hook { try hook(layer, UnsafeMutableBufferPointer(start: probs, count: shape.count), shape) }
    let wholeProduct = whole && !(hooks.paddingStayedZero?(layer) ?? false)
    Parallel.ranges(pairs, threads: threads) { range in
      for pair in range {
        let b = pair / heads, h = pair % heads
        beforeProduct?(layer, b, h, probs + pair * t * t, lengths[b], t)
        product(pair, whole: wholeProduct)
      }
    }
  }
}
