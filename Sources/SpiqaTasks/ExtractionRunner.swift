import SpiqaCore
import SpiqaIO
import SpiqaModel
import SpiqaQuant

/// Everything one `spiqa-extract` run needs, as plain values (the command line maps its flags onto this).
public struct ExtractionRequest: Sendable {
  public var task: ExtractionTask
  /// Checkpoint folder and data file (already resolved; `-` = standard input for text).
  public var modelPath: String
  public var dataPath: String
  public var selection: Selection = .all
  /// Run only this part of the selection (nil: all of it); shard 0 writes the stream header, the others none.
  public var shard: Shard?
  /// What happens to attention and hidden states in every layer.
  public var transform = AttentionTransform.identity
  /// What is recorded.
  public var options = ExtractionOptions()
  /// SQuAD featurization (one batch per question).
  public var featurizer = SquadFeaturizer()
  /// sst2/text: sentences per batch, and tokens per sequence including the special tokens (nil: the model's limit).
  public var batchSize = 20
  public var maxLength: Int?
  /// Compute threads (nil: the encoder's choice).
  public var threads: Int?
  /// `producer` and `version` of the stream header.
  public var producer = "spiqa-extract"
  public var version = ""

  public init(task: ExtractionTask, modelPath: String, dataPath: String) {
    self.task = task
    self.modelPath = modelPath
    self.dataPath = dataPath
  }
}

/// Runs an `ExtractionRequest`: loads tokenizer, model and data, and writes the attention stream (or lists the
/// sequences it would record).
public enum ExtractionRunner {
  /// Progress of a run: `done` of `total` units (SQuAD questions, or sst2/text sequences).
  public typealias Progress = (_ done: Int, _ total: Int) -> Void

  /// Writes the header and every record to `writer` (the caller closes it).
  /// - Parameter progress: called once with 0 done before the first group, then after each group.
  /// - Returns: the number of attention records written.
  /// - Throws: `TasksError`, `SelectionError` for requests the model or data cannot honour,
  ///   the data sets', model's and writer's errors.
  @discardableResult
  public static func run(_ r: ExtractionRequest, into writer: RecordWriter, progress: Progress? = nil) throws -> Int {
    let (source, tokenizer, checkpoint, maxLength) = try open(r)
    let squad = r.task == .squad
    let padded = r.transform.dependsOnPadding
    let extractor = try AttentionExtractor(
      checkpoint: checkpoint, transform: r.transform, options: r.options,
      maxBatch: squad ? (padded ? 4 : 1) : r.batchSize,
      maxSeqLen: squad ? r.featurizer.maxSeqLen : min(128, maxLength))
    if let threads = r.threads {
      extractor.threads = threads
    }
    let job = ExtractionJob(source: source, extractor: extractor, tokenizer: tokenizer)
    let featurization: JSONObject =
      squad
      ? [
        "max_seq_len": .int(r.featurizer.maxSeqLen), "doc_stride": .int(r.featurizer.docStride),
        "max_query_len": .int(r.featurizer.maxQueryLen), "padding": padded ? "max_seq_len" : "longest",
      ]
      : ["batch_size": .int(r.batchSize), "max_length": .int(maxLength), "padding": "longest"]
    // The header describes the whole run, so shard 0's is the unsharded one and `cat` of the shards is the stream.
    if (r.shard?.index ?? 0) == 0 {
      try writer.writeHeader(
        job.header(
          producer: r.producer, version: r.version, modelPath: r.modelPath, dataPath: r.dataPath,
          selection: r.selection, extra: ["featurization": .object(featurization)]))
    } else {
      writer.continueStream()
    }
    let groups = r.shard?.range(of: source.groupCount) ?? 0..<source.groupCount
    // SQuAD counts questions (one group each); sst2/text count sequences.
    let total = squad ? groups.count : source.sequenceCount(groups)
    progress?(0, total)
    return try job.run(into: writer, groups: groups) { done, _, records in progress?(squad ? done : records, total) }
  }

  /// The `--list` table of the sequences `run` would record (`ExtractionSource.listing`), model not run.
  public static func list(_ r: ExtractionRequest, _ emit: (String) throws -> Void) throws {
    let source = try open(r).source
    try source.listing(
      groups: r.shard?.range(of: source.groupCount) ?? 0..<source.groupCount, header: (r.shard?.index ?? 0) == 0,
      emit)
  }

  /// Tokenizer, checkpoint and the featurized source, and the sst2/text sequence length.
  private static func open(_ r: ExtractionRequest) throws
    -> (source: ExtractionSource, tokenizer: TaskTokenizer, checkpoint: Checkpoint, maxLength: Int)
  {
    let tokenizer = try loadTaskTokenizer(directory: r.modelPath)
    let checkpoint = try Checkpoint(directory: r.modelPath)
    let positions = checkpoint.config.maxSequenceLength
    let maxLength = min(r.maxLength ?? positions, positions)
    let source: ExtractionSource
    switch r.task {
    case .squad:
      guard r.featurizer.maxSeqLen <= positions else {
        throw TasksError.usage(
          "SQuAD features of \(r.featurizer.maxSeqLen) tokens (max_seq_len) exceed the model's \(positions) positions")
      }
      source = try ExtractionSource(
        squad: SquadDataset(path: r.dataPath), selection: r.selection, tokenizer: tokenizer,
        featurizer: r.featurizer, padToMax: r.transform.dependsOnPadding)
    case .sst2:
      source = try ExtractionSource(
        sst2: SST2Dataset(path: r.dataPath), selection: r.selection, tokenizer: tokenizer, batchSize: r.batchSize,
        maxLength: maxLength)
    case .text:
      source = try ExtractionSource(
        text: TextLines(path: r.dataPath), selection: r.selection, tokenizer: tokenizer, batchSize: r.batchSize,
        maxLength: maxLength)
    }
    return (source, tokenizer, checkpoint, maxLength)
  }
}
