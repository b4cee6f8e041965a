import Foundation
import SpiqaModel
import SpiqaTokenizers

/// A SpiqaTokenizers tokenizer (WordPiece or byte-level BPE) as the `TaskTokenizer` the featurizers use; the
/// special-token layout comes from the model family (`ModelFamily.template`).
public struct ModelTaskTokenizer: TaskTokenizer {
  public let base: any Tokenizer
  public let layout: PairLayout

  /// `template` nil: the layout the tokenizer kind implies (WordPiece → BERT's, BPE → RoBERTa's).
  public init(_ base: any Tokenizer, template: ModelFamily.SpecialTokenTemplate? = nil) {
    self.base = base
    switch template {
    case .clsSep?: layout = .bert
    case .doubleSep?: layout = .roberta
    case nil: layout = base.kind == .wordPiece ? .bert : .roberta
    }
  }

  public func ids(_ text: String) -> [Int] { base.tokenize(text).map(\.id) }
  public func tokens(_ ids: [Int]) -> [String]? { ids.map { base.token(forId: $0) ?? "[\($0)]" } }
  public var clsId: Int { base.specials.clsId }
  public var sepId: Int { base.specials.sepId }
  public var padId: Int { base.specials.padId }
}

/// The tokenizer of a checkpoint folder (vocab.txt → WordPiece, vocab.json + merges.txt → byte-level BPE), framed
/// by the special-token template of the family its config.json names (when it has one).
/// - Throws: the tokenizer library's error (missing or malformed vocabulary files), or the config's.
public func loadTaskTokenizer(directory: String) throws -> TaskTokenizer {
  let configPath = (directory as NSString).appendingPathComponent("config.json")
  let family = FileManager.default.fileExists(atPath: configPath)
    ? try ModelConfig(contentsOf: configPath).family : nil
  return ModelTaskTokenizer(try AutoTokenizer.load(directory: directory), template: family?.template)
}
