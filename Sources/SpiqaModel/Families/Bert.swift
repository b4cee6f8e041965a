extension ModelFamily {
  /// BERT (BertModel, BertForQuestionAnswering, BertForSequenceClassification, BertForMaskedLM): learned absolute
  /// positions, token types, pooler (tanh) + classifier, `cls.predictions` LM head.
  public static let bert = ModelFamily(
    modelType: "bert", architecturePrefixes: ["Bert"], weightPrefix: "bert.", configKeys: [:],
    defaults: Defaults(),
    embeddings: .bertStyle, layers: .bertStyle,
    heads: Heads(
      questionAnswering: "qa_outputs",
      classifier: ClassifierLayout(dense: "pooler.dense", denseInBaseModel: true, activation: .tanh, out: "classifier"),
      maskedLM: MaskedLMLayout(
        dense: "cls.predictions.transform.dense", layerNorm: "cls.predictions.transform.LayerNorm",
        decoder: "cls.predictions.decoder", bias: "cls.predictions.bias")),
    template: .clsSep)
}

extension ModelFamily.Embeddings {
  /// BERT's embedding names (word, position, token type, LayerNorm), no projection.
  static let bertStyle = ModelFamily.Embeddings(
    word: "embeddings.word_embeddings", position: "embeddings.position_embeddings",
    tokenType: "embeddings.token_type_embeddings", layerNorm: "embeddings.LayerNorm", positions: .absolute,
    projection: nil)
}

extension ModelFamily.Layers {
  /// BERT's layer names (`encoder.layer.{i}.attention.self.query`, …), one parameter set per layer.
  static let bertStyle = ModelFamily.Layers(
    prefix: "encoder.layer.{i}.", query: "attention.self.query", key: "attention.self.key",
    value: "attention.self.value", attentionOutput: "attention.output.dense",
    attentionNorm: "attention.output.LayerNorm", intermediate: "intermediate.dense", output: "output.dense",
    outputNorm: "output.LayerNorm", sharing: .none)
}
