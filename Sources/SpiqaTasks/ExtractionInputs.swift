/// What `spiqa-extract` runs on: SQuAD questions, SST-2 sentences or plain text lines.
public enum ExtractionTask: String, Sendable, CaseIterable {
  case squad, sst2, text
}

/// One sequence (a SQuAD feature, an SST-2 sentence, a text line) to run through the model and record.
public struct ExtractionSequence: Sendable, Equatable {
  /// SQuAD question id, `sst2-<row>` or `text-<line>`.
  public var exampleId: String
  /// Index of the example in its data set (flattened SQuAD question, TSV row, 0-based line).
  public var exampleIndex: Int
  /// 0-based feature (window) of the example; always 0 outside SQuAD.
  public var feature: Int
  /// [n] real token ids, special tokens included, no padding.
  public var ids: [Int]
  /// [n] token types, or nil for all zeros (RoBERTa, single segments).
  public var tokenTypes: [Int]?

  public init(exampleId: String, exampleIndex: Int, feature: Int, ids: [Int], tokenTypes: [Int]? = nil) {
    self.exampleId = exampleId
    self.exampleIndex = exampleIndex
    self.feature = feature
    self.ids = ids
    self.tokenTypes = tokenTypes
  }

  /// Real tokens.
  public var count: Int { ids.count }
}

/// Sequences that go through the model together as one batch (what a data-dependent quantizer's `batch` scope sees).
public struct ExtractionGroup: Sendable, Equatable {
  public var sequences: [ExtractionSequence]
  /// Pad every row to this length (nil = the longest sequence of the group).
  public var padTo: Int?

  public init(sequences: [ExtractionSequence], padTo: Int? = nil) {
    self.sequences = sequences
    self.padTo = padTo
  }

  /// The padded length T of the batch.
  public var seqLen: Int { max(padTo ?? 0, sequences.map(\.count).max() ?? 0) }
}

/// A data set plus a selection, turned into groups one at a time (featurization happens when a group is asked for,
/// so memory does not grow with the number of examples).
///
/// Grouping follows the reference: SQuAD runs all features of one question as one batch (padded to the featurizer's
/// `maxSeqLen` when `padSquadToMax` — needed for data-dependent quantizers to see the reference's padding zeros);
/// SST-2 runs `batchSize` sentences padded to the longest; text does the same with one line per sequence.
public struct ExtractionSource {
  public let task: ExtractionTask
  /// Examples in the data set, and how many the selection picked (in run order).
  public let datasetCount: Int
  public let selected: [Int]
  /// Number of groups `group(_:)` can build.
  public let groupCount: Int
  /// sst2/text: sequences per group (SQuAD: 1 question per group).
  public let batchSize: Int
  private let build: (Int) throws -> ExtractionGroup

  /// SQuAD v1.1 questions (`SquadDataset`), featurized like the reference pipeline.
  public init(
    squad dataset: SquadDataset, selection: Selection, tokenizer: TaskTokenizer,
    featurizer: SquadFeaturizer = SquadFeaturizer(), padToMax: Bool
  ) throws {
    let questions = dataset.questions
    let picked = try selection.indices(count: questions.count)
    task = .squad
    datasetCount = questions.count
    selected = picked
    groupCount = picked.count
    batchSize = 1
    let bert = tokenizer.layout == .bert
    build = { g in
      let q = questions[picked[g]]
      let ex = try featurizer.featurize(question: q.question, context: q.context, tokenizer: tokenizer)
      let seqs = ex.features.enumerated().map { f, feat in
        ExtractionSequence(
          exampleId: q.id, exampleIndex: q.index, feature: f, ids: Array(feat.inputIds.prefix(feat.length)),
          tokenTypes: bert ? Array(feat.tokenTypeIds.prefix(feat.length)) : nil)
      }
      return ExtractionGroup(sequences: seqs, padTo: padToMax ? featurizer.maxSeqLen : nil)
    }
  }

  /// GLUE SST-2 sentences, `[CLS] s [SEP]` cut to `maxLength`, `batchSize` per group.
  public init(
    sst2 dataset: SST2Dataset, selection: Selection, tokenizer: TaskTokenizer, batchSize: Int = 20,
    maxLength: Int = 512
  ) throws {
    let examples = dataset.examples
    let items = examples.map { (id: "sst2-\($0.index)", index: $0.index, text: $0.sentence) }
    try self.init(
      task: .sst2, items: items, selection: selection, tokenizer: tokenizer, batchSize: batchSize,
      maxLength: maxLength)
  }

  /// Plain text, one non-empty line = one single-segment sequence, `batchSize` per group.
  public init(
    text lines: TextLines, selection: Selection, tokenizer: TaskTokenizer, batchSize: Int = 20, maxLength: Int = 512
  ) throws {
    let items = lines.lines.map { (id: "text-\($0.line)", index: $0.line, text: $0.text) }
    try self.init(
      task: .text, items: items, selection: selection, tokenizer: tokenizer, batchSize: batchSize,
      maxLength: maxLength)
  }

  private init(
    task: ExtractionTask, items: [(id: String, index: Int, text: String)], selection: Selection,
    tokenizer: TaskTokenizer, batchSize: Int, maxLength: Int
  ) throws {
    guard batchSize >= 1 else { throw TasksError.usage("the batch size must be ≥ 1, got \(batchSize)") }
    guard maxLength >= 2 else { throw TasksError.usage("the sequence length must be ≥ 2 tokens ([CLS] and [SEP]), got \(maxLength)") }
    let picked = try selection.indices(count: items.count)
    self.task = task
    datasetCount = items.count
    selected = picked
    groupCount = (picked.count + batchSize - 1) / batchSize
    self.batchSize = batchSize
    build = { g in
      let chunk = picked[(g * batchSize)..<min(picked.count, (g + 1) * batchSize)]
      let seqs = chunk.map { i in
        let item = items[i]
        let ids = [tokenizer.clsId] + tokenizer.ids(item.text).prefix(maxLength - 2) + [tokenizer.sepId]
        return ExtractionSequence(exampleId: item.id, exampleIndex: item.index, feature: 0, ids: ids)
      }
      return ExtractionGroup(sequences: seqs)
    }
  }

  /// The `g`-th group (0 ≤ g < groupCount), featurized now.
  /// - Throws: `TasksError` from featurization.
  public func group(_ g: Int) throws -> ExtractionGroup {
    guard g >= 0, g < groupCount else { throw TasksError.usage("group \(g) outside 0..<\(groupCount)") }
    return try build(g)
  }
}

extension ExtractionSource {
  /// sst2/text: the sequences of `groups` (whole batches; the last may be short).
  public func sequenceCount(_ groups: Range<Int>) -> Int {
    max(0, min(selected.count, groups.upperBound * batchSize) - groups.lowerBound * batchSize)
  }

  /// The `--list` table: a header line (when `header`), then `example_index<TAB>example_id<TAB>feature<TAB>n` per
  /// sequence of `groups` (default: all), featurized but not run.
  public func listing(groups: Range<Int>? = nil, header: Bool = true, _ emit: (String) throws -> Void) throws {
    if header { try emit("example_index\texample_id\tfeature\tn") }
    for g in groups ?? 0..<groupCount {
      for s in try group(g).sequences {
        try emit("\(s.exampleIndex)\t\(s.exampleId)\t\(s.feature)\t\(s.count)")
      }
    }
  }
}
