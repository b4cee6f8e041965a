import SpiqaTokenizers

/// A SpiqaTokenizers tokenizer (WordPiece or byte-level BPE) as the `TaskTokenizer` the featurizers use.
public struct ModelTaskTokenizer: TaskTokenizer {
  public let base: any Tokenizer

  public init(_ base: any Tokenizer) { self.base = base }

  public func ids(_ text: String) -> [Int] { base.tokenize(text).map(\.id) }
  public func tokens(_ ids: [Int]) -> [String]? { ids.map { base.token(forId: $0) ?? "[\($0)]" } }
  public var clsId: Int { base.specials.clsId }
  public var sepId: Int { base.specials.sepId }
  public var padId: Int { base.specials.padId }
  public var layout: PairLayout { base.kind == .wordPiece ? .bert : .roberta }
}

/// The tokenizer of a checkpoint folder (vocab.txt → WordPiece, vocab.json + merges.txt → byte-level BPE).
/// - Throws: the tokenizer library's error (missing or malformed vocabulary files); `TasksError.badData` when the
///   vocabulary lacks the start or separator token every task's template needs (it would silently become unknown).
public func loadTaskTokenizer(directory: String) throws -> TaskTokenizer {
  let base = try AutoTokenizer.load(directory: directory)
  for (role, token) in [("start", base.specials.cls), ("separator", base.specials.sep)]
  where base.id(forToken: token) == nil {
    throw TasksError.badData(
      "\(directory): the vocabulary has no \(role) token \(token); the task templates need it")
  }
  return ModelTaskTokenizer(base)
}

/// Refuses a tokenizer whose ids reach past the model's embedding matrix (bad data, 65): such ids would only fail
/// later, as a usage error of the encoder, on the first text that uses them.
public func checkTokenizer(_ tokenizer: TaskTokenizer, embeddingRows: Int, directory: String) throws {
  guard let t = tokenizer as? ModelTaskTokenizer, t.base.vocabSize > embeddingRows else { return }
  throw TasksError.badData(
    "\(directory): the tokenizer has \(t.base.vocabSize) tokens but the embedding matrix only \(embeddingRows) rows "
      + "(vocab_size in config.json); the vocabulary does not belong to this checkpoint")
}
