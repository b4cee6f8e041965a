extension ModelFamily {
  /// RoBERTa: BERT's layers; positions count from `pad_token_id + 1`; one token type; the classifier is
  /// `classifier.dense` (tanh) + `classifier.out_proj`; `<s> A </s></s> B </s>`.
  public static let roberta = ModelFamily(
    modelType: "roberta", architecturePrefixes: ["Roberta"], weightPrefix: "roberta.", configKeys: [:],
    defaults: Defaults(padTokenId: 1, typeVocabSize: 1),
    embeddings: .robertaStyle, layers: .bertStyle, heads: .robertaStyle, template: .doubleSep)
}

extension ModelFamily.Embeddings {
  /// BERT's names with RoBERTa's position ids.
  static let robertaStyle: ModelFamily.Embeddings = {
    var e = ModelFamily.Embeddings.bertStyle
    e.positions = .afterPadding
    return e
  }()
}

extension ModelFamily.Heads {
  /// `qa_outputs`; `classifier.dense` (tanh) → `classifier.out_proj`; `lm_head` (dense, GELU, layer_norm, decoder).
  static let robertaStyle = ModelFamily.Heads(
    questionAnswering: "qa_outputs",
    classifier: ModelFamily.ClassifierLayout(
      dense: "classifier.dense", denseInBaseModel: false, activation: .tanh, out: "classifier.out_proj"),
    maskedLM: ModelFamily.MaskedLMLayout(
      dense: "lm_head.dense", layerNorm: "lm_head.layer_norm", decoder: "lm_head.decoder", bias: "lm_head.bias"))
}
