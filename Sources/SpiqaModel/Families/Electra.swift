extension ModelFamily {
  /// ELECTRA (the discriminator encoder): BERT's layers on embeddings of `embedding_size`, projected to
  /// `hidden_size` by `embeddings_project` when the sizes differ; classifier `classifier.dense` (GELU) →
  /// `classifier.out_proj`.
  public static let electra = ModelFamily(
    modelType: "electra", architecturePrefixes: ["Electra"], weightPrefix: "electra.", configKeys: [:],
    defaults: Defaults(),
    embeddings: {
      var e = Embeddings.bertStyle
      e.projection = "embeddings_project"
      return e
    }(),
    layers: .bertStyle,
    heads: Heads(
      questionAnswering: "qa_outputs",
      classifier: ClassifierLayout(dense: "classifier.dense", denseInBaseModel: false, activation: .gelu,
                                   out: "classifier.out_proj")),
    template: .clsSep)
}
