/// Everything that distinguishes one encoder family (a `model_type` of config.json) from another: how its
/// config.json is spelled, its parameter names, its embeddings, its layer sharing, its heads and the special-token
/// template its tokenizer uses. The config reader, the weight loader, the encoder, the heads and the task
/// tokenizer read this description; nothing else looks at `model_type`. One file per family under `Families/`;
/// adding a family is one new file plus its line in `ModelFamily.supported` (docs/adding-a-model-family.md).
///
/// Every supported family is a post-LayerNorm transformer encoder (x ← LN(x + Attn(x)); x ← LN(x + FFN(x))) with
/// scaled dot-product attention, so LayerNorm placement and the attention formula are not parameters here; a
/// family that differs there (DeBERTa's disentangled attention, pre-LN models) needs encoder work first.
public struct ModelFamily: Sendable, Equatable, CustomStringConvertible {
  /// `model_type` in config.json, e.g. "bert".
  public let modelType: String
  /// Class-name prefixes of `architectures[]` that belong to the family, e.g. ["Bert"].
  public let architecturePrefixes: [String]
  /// Prefix of the base model's parameters in task checkpoints, e.g. "bert." (also tried without it).
  public let weightPrefix: String
  /// config.json keys where the family does not use BERT's names, e.g. DistilBERT's "dim" for "hidden_size".
  public let configKeys: [String: String]
  /// Values of config.json fields the family may omit.
  public let defaults: Defaults
  public let embeddings: Embeddings
  public let layers: Layers
  public let heads: Heads
  /// How special tokens frame one or two sequences (the tokenizer's post-processor).
  public let template: SpecialTokenTemplate

  public struct Defaults: Sendable {
    public var layerNormEps: Float = 1e-12
    public var padTokenId = 0
    public var hiddenAct = "gelu"
    public var typeVocabSize = 2
  }

  /// The embedding block: word (+ token type) + position, LayerNorm, then an optional projection to the hidden
  /// size (factorized embeddings: tables are [rows, embedding_size]).
  public struct Embeddings: Sendable {
    /// Names under the base model, e.g. "embeddings.word_embeddings".
    public var word: String
    public var position: String
    /// Token-type table; nil when the family has none (its encoder ignores token type ids).
    public var tokenType: String?
    public var layerNorm: String
    public var positions: PositionScheme
    /// The linear map embedding_size → hidden_size, under the base model; used when the sizes differ.
    public var projection: String?
  }

  /// Position ids of a sequence.
  public enum PositionScheme: Sendable {
    /// 0, 1, 2, … (BERT).
    case absolute
    /// Real tokens count from `pad_token_id + 1`, padding sits at `pad_token_id` (RoBERTa's
    /// create_position_ids_from_input_ids); the usable length shrinks by `pad_token_id + 1`.
    case afterPadding
  }

  /// Parameter names of one encoder layer, relative to `prefix` with "{i}" standing for the layer (or shared
  /// group) index. Each name is a Linear or LayerNorm module (".weight"/".bias" appended).
  public struct Layers: Sendable {
    public var prefix: String
    public var query: String, key: String, value: String
    public var attentionOutput: String, attentionNorm: String
    public var intermediate: String, output: String, outputNorm: String
    public var sharing: LayerSharing
  }

  public enum LayerSharing: Sendable {
    /// Every layer has its own parameters.
    case none
    /// ALBERT: `num_hidden_groups` parameter sets; layer l uses group l / (layers / groups).
    case groups
  }

  /// Task heads on top of the encoder.
  public struct Heads: Sendable {
    /// Top-level Linear [2, hidden] giving start and end logits per token.
    public var questionAnswering: String
    public var classifier: ClassifierLayout
    /// The masked-LM head of `*ForMaskedLM` checkpoints; nil when spiqa does not run the family's LM head.
    public var maskedLM: MaskedLMLayout? = nil
  }

  /// Masked LM (BERT's `cls.predictions`, RoBERTa's `lm_head`): hidden → dense [hidden, hidden] → GELU →
  /// LayerNorm → decoder [vocab, hidden] + bias [vocab]. The decoder is tied to the word embeddings unless the
  /// checkpoint stores its own. All names are top-level (not under the base model's prefix).
  public struct MaskedLMLayout: Sendable {
    public var dense: String
    public var layerNorm: String
    /// The decoder Linear; its `.weight` is usually absent (tied) and its bias may be stored as `bias` instead.
    public var decoder: String
    public var bias: String
  }

  /// Sequence classification: first token → dense [hidden, hidden] → activation → out [labels, hidden].
  public struct ClassifierLayout: Sendable {
    /// The dense layer's name; under the base model (with its prefix) when `denseInBaseModel`.
    public var dense: String
    public var denseInBaseModel: Bool
    public var activation: ClassifierActivation
    public var out: String
  }

  public enum ClassifierActivation: String, Sendable {
    case tanh, relu, gelu
  }

  /// Special-token framing of the inputs; token type ids are 0 for the first segment and 1 for the second when
  /// the family has token types.
  public enum SpecialTokenTemplate: Sendable {
    /// `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` (BERT, DistilBERT, ELECTRA, ALBERT).
    case clsSep
    /// `<s> A </s>` and `<s> A </s></s> B </s>` (RoBERTa, XLM-RoBERTa).
    case doubleSep
  }

  public var description: String { modelType }

  public static func == (a: ModelFamily, b: ModelFamily) -> Bool { a.modelType == b.modelType }

  /// Whether the encoder adds token-type embeddings.
  public var hasTokenTypes: Bool { embeddings.tokenType != nil }

  /// The config.json key the family uses for BERT's `key`.
  func configKey(_ key: String) -> String { configKeys[key] ?? key }
}

extension ModelFamily {
  /// Every family spiqa runs, by `model_type`.
  public static let supported: [ModelFamily] = [.albert, .bert, .distilbert, .electra, .roberta, .xlmRoberta]

  /// The family of `modelType`, or nil when it is not supported.
  public static func named(_ modelType: String) -> ModelFamily? {
    supported.first { $0.modelType == modelType }
  }

  /// One line for an unsupported `model_type`: names it and lists what is supported.
  static func refusal(_ modelType: String) -> String {
    let list = supported.map(\.modelType).joined(separator: ", ")
    let why = modelType.hasPrefix("deberta") ? " (DeBERTa's disentangled attention is not implemented)" : ""
    return "model_type \"\(modelType)\" is not supported\(why); supported: \(list)"
  }
}
