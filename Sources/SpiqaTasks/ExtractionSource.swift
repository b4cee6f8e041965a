/// One sequence (a SQuAD feature, an SST-2 sentence, a text line) to run through the model and record.
public struct ExtractionSequence: Sendable, Equatable {
  /// SQuAD question id, `<task>-<row>` (e.g. `sst2-3`) or `text-<line>`.
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

  /// The key of this sequence's record in a stream (and in a replayed one).
  public var recordKey: RecordKey { RecordKey(exampleId: exampleId, exampleIndex: exampleIndex, feature: feature) }
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

/// A task's data plus a selection, turned into groups one at a time (featurization happens when a group is asked
/// for, so memory does not grow with the number of examples).
///
/// Grouping is the task's (`TaskData.batches`): SQuAD runs all features of one question as one batch (padded to the
/// featurizer's `maxSeqLen` when `padQuestionsToMax` — needed for data-dependent quantizers to see the reference's
/// padding zeros); sentence tasks run `batchSize` sequences padded to the longest.
public struct ExtractionSource {
  /// The task's name (the stream header's `task`).
  public let task: String
  /// Examples in the data set, and how many the selection picked (in run order).
  public let datasetCount: Int
  public let selected: [Int]
  /// Number of groups `group(_:)` can build.
  public var groupCount: Int { batches.count }
  /// Examples per group (for progress; the last group may hold fewer).
  public var examplesPerGroup: Int { batches.examplesPerBatch }
  private let batches: TaskBatches
  /// SQuAD, uniform_slog_mean with `--trim-padding`: which questions run trimmed, the others padded to
  /// `max_seq_len` (`SquadEvalPlan.group`). nil: as the task batches them.
  var trimPlan: SquadEvalPlan?

  /// The selected examples of `data` as the task batches them.
  public init(
    task: String, data: any TaskData, selection: Selection, tokenizer: TaskTokenizer, settings: TaskSettings,
    maxPositions: Int
  ) throws {
    let picked = try selection.indices(count: data.count)
    self.task = task
    datasetCount = data.count
    selected = picked
    batches = try data.batches(picked, tokenizer: tokenizer, settings: settings, maxPositions: maxPositions)
  }

  /// SQuAD v1.1 questions (`SquadDataset`), featurized like the reference pipeline.
  public init(
    squad dataset: SquadDataset, selection: Selection, tokenizer: TaskTokenizer,
    featurizer: SquadFeaturizer = SquadFeaturizer(), padToMax: Bool
  ) throws {
    var settings = TaskSettings()
    settings.squad = featurizer
    settings.padQuestionsToMax = padToMax
    try self.init(
      task: "squad", data: QuestionData(task: "squad", version: 1, questions: dataset.questions),
      selection: selection, tokenizer: tokenizer, settings: settings, maxPositions: .max)
  }

  /// GLUE SST-2 sentences, `[CLS] s [SEP]` cut to `maxLength`, `batchSize` per group.
  public init(
    sst2 dataset: SST2Dataset, selection: Selection, tokenizer: TaskTokenizer, batchSize: Int = 20,
    maxLength: Int = 512
  ) throws {
    let examples = dataset.examples.map {
      SequenceExample(index: $0.index, id: "sst2-\($0.index)", text: $0.sentence, target: .label($0.label))
    }
    try self.init(
      sentences: SequenceData(task: "sst2", source: "sst2", examples: examples, scoring: .classes(SST2Task.labels)),
      selection: selection, tokenizer: tokenizer, batchSize: batchSize, maxLength: maxLength)
  }

  /// Plain text, one non-empty line = one single-segment sequence, `batchSize` per group.
  public init(
    text lines: TextLines, selection: Selection, tokenizer: TaskTokenizer, batchSize: Int = 20, maxLength: Int = 512
  ) throws {
    let examples = lines.lines.map { SequenceExample(index: $0.line, id: "text-\($0.line)", text: $0.text) }
    try self.init(
      sentences: SequenceData(task: "text", source: "text", examples: examples, scoring: .unlabelled(reason: "")),
      selection: selection, tokenizer: tokenizer, batchSize: batchSize, maxLength: maxLength)
  }

  private init(
    sentences: SequenceData, selection: Selection, tokenizer: TaskTokenizer, batchSize: Int, maxLength: Int
  ) throws {
    var settings = TaskSettings()
    settings.batchSize = batchSize
    settings.maxLength = maxLength
    try self.init(
      task: sentences.task, data: sentences, selection: selection, tokenizer: tokenizer, settings: settings,
      maxPositions: .max)
  }

  /// The `g`-th group (0 ≤ g < groupCount), featurized now.
  /// - Throws: `TasksError` from featurization.
  public func group(_ g: Int) throws -> ExtractionGroup {
    guard g >= 0, g < groupCount else { throw TasksError.usage("group \(g) outside 0..<\(groupCount)") }
    let group = try batches.group(g)
    return (trimPlan?.group(group) ?? group).sequences
  }
}

extension ExtractionSource {
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
