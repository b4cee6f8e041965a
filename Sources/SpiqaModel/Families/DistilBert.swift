extension ModelFamily {
  /// DistilBERT: no token types, its own config keys (`dim`, `n_layers`, …) and parameter names
  /// (`transformer.layer.{i}.attention.q_lin`, …); classifier `pre_classifier` (ReLU) → `classifier`.
  /// `sinusoidal_pos_embds` needs nothing special: the sinusoids are stored in the position table.
  public static let distilbert = ModelFamily(
    modelType: "distilbert", architecturePrefixes: ["DistilBert"], weightPrefix: "distilbert.",
    configKeys: ["hidden_size": "dim", "num_hidden_layers": "n_layers", "num_attention_heads": "n_heads",
                 "intermediate_size": "hidden_dim", "hidden_act": "activation"],
    defaults: Defaults(),
    embeddings: Embeddings(
      word: "embeddings.word_embeddings", position: "embeddings.position_embeddings", tokenType: nil,
      layerNorm: "embeddings.LayerNorm", positions: .absolute, projection: nil),
    layers: Layers(
      prefix: "transformer.layer.{i}.", query: "attention.q_lin", key: "attention.k_lin", value: "attention.v_lin",
      attentionOutput: "attention.out_lin", attentionNorm: "sa_layer_norm", intermediate: "ffn.lin1",
      output: "ffn.lin2", outputNorm: "output_layer_norm", sharing: .none),
    heads: Heads(
      questionAnswering: "qa_outputs",
      classifier: ClassifierLayout(dense: "pre_classifier", denseInBaseModel: false, activation: .relu,
                                   out: "classifier")),
    template: .clsSep)
}
