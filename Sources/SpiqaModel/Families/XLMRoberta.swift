extension ModelFamily {
  /// XLM-RoBERTa: RoBERTa's math and parameter names (its base model is also stored as `roberta.`), with a
  /// SentencePiece (Unigram) vocabulary.
  public static let xlmRoberta = ModelFamily(
    modelType: "xlm-roberta", architecturePrefixes: ["XLMRoberta"], weightPrefix: "roberta.", configKeys: [:],
    defaults: Defaults(padTokenId: 1, typeVocabSize: 1),
    embeddings: .robertaStyle, layers: .bertStyle, heads: .robertaStyle, template: .doubleSep)
}
