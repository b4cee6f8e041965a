/// Shape of one layer's attention probabilities handed to `ForwardHooks.attention`.
///
/// The buffer is `[batch, heads, seqLen, seqLen]`, row-major (query rows, key columns). Row `r` / column `c`
/// of batch item `b` is padding when `r >= lengths[b]` / `c >= lengths[b]`; those entries are 0 when the hook runs.
public struct AttentionShape: Sendable, Equatable {
  public var batch: Int
  public var heads: Int
  public var seqLen: Int
  /// Real (non-pad) tokens per batch item; sequences are right-padded.
  public var lengths: [Int]

  public init(batch: Int, heads: Int, seqLen: Int, lengths: [Int]) {
    self.batch = batch
    self.heads = heads
    self.seqLen = seqLen
    self.lengths = lengths
  }

  /// Elements in the buffer: batch · heads · seqLen².
  public var count: Int { batch * heads * seqLen * seqLen }
  /// Offset of the `[seqLen, seqLen]` matrix of (`item`, `head`).
  public func offset(item: Int, head: Int) -> Int { (item * heads + head) * seqLen * seqLen }
}

/// Shape of hidden states handed to the hidden-state hooks: `[batch, seqLen, hidden]`, row-major.
public struct HiddenShape: Sendable, Equatable {
  public var batch: Int
  public var seqLen: Int
  public var hidden: Int
  /// Real (non-pad) tokens per batch item.
  public var lengths: [Int]

  public init(batch: Int, seqLen: Int, hidden: Int, lengths: [Int]) {
    self.batch = batch
    self.seqLen = seqLen
    self.hidden = hidden
    self.lengths = lengths
  }

  public var count: Int { batch * seqLen * hidden }
}

/// Callbacks into the forward pass at the reference points (docs/reference-behaviour.md §1.1, §1.3).
///
/// Buffers are only valid during the call; copy what you want to keep. Whatever a hook leaves in a buffer
/// is what the forward pass continues with (no renormalisation).
public struct ForwardHooks {
  /// Per layer, after softmax and the zeroing of padded rows and columns, before P·V.
  /// probs: `[batch, heads, T, T]` row-major, mutable: observe (record), transform in place (prune/quantize)
  /// or replace (overwrite with recorded probabilities).
  public typealias AttentionHook =
    (_ layer: Int, _ probs: UnsafeMutableBufferPointer<Float>, _ shape: AttentionShape) throws -> Void
  /// Per layer, hidden states `[batch, T, hidden]` row-major, mutable.
  public typealias HiddenHook =
    (_ layer: Int, _ states: UnsafeMutableBufferPointer<Float>, _ shape: HiddenShape) throws -> Void

  /// Per (item, head) block of a layer, on the worker thread that has just computed its softmax, so the block is
  /// still in cache: prune or quantize it in place (cheaper than another pass over the whole layer).
  /// block: `[T, T]` row-major, rows and columns from `n` on are padding and 0. Called concurrently for different
  /// blocks; every block of the layer is done before `attention` sees it.
  public typealias AttentionBlockHook =
    (_ layer: Int, _ item: Int, _ head: Int, _ block: UnsafeMutablePointer<Float>, _ n: Int, _ seqLen: Int) -> Void

  public var attention: AttentionHook?
  public var attentionBlock: AttentionBlockHook?
  /// Per (item, head) block again, after `attention` has seen the whole layer and just before the block's P·V, on
  /// the worker that multiplies it: the second half of a transform whose statistics need the whole layer (collect
  /// per block in `attentionBlock`, decide in `attention`, apply here).
  public var attentionBlockBeforeProduct: AttentionBlockHook?
  /// Per (item, head) block, in place of the dense P·V, on the worker that multiplies it (right after the softmax
  /// and `attentionBlock` when there is no `attention` or `attentionBlockBeforeProduct` hook, so the block is still
  /// in cache): compute `product.out` itself — skipping zeros, from the codes — and return true, or return false
  /// to leave it to sgemm. Only used with `paddingStaysZero`: the product covers the real n×n block.
  public var attentionProduct: ((_ product: BlockProduct) -> Bool)?
  /// What `attentionProduct` does to a block besides the product (a transform it fuses into the product), done in
  /// place instead, right after `attentionBlock`: used in place of `attentionProduct` whenever something else sees
  /// the layer's probabilities (an `attention` hook, such as a recorder) and by stand-ins of the encoder that
  /// compute no P·V (`runAttention`). Nil when `attentionProduct` only computes the product.
  public var attentionProductStandIn: AttentionBlockHook?
  /// P·V of a block `attentionProductStandIn` has transformed: `attentionProduct`'s kernel without the transform it
  /// fuses, so that an observer changes no bit of the product (compute `product.out` and return true, or return
  /// false to leave it to sgemm). Nil: sgemm.
  public var attentionProductAfterStandIn: ((_ product: BlockProduct) -> Bool)?
  /// Set when the attention hooks leave every padded row and column 0 (pruning, an element-wise quantizer with
  /// f(0) = 0, observers): P·V then runs over the real n×n block only, as without hooks. Otherwise a hook may have
  /// written anywhere, and P·V uses the whole T×T block (the reference's behaviour with a quantizer whose f(0) ≠ 0).
  public var paddingStaysZero = false
  /// Asked per layer after `attention` when `paddingStaysZero` is false: true when the hooks have left every padded
  /// row and column 0 after all (a data-dependent transform whose statistics turned out to map 0 to 0), so P·V
  /// runs over the real n×n block. Nil: the whole T×T block.
  public var paddingStayedZero: ((_ layer: Int) -> Bool)?
  /// The layer's input (the embeddings output for layer 0), before Q/K/V are computed; what the layer reads
  /// for Q/K/V *and* the residual — the hidden-state quantization point (§1.3).
  public var layerInput: HiddenHook?
  /// The layer's output after its final LayerNorm — the hidden-state threshold (`-ht`) point (§1.3).
  /// Recorded hidden states (`outputHiddenStates`) see the values after this hook.
  public var layerOutput: HiddenHook?

  public init(attention: AttentionHook? = nil, layerInput: HiddenHook? = nil, layerOutput: HiddenHook? = nil) {
    self.attention = attention
    self.layerInput = layerInput
    self.layerOutput = layerOutput
  }

  /// No hooks.
  public static var none: ForwardHooks { ForwardHooks() }

  /// Runs the attention hooks on one layer `[batch, heads, T, T]` as the forward pass does when the layer is
  /// observed: `attentionBlock` and `attentionProductStandIn` on every (item, head) block, then `attention` on the
  /// whole layer, then `attentionBlockBeforeProduct` per block. For stand-ins of the encoder (the encoder itself
  /// calls the block hooks inside its per-head loops).
  public func runAttention(layer: Int, probs: UnsafeMutableBufferPointer<Float>, shape: AttentionShape) throws {
    func eachBlock(_ hook: AttentionBlockHook?) {
      guard let hook, let base = probs.baseAddress else { return }
      for b in 0..<shape.batch {
        for h in 0..<shape.heads {
          hook(layer, b, h, base + shape.offset(item: b, head: h), shape.lengths[b], shape.seqLen)
        }
      }
    }
    eachBlock(attentionBlock)
    eachBlock(attentionProductStandIn)
    try attention?(layer, probs, shape)
    eachBlock(attentionBlockBeforeProduct)
  }
}

extension AttentionShape {
  /// Item `item`'s real-token probabilities, `[heads, n, n]` with `n = lengths[item]`, copied out of a
  /// `[batch, heads, T, T]` buffer (what attention dumps keep).
  public func realBlock(_ probs: UnsafeMutableBufferPointer<Float>, item: Int) -> [Float] {
    let n = lengths[item], t = seqLen
    var out = [Float](repeating: 0, count: heads * n * n)
    var k = 0
    for h in 0..<heads {
      let o = offset(item: item, head: h)
      for r in 0..<n {
        for c in 0..<n { out[k + c] = probs[o + r * t + c] }
        k += n
      }
    }
    return out
  }

  /// Writes `[heads, n, n]` values (e.g. recorded probabilities to replay) into item `item`'s real-token block
  /// of a `[batch, heads, T, T]` buffer; padded rows and columns are left as they are.
  public func setRealBlock(_ values: [Float], item: Int, in probs: UnsafeMutableBufferPointer<Float>) throws {
    let n = lengths[item], t = seqLen
    guard values.count == heads * n * n else {
      throw SpiqaModelError.usage(
        "attention block of \(values.count) values for item \(item); expected heads·n² = \(heads)·\(n)² = \(heads * n * n)")
    }
    var k = 0
    for h in 0..<heads {
      let o = offset(item: item, head: h)
      for r in 0..<n {
        for c in 0..<n { probs[o + r * t + c] = values[k + c] }
        k += n
      }
    }
  }
}
