import Foundation
import SpiqaModel
import SpiqaTokenizers

/// A SpiqaTokenizers tokenizer (WordPiece, byte-level BPE or Unigram) as the `TaskTokenizer` the featurizers use; the
/// special-token layout comes from the model family (`ModelFamily.template`).
public struct ModelTaskTokenizer: TaskTokenizer {
  public let base: any Tokenizer
  public let layout: PairLayout

  /// `template` nil: the layout the tokenizer's pair frame implies (WordPiece, ALBERT → BERT's; BPE, XLM-R → RoBERTa's).
  public init(_ base: any Tokenizer, template: ModelFamily.SpecialTokenTemplate? = nil) {
    self.base = base
    switch template {
    case .clsSep?: layout = .bert
    case .doubleSep?: layout = .roberta
    case nil: layout = base.doubleSeparator ? .roberta : .bert
    }
  }

  public func ids(_ text: String) -> [Int] { base.tokenize(text).map(\.id) }
  public func tokens(_ ids: [Int]) -> [String]? { ids.map { base.token(forId: $0) ?? "[\($0)]" } }
  public var clsId: Int { base.specials.clsId }
  public var sepId: Int { base.specials.sepId }
  public var padId: Int { base.specials.padId }
  /// nil when the mask token is missing from the vocabulary (the tokenizer then maps it to the unknown token).
  public var maskId: Int? { base.specials.maskId == base.specials.unkId ? nil : base.specials.maskId }
}

/// The tokenizer of a checkpoint folder (tokenizer.json, or vocab.txt → WordPiece, vocab.json + merges.txt →
/// byte-level BPE), framed by the special-token template of the family its config.json names (when it has one).
/// - Throws: the tokenizer library's error (missing or malformed vocabulary files), or the config's;
///   `TasksError.badData` when the vocabulary lacks the start or separator token every task's template needs (it
///   would silently become unknown).
public func loadTaskTokenizer(directory: String) throws -> TaskTokenizer {
  let configPath = (directory as NSString).appendingPathComponent("config.json")
  let family = FileManager.default.fileExists(atPath: configPath)
    ? try ModelConfig(contentsOf: configPath).family : nil
  let base = try AutoTokenizer.load(directory: directory)
  for (role, token) in [("start", base.specials.cls), ("separator", base.specials.sep)]
  where base.id(forToken: token) == nil {
    throw TasksError.badData(
      "\(directory): the vocabulary has no \(role) token \(token); the task templates need it")
  }
  return ModelTaskTokenizer(base, template: family?.template)
}

/// Refuses a tokenizer whose ids reach past the model's embedding matrix (bad data, 65): such ids would only fail
/// later, as a usage error of the encoder, on the first text that uses them.
public func checkTokenizer(_ tokenizer: TaskTokenizer, embeddingRows: Int, directory: String) throws {
  guard let t = tokenizer as? ModelTaskTokenizer, t.base.vocabSize > embeddingRows else { return }
  throw TasksError.badData(
    "\(directory): the tokenizer has \(t.base.vocabSize) tokens but the embedding matrix only \(embeddingRows) rows "
      + "(vocab_size in config.json); the vocabulary does not belong to this checkpoint")
}
