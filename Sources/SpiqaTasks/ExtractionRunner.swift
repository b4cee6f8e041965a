import SpiqaCore
import SpiqaIO
import SpiqaModel
import SpiqaQuant

/// Everything one `spiqa-extract` run needs, as plain values (the command line maps its flags onto this).
public struct ExtractionRequest: Sendable {
  /// A `TaskRegistry` name.
  public var task: String
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
  /// SQuAD: under a data-dependent quantizer, pad each question's features to their longest instead of `max_seq_len`
  /// where the result cannot depend on it: always for binarization and the clamped means, whose statistics ignore
  /// the padding's zeros (`independentOfPadding`); for uniform_slog_mean where the padding is most of the scope,
  /// its zeros then counted without being there (`TaskSettings.evaluationTrimsQuestion`, as spiqa-eval does). Values
  /// move by float rounding, which a quantizer can turn into another bin. Other transforms trim anyway.
  public var trimPadding = false
  /// Featurization and batching (SQuAD: one batch per question; sentences: `batchSize` per batch, `maxLength`
  /// tokens including the special tokens, nil = the model's limit).
  public var settings = TaskSettings()
  /// Compute threads (nil: the encoder's choice).
  public var threads: Int?
  /// `producer` and `version` of the stream header.
  public var producer = "spiqa-extract"
  public var version = ""
  /// The header's `provenance` object, made once the model is loaded, from its folder and the weights file opened
  /// (the command line passes SpiqaCLI's `Provenance.object`), to which the run adds `compute`
  /// (`AttentionProductKernel.computeProvenance`); nil: no `provenance` key.
  public var provenance: (@Sendable (_ modelFolder: String, _ weightsFile: String) -> JSONObject)?

  public init(task: String, modelPath: String, dataPath: String) {
    self.task = task
    self.modelPath = modelPath
    self.dataPath = dataPath
  }
}

/// Runs an `ExtractionRequest`: loads tokenizer, model and data, and writes the attention stream (or lists the
/// sequences it would record).
public enum ExtractionRunner {
  /// Progress of a run: `done` of `total` examples (SQuAD questions, or sentences).
  public typealias Progress = (_ done: Int, _ total: Int) -> Void

  /// Writes the header and every record to `writer` (the caller closes it).
  /// - Parameter progress: called once with 0 done before the first group, then after each group.
  /// - Returns: the number of attention records written.
  /// - Throws: `TasksError`, `SelectionError` for requests the model or data cannot honour,
  ///   the data sets', model's and writer's errors.
  @discardableResult
  public static func run(_ r: ExtractionRequest, into writer: RecordWriter, progress: Progress? = nil) throws -> Int {
    let (source, data, settings, tokenizer, checkpoint) = try open(r)
    let positions = checkpoint.config.maxSequenceLength
    var capacity = data.capacity(settings, maxPositions: positions)
    // A data-dependent quantizer runs each question whole: room for 4 features from the start, trimmed or not, so
    // the encoder is not rebuilt feature by feature (each rebuild briefly holds both buffer sets: +88 MB peak RSS on
    // the paper's 100 questions).
    if r.transform.takesScopeStatistics { capacity.batch = max(capacity.batch, 4) }
    let extractor = try AttentionExtractor(
      checkpoint: checkpoint, transform: r.transform, options: r.options, maxBatch: capacity.batch,
      maxSeqLen: capacity.seqLen)
    if let threads = r.threads {
      extractor.threads = threads
    }
    if source.trimPlan != nil { extractor.countedPaddingLength = settings.squad.maxSeqLen }
    let job = ExtractionJob(source: source, extractor: extractor, tokenizer: tokenizer)
    // The header describes the whole run, so shard 0's is the unsharded one and `cat` of the shards is the stream.
    if (r.shard?.index ?? 0) == 0 {
      var featurization = data.featurization(settings, maxPositions: positions)
      if r.transform.takesScopeStatistics && !settings.padQuestionsToMax && data is QuestionData {
        featurization["trim_padding"] = true
        // uniform_slog_mean: questions whose padding is not most of the scope keep max_seq_len.
        if source.trimPlan != nil { featurization["padding"] = "longest_or_max_seq_len" }
      }
      var extra: JSONObject = ["featurization": .object(featurization)]
      if var p = r.provenance?(r.modelPath, checkpoint.weightsPath) {
        p["compute"] = .object(r.options.attentionProduct.whileRecording.computeProvenance)
        extra["provenance"] = .object(p)
      }
      try writer.writeHeader(
        job.header(
          producer: r.producer, version: r.version, modelPath: r.modelPath, dataPath: r.dataPath,
          selection: r.selection, extra: extra))
    } else {
      writer.continueStream()
    }
    let groups = r.shard?.range(of: source.groupCount) ?? 0..<source.groupCount
    let items = r.shard?.itemRange(of: source.selected.count, batchSize: source.examplesPerGroup)
      ?? 0..<source.selected.count
    let total = items.count
    progress?(0, total)
    return try job.run(into: writer, groups: groups) { done, _, _ in
      progress?(min(total, done * source.examplesPerGroup), total)
    }
  }

  /// The `--list` table of the sequences `run` would record (`ExtractionSource.listing`), model not run.
  public static func list(_ r: ExtractionRequest, _ emit: (String) throws -> Void) throws {
    let source = try open(r).source
    try source.listing(
      groups: r.shard?.range(of: source.groupCount) ?? 0..<source.groupCount, header: (r.shard?.index ?? 0) == 0,
      emit)
  }

  /// The task, tokenizer, checkpoint, the task's data and the featurized source.
  private static func open(_ r: ExtractionRequest) throws
    -> (source: ExtractionSource, data: any TaskData, settings: TaskSettings, tokenizer: TaskTokenizer,
      checkpoint: Checkpoint)
  {
    let task = try TaskRegistry.task(named: r.task)
    var settings = r.settings
    // Only data-dependent quantizers see the padding; `--trim-padding` lets them trim too.
    let countsPadding = TaskSettings.countsPadding(r.transform)
    settings.padQuestionsToMax = r.transform.takesScopeStatistics
      && !(r.trimPadding && (r.transform.independentOfPadding || countsPadding))
    let tokenizer = try loadTaskTokenizer(directory: r.modelPath)
    let checkpoint = try Checkpoint(directory: r.modelPath)
    try checkTokenizer(tokenizer, embeddingRows: checkpoint.config.vocabSize, directory: r.modelPath)
    let data = try task.load(r.dataPath, settings: settings)
    // Labels that fit no output of a classifier checkpoint are bad data here too, as in spiqa-eval (a checkpoint
    // without a classification head has nothing to check them against).
    let config = checkpoint.config
    if let sequences = data as? SequenceData, case .checkpointLabels = sequences.scoring, !config.labels.isEmpty,
      config.architectures.contains(where: { $0.hasSuffix("ForSequenceClassification") })
    {
      _ = try sequences.resolveLabels(config.labels)
    }
    var source = try ExtractionSource(
      task: task.name, data: data, selection: r.selection, tokenizer: tokenizer, settings: settings,
      maxPositions: checkpoint.config.maxSequenceLength)
    if countsPadding && !settings.padQuestionsToMax && data is QuestionData {
      // One question per batch, as the reference ran it; trimmed only where its padding is most of the scope.
      var one = settings
      one.batchSize = 1
      source.trimPlan = SquadEvalPlan(one, transform: r.transform, padId: tokenizer.padId)
    }
    return (source, data, settings, tokenizer, checkpoint)
  }
}
