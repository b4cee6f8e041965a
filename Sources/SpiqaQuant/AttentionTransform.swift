/// Which attention values a data-dependent quantizer takes its statistics over, per layer.
///
/// Each tool accepts the values that make sense for it: spiqa-extract all three, spiqa-quantize `record` and
/// `example` (a stream has no batches), spiqa-eval always `batch` (the reference's forward pass).
public enum QuantScope: String, Sendable, CaseIterable {
  /// Each sequence on its own (its `[heads, T, T]` block, padding zeros included).
  case record
  /// All sequences of the same example (SQuAD: a question's features; in a stream: consecutive records with the
  /// same `example_id`).
  case example
  /// The whole layer tensor `[batch, heads, T, T]` — what the reference's forward pass does.
  case batch
}

/// What happens to attention and hidden states in every layer: the one settings type of extraction, evaluation
/// and offline quantization.
///
/// In the reference order (docs/quantizers.md): attention is pruned (`p > threshold` kept, the rest 0), then
/// quantized (statistics per `scope` for data-dependent methods); each layer's input hidden states are quantized
/// to `hsBits` fixed-point bits and each layer's output has `|h| <= hsThreshold` zeroed. The kernels are pure
/// functions of the buffers they are given; the forward-pass hooks (SpiqaTasks `AttentionHooks`) and the stream
/// quantizer (`QuantizeStream`) decide which buffers form one scope. How a transform is written into record and
/// header metadata is `TransformMetadata`.
public struct AttentionTransform: Sendable {
  /// Pruning threshold as given (0 = off). Applied in float32 (`Float(threshold)`), like the reference.
  public var threshold: Double
  /// Quantizer applied after pruning (nil = off).
  public var quantizer: AttentionQuantizer?
  /// Statistics scope of data-dependent quantizers.
  public var scope: QuantScope
  /// Hidden-state threshold on each layer's output, as given (`|h| <= t` → 0; 0 = off). Applied in float32.
  public var hsThreshold: Double
  /// Fixed-point bits for each layer's input hidden states (0 = off; needs ≥ 7).
  public var hsBits: Int
  /// Model layers whose attention is transformed (nil = all), by model index. The forward-pass hooks and the
  /// stream quantizer honour it; `TransformMetadata` writes it as `transform_layers`.
  public var layers: Set<Int>?
  /// Model heads whose attention is transformed in the selected layers (nil = all); like `layers`
  /// (`transform_heads`). With a selection, a data-dependent quantizer takes its statistics over the selected
  /// heads of its scope only.
  public var heads: Set<Int>?
  /// A per-layer head selection, `mask[layer][head]` true = transformed (model indices; `transform_mask`). Excludes
  /// `layers` and `heads`; selects different heads in different layers, which their product cannot.
  public var mask: [[Bool]]?
  /// Head ablation: the selected heads' attention becomes 0 (transformers' `head_mask` 0: the head's context is
  /// 0). Needs a layer or head selection and excludes pruning and quantization.
  public var ablate: Bool = false

  /// - Parameters: see the properties; the defaults change nothing.
  public init(
    threshold: Double = 0, quantizer: AttentionQuantizer? = nil, scope: QuantScope = .batch,
    hsThreshold: Double = 0, hsBits: Int = 0
  ) {
    self.threshold = threshold
    self.quantizer = quantizer
    self.scope = scope
    self.hsThreshold = hsThreshold
    self.hsBits = hsBits
  }

  /// The transform that changes nothing (exact attention and hidden states).
  public static let identity = AttentionTransform()

  /// True when attention is pruned or quantized.
  public var changesAttention: Bool { threshold > 0 || quantizer != nil || ablate }

  /// True when a layer or head selection is set.
  public var hasSelection: Bool { layers != nil || heads != nil || mask != nil }

  /// True when nothing is changed (exact attention and hidden states).
  public var isIdentity: Bool { !changesAttention && hsThreshold == 0 && hsBits == 0 }

  /// True when a data-dependent quantizer runs: its statistics span the scope, so which sequences are grouped (and,
  /// for uniform_slog_mean, how far they are padded: `independentOfPadding`) changes the transformed values.
  public var takesScopeStatistics: Bool { quantizer.map { !$0.method.isElementwise } ?? false }

  /// Checks the values against what the kernels accept.
  /// - Throws: `QuantError` (usage) for negative or non-finite thresholds and hidden-state bits outside 0, 7…64.
  public func validate() throws {
    guard threshold.isFinite, threshold >= 0 else {
      throw QuantError("the pruning threshold must be a number ≥ 0, got \(threshold)", isUsage: true)
    }
    guard hsThreshold.isFinite, hsThreshold >= 0 else {
      throw QuantError("the hidden-state threshold must be a number ≥ 0, got \(hsThreshold)", isUsage: true)
    }
    guard hsBits == 0 || (hsBits >= 7 && hsBits <= 64) else {
      throw QuantError(
        "the fixed-point hidden-state quantizer needs 0 (off) or 7-64 bits (1 sign + 5 integer + fraction), got \(hsBits)",
        isUsage: true)
    }
    if ablate {
      guard hasSelection else {
        throw QuantError("head ablation needs a layer or head selection (it would zero every head)", isUsage: true)
      }
      guard threshold == 0, quantizer == nil else {
        throw QuantError("head ablation cannot be combined with pruning or quantization", isUsage: true)
      }
    }
    if let mask {
      guard layers == nil, heads == nil else {
        throw QuantError("a head mask cannot be combined with layer or head lists", isUsage: true)
      }
      guard let width = mask.first?.count, width > 0, mask.allSatisfy({ $0.count == width }) else {
        throw QuantError("the head mask must be a non-empty [layers, heads] matrix", isUsage: true)
      }
      guard mask.contains(where: { $0.contains(true) }) else {
        throw QuantError("the head mask selects no head", isUsage: true)
      }
    }
    if let l = layers, l.isEmpty { throw QuantError("the layer selection is empty", isUsage: true) }
    if let h = heads, h.isEmpty { throw QuantError("the head selection is empty", isUsage: true) }
  }

  /// Checks the selection against a model of `layers` layers and `heads` heads.
  /// - Throws: `QuantError` (usage) naming the first selected index the model lacks.
  public func checkSelection(layers layerCount: Int, heads headCount: Int) throws {
    if let mask, mask.count != layerCount || mask.contains(where: { $0.count != headCount }) {
      throw QuantError(
        "the head mask is [\(mask.count), \(mask.first?.count ?? 0)]; the model has [\(layerCount), \(headCount)] (layers, heads)",
        isUsage: true, selection: .mask)
    }
    if let bad = layers?.sorted().first(where: { $0 < 0 || $0 >= layerCount }) {
      throw QuantError(
        "transform layer \(bad) does not exist (the model has \(layerCount) layers: 0-\(layerCount - 1))", isUsage: true,
        selection: .layers)
    }
    if let bad = heads?.sorted().first(where: { $0 < 0 || $0 >= headCount }) {
      throw QuantError(
        "transform head \(bad) does not exist (the model has \(headCount) heads: 0-\(headCount - 1))", isUsage: true,
        selection: .heads)
    }
  }

  /// True when `layer`'s attention is transformed (see `layers`).
  @inline(__always)
  public func transforms(layer: Int) -> Bool {
    if let mask { return layer >= 0 && layer < mask.count && mask[layer].contains(true) }
    return layers?.contains(layer) ?? true
  }

  /// True when `head`'s attention is transformed in a selected layer (see `heads`).
  @inline(__always)
  public func transforms(head: Int) -> Bool { heads?.contains(head) ?? true }

  /// True when `head` of `layer` is transformed (model indices).
  public func transforms(layer: Int, head: Int) -> Bool {
    if let mask {
      return layer >= 0 && layer < mask.count && head >= 0 && head < mask[layer].count && mask[layer][head]
    }
    return transforms(layer: layer) && transforms(head: head)
  }

  /// The heads transformed in `layer`, sorted (nil = all).
  public func selectedHeads(layer: Int) -> [Int]? {
    if let mask {
      guard layer >= 0, layer < mask.count else { return [] }
      return mask[layer].indices.filter { mask[layer][$0] }
    }
    return heads?.sorted()
  }

  /// Prunes, then quantizes `parts` in place, as one scope (a data-dependent quantizer takes its statistics over
  /// all of them together).
  /// - Parameters:
  ///   - rowLength: length of one attention row (binarization's corrected variant normalises per row).
  ///   - countedZeros: +0.0 values the scope holds beyond `parts` (`AttentionQuantizer.apply`).
  /// - Returns: the statistics of a data-dependent quantizer, nil otherwise.
  /// - Throws: `QuantError` when the data defeats the quantizer (as the reference would fail).
  @discardableResult
  public func transformAttention(_ parts: [UnsafeMutableBufferPointer<Float>], rowLength: Int, countedZeros: Int = 0)
    throws -> QuantStatistics?
  {
    if ablate {
      for p in parts { p.update(repeating: 0) }
      return nil
    }
    if threshold > 0 {
      let t = Float(threshold)
      for p in parts { prune(p, threshold: t) }
    }
    return try quantizer?.apply(parts, rowLength: rowLength, countedZeros: countedZeros)
  }

  /// True when the attention transform maps 0 to +0, so padded rows and columns stay 0: no transform, pruning,
  /// ablation, an element-wise quantizer with f(0) = +0, or a data-dependent one that zeroes values below 1e-3
  /// (all but uniform_slog_mean, whose first level can go to zeros). The forward pass then multiplies only the
  /// real n×n block, as without hooks.
  public var keepsPaddingZero: Bool {
    guard let q = quantizer, !ablate else { return true }
    switch q.method {
    case .uniformSlogMean: return false
    case .binarization, .uniformSlinearClampedMean, .uniformSlogClampedMean: return true
    default: return q.quantize(0).bitPattern == 0
    }
  }

  /// True when the model's output for a sequence's real tokens does not depend on how far the sequence is padded:
  /// padding stays 0 (`keepsPaddingZero`) and no statistics count it (the data-dependent methods other than
  /// uniform_slog_mean take only values above 1e-3). A real token's attention to padding then stays exactly 0, so
  /// padded rows (whatever the hidden-state options do to them) reach no real token, and trimming the padding
  /// changes at most float rounding (docs/evaluation.md).
  public var independentOfPadding: Bool { keepsPaddingZero && !(quantizer?.statisticsTakeEveryValue ?? false) }

  /// True when, besides, a sequence's output does not depend on the other sequences of its batch: no data-dependent
  /// statistics, or statistics per record.
  public var independentOfBatch: Bool { independentOfPadding && (!takesScopeStatistics || scope == .record) }

  /// Prunes, then quantizes in place with an element-wise quantizer (or ablates), as `transformAttention` does, the
  /// `[rows, columns]` corner of a row-major block of row stride `stride` (the forward pass's per-head attention
  /// blocks, one setup for all rows). Data-dependent quantizers need the whole scope and are not applied here.
  public func transformElementwise(_ base: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
    if ablate || threshold > 0 {
      for r in 0..<rows {
        let row = UnsafeMutableBufferPointer(start: base + r * stride, count: columns)
        if ablate { row.update(repeating: 0) } else { prune(row, threshold: Float(threshold)) }
      }
      if ablate { return }
    }
    if let q = quantizer, q.method.isElementwise { q.applyElementwise(base, rows: rows, columns: columns, stride: stride) }
  }

  /// A layer's input hidden states `[batch, T, hidden]`, in place: fixed-point quantization (nothing when off).
  /// - Throws: `QuantError` (usage) for bits the quantizer refuses.
  public func transformLayerInput(_ states: UnsafeMutableBufferPointer<Float>) throws {
    if hsBits > 0 { try HiddenStateQuantizer.fixed(states, bits: hsBits) }
  }

  /// A layer's output hidden states `[batch, T, hidden]`, in place: the threshold (nothing when off).
  public func transformLayerOutput(_ states: UnsafeMutableBufferPointer<Float>) {
    if hsThreshold > 0 { pruneHidden(states, threshold: Float(hsThreshold)) }
  }
}
