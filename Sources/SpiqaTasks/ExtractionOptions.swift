import SpiqaCore
import SpiqaIO
import SpiqaQuant

/// What `AttentionExtractor` records. What it does to the attention on the way (the model uses the result, and
/// the record holds it) is an `AttentionTransform`.
public struct ExtractionOptions: Sendable {
  /// Model layers to record (sorted, unique); nil = all.
  public var layers: [Int]?
  /// Heads to record (sorted, unique); nil = all.
  public var heads: [Int]?
  /// Also hand out `[layers + 1, n, hidden]` hidden states per sequence.
  public var hiddenStates = false
  /// Payload type written for attention and hidden states (`.float32` or `.float16`).
  public var dtype: NPYDType = .float32
  /// Add `tokens` and `token_ids` to the metadata.
  public var tokens = false
  /// How P·V runs under pruning or a quantizer; with `auto` and `groups`, the row-groups kernel, as spiqa-eval runs
  /// it (`AttentionHooks.productKernel`). The sparse kernels do not run while recording: `sparse` is sgemm here.
  public var attentionProduct: AttentionProductKernel = .auto

  public init() {}

  /// The `settings` object of a stream header: the transform's keys (`TransformMetadata.extractionHeader`) and
  /// the recording options.
  public func headerJSON(transform: AttentionTransform) -> JSONObject {
    var s = TransformMetadata.extractionHeader.object(transform)
    s["dtype"] = .string(dtype.rawValue)
    s["hidden_states"] = .bool(hiddenStates)
    s["tokens"] = .bool(tokens)
    return s
  }
}
