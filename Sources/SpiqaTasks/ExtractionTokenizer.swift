import SpiqaModel

/// A checkpoint folder's tokenizer (SpiqaModel's WordPiece or byte-level BPE) as the `TaskTokenizer` that SQuAD
/// featurization and `ExtractionSource` need.
public struct ExtractionTokenizer: TaskTokenizer {
  public let base: any Tokenizer

  public init(_ base: any Tokenizer) {
    self.base = base
  }

  /// Loads the tokenizer files of `directory` (vocab.txt, or vocab.json + merges.txt).
  /// - Throws: `TokenizerError` (74 missing folder, 65 no/bad tokenizer files).
  public init(directory: String) throws {
    base = try AutoTokenizer.load(directory: directory)
  }

  public func ids(_ text: String) -> [Int] { base.tokenize(text).map(\.id) }

  /// Vocabulary strings of `ids`, or nil when an id is outside the vocabulary.
  public func tokens(_ ids: [Int]) -> [String]? {
    var out: [String] = []
    out.reserveCapacity(ids.count)
    for id in ids {
      guard let t = base.token(forId: id) else { return nil }
      out.append(t)
    }
    return out
  }

  public var clsId: Int { base.specials.clsId }
  public var sepId: Int { base.specials.sepId }
  public var padId: Int { base.specials.padId }
  public var layout: PairLayout { base.kind == .wordPiece ? .bert : .roberta }
}
