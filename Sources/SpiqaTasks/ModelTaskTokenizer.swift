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
/// - Throws: the tokenizer library's error (missing or malformed vocabulary files).
public func loadTaskTokenizer(directory: String) throws -> TaskTokenizer {
  ModelTaskTokenizer(try AutoTokenizer.load(directory: directory))
}
