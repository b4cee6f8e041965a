extension ModelFamily {
  /// ALBERT: factorized embeddings (`embedding_size`, projected by `encoder.embedding_hidden_mapping_in`) and
  /// cross-layer sharing: `num_hidden_groups` parameter sets (usually one) repeated over `num_hidden_layers`
  /// (`inner_group_num` must be 1); pooler (tanh) + classifier; default activation gelu_new.
  public static let albert = ModelFamily(
    modelType: "albert", architecturePrefixes: ["Albert"], weightPrefix: "albert.", configKeys: [:],
    defaults: Defaults(hiddenAct: "gelu_new"),
    embeddings: {
      var e = Embeddings.bertStyle
      e.projection = "encoder.embedding_hidden_mapping_in"
      return e
    }(),
    layers: Layers(
      prefix: "encoder.albert_layer_groups.{i}.albert_layers.0.", query: "attention.query", key: "attention.key",
      value: "attention.value", attentionOutput: "attention.dense", attentionNorm: "attention.LayerNorm",
      intermediate: "ffn", output: "ffn_output", outputNorm: "full_layer_layer_norm", sharing: .groups),
    heads: Heads(
      questionAnswering: "qa_outputs",
      classifier: ClassifierLayout(dense: "pooler", denseInBaseModel: true, activation: .tanh, out: "classifier")),
    template: .clsSep)
}
