import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaModel
import SpiqaQuant

/// Everything one `spiqa-eval` run needs, as plain values (the command line maps its flags onto this).
public struct EvalRequest: Sendable {
  /// A `TaskRegistry` name.
  public var task: String
  /// The model as given (the result line's `model`); `locateModel` turns it into a local folder.
  public var modelDirectory: String
  /// A local folder for `modelDirectory`, called once the data has loaded (so data errors come first). The
  /// command line passes SpiqaHub's `resolveModelDirectory` (a Hub id is downloaded); by default the folder as is.
  public var locateModel: @Sendable (String) throws -> String = { $0 }
  public var dataPath: String
  public var selection: Selection = .all
  /// Evaluate only this part of the selection (nil: all of it); the per-example output then ends with a shard line
  /// (`EvalShardLine`) that `EvalMerge` needs.
  public var shard: Shard?
  /// What happens to attention and hidden states (statistics over one layer of the whole batch).
  public var transform = AttentionTransform.identity
  public var replayPath: String?
  /// How P·V runs under the transform (`AttentionHooks.productKernel`).
  public var attentionProduct: AttentionProductKernel = .auto
  /// SQuAD v1.1: trim the padding (and batch questions) under pruning and the quantizers that leave padding 0, as
  /// for exact attention (`TaskSettings.evaluationTrimsPadding` with `quantized`); scores then move by float
  /// rounding, which a quantizer can turn into another bin.
  public var trimPadding = false
  /// The result line's `provenance` object, made once the model is loaded, from its folder and the weights file
  /// opened (the command line passes SpiqaCLI's `Provenance.object`), to which the run adds `compute`
  /// (`AttentionProductKernel.computeProvenance`); nil: no `provenance` key.
  public var provenance: (@Sendable (_ modelFolder: String, _ weightsFile: String) -> JSONObject)?
  /// Featurization, batching and decoding settings (sentences: 20 per batch, at most 512 tokens, as the reference).
  public var settings: TaskSettings = {
    var s = TaskSettings()
    s.maxLength = 512
    return s
  }()

  public init(task: String, modelDirectory: String, dataPath: String) {
    self.task = task
    self.modelDirectory = modelDirectory
    self.dataPath = dataPath
  }
}

/// Runs an `EvalRequest`: loads data, tokenizer and model, runs the task's batches through the model with the
/// attention hooks, scores them, and describes the result as JSON.
public enum EvalRunner {
  /// The result line (sorted-key JSON object) of a run; the transform's keys are `TransformMetadata.evalResult`.
  /// - Parameters:
  ///   - perExample: receives one JSON object per question / sentence.
  ///   - progress: (done, total) examples after each batch.
  /// - Throws: `TasksError` (usage for an unknown task or an invalid transform), the data sets', model's and replay
  ///   stream's errors.
  public static func run(
    _ r: EvalRequest, perExample: ((JSONObject) throws -> Void)? = nil, progress: ((Int, Int) -> Void)? = nil
  ) throws -> JSONObject {
    do {
      try r.transform.validate()
    } catch {
      throw TasksError.usage("\(error)")
    }
    let task = try TaskRegistry.task(named: r.task)
    let settings = Self.settings(of: r)
    // Data first (its errors do not need a model), then tokenizer, model and replay stream.
    let data = try task.load(r.dataPath, settings: settings)
    let selected = try r.selection.indices(count: data.count)
    let modelDirectory = try r.locateModel(r.modelDirectory)
    let tokenizer = try loadTaskTokenizer(directory: modelDirectory)
    let config = try ModelConfig(contentsOf: modelDirectory + "/config.json")
    try checkTokenizer(tokenizer, embeddingRows: config.vocabSize, directory: modelDirectory)
    let replay = try r.replayPath.map { try ReplayStore(streamPath: $0) }
    var out = runKeys(r)
    let positions = config.maxSequenceLength
    let capacity = data.capacity(settings, maxPositions: positions)
    let model = try EncoderTaskModel(directory: modelDirectory, maxBatch: capacity.batch, maxSeqLen: capacity.seqLen)
    if var p = r.provenance?(modelDirectory, model.checkpoint.weightsPath) {
      p["compute"] = .object(r.attentionProduct.computeProvenance)
      out["provenance"] = .object(p)
    }
    let scorer = try data.scorer(model: model, settings: settings)
    let batches = try data.batches(selected, tokenizer: tokenizer, settings: settings, maxPositions: positions)
    // SQuAD v1.1 with trimmed padding: the features of consecutive questions run in length-sorted batches
    // (FeatureBuckets), a window of questions at a time; quantizer statistics stay per question.
    let plan = data is QuestionData
      ? SquadEvalPlan(settings, transform: r.transform, padId: tokenizer.padId) : nil
    // A shard runs whole windows (a SQuAD question or window of questions, or batch-size sentences), so each sees
    // what it would unsharded, to the bit.
    let perUnit = plan?.buckets?.window ?? 1
    let units = (batches.count + perUnit - 1) / perUnit
    let groups = r.shard.map {
      let u = $0.range(of: units)
      return min(batches.count, u.lowerBound * perUnit)..<min(batches.count, u.upperBound * perUnit)
    } ?? 0..<batches.count
    let items = r.shard?.itemRange(of: selected.count, batchSize: batches.examplesPerBatch * perUnit)
      ?? selected.indices
    // The replay store keeps only this run's records (a shard reads past the others' without holding them).
    let examples = selected[items]
    replay?.restrict(toExampleIds: Set(examples.map { data.exampleId($0) }), indices: Set(examples))
    let pipeline = AttentionHooks(evaluating: model, transform: r.transform, replay: replay, productKernel: r.attentionProduct)
    // How pairs were cut, when the data has pairs; a replayed stream must have been cut the same way (the same n
    // either way, so nothing else would notice the shifted [SEP]).
    let pairTruncation = data.featurization(settings, maxPositions: positions)["pair_truncation"]
    out["pair_truncation"] = pairTruncation
    if let replay, let used = pairTruncation?.stringValue,
      let recorded = try replay.streamFeaturization()?["pair_truncation"]?.stringValue, recorded != used
    {
      throw TasksError.usage(
        "--pair-truncation \(used), but \(replay.source) was recorded with \(recorded); give --pair-truncation \(recorded)")
    }
    // A digest of the per-example lines as they are written (their JSON text), for the shard line: EvalMerge
    // checks each file's lines against it.
    var linesDigest = LinesDigest()
    let writeLine = perExample.map { write in
      { (line: JSONObject) throws in
        linesDigest.add(JSONValue.object(line).jsonText)
        try write(line)
      }
    }
    let started = Date()
    try runGroups(
      groups, of: batches, model: model, pipeline: pipeline, plan: plan, padId: tokenizer.padId, scorer: scorer,
      perExample: writeLine
    ) { progress?($0, items.count) }
    let seconds = Date().timeIntervalSince(started)
    for (k, v) in scorer.result() { out[k] = v }
    out["sparsity"] = .double(pipeline.sparsity.overall)
    out["seconds"] = .double(rounded(seconds))
    out["\(data.unit)_per_second"] = .double(seconds > 0 ? rounded(Double(items.count) / seconds) : 0)
    // What the replayed stream says was done to its attention (its first record's keys, read even by a shard that
    // evaluated nothing, so that shards agree), with the weights it was recorded from when its header names them
    // (replaying another model's attention is a valid experiment, which the line should show); null without replay.
    out["replayed"] = try replay.flatMap { store in
      try store.streamTransform().map { keys in
        var o = keys
        if let m = try store.streamModel() { o["model"] = .object(m) }
        return .object(o)
      }
    } ?? .null
    if let shard = r.shard {
      var run = runIdentity(r)
      run["provenance"] = out["provenance"]
      run["replayed"] = out["replayed"]
      run["pair_truncation"] = out["pair_truncation"]
      let line = EvalShardLine(
        shard: shard, run: run, selected: selected, part: items, n: items.count, linesDigest: linesDigest.hex,
        features: out["features"]?.intValue ?? 0, sparsity: pipeline.sparsity, seconds: seconds)
      try perExample?(line.json)
      out["shard"] = .string(shard.description)
    }
    return out
  }

  /// The evaluation loop of `run` and `SquadEvaluator`: runs `groups` of `batches` through `model` with the hooks
  /// of `pipeline` and scores each group. With a `plan` that batches questions, a window of SQuAD questions at a
  /// time runs in length-sorted passes (`FeatureBuckets`) and is scored from the answers kept.
  /// - Parameters:
  ///   - perExample: receives the scorer's per-example lines.
  ///   - progress: examples done, after each group.
  static func runGroups(
    _ groups: Range<Int>, of batches: TaskBatches, model: TaskModel, pipeline: AttentionHooks,
    plan: SquadEvalPlan?, padId: Int, scorer: TaskScorer, perExample: ((JSONObject) throws -> Void)?,
    progress: ((Int) -> Void)?
  ) throws {
    plan?.configure(pipeline)
    let buckets = plan?.buckets
    let hooks = { (seqs: [ExtractionSequence], batch: TaskBatch) throws -> ForwardHooks in
      seqs.isEmpty ? ForwardHooks() : try pipeline.hooks(keys: seqs.map(\.recordKey), inputIds: batch.inputIds)
    }
    var done = 0
    var g = groups.lowerBound
    while g < groups.upperBound {
      let window = try (g..<min(g + (buckets?.window ?? 1), groups.upperBound)).map {
        let group = try batches.group($0)
        return plan?.group(group) ?? group  // uniform_slog_mean: padded where the padding may matter
      }
      let answers = try buckets?.run(window, model: model, hooks: hooks)
      for (k, group) in window.enumerated() {
        let batch = group.batch(padId: padId)
        let lines = try answers.map {
          try scorer.score(group, batch: batch, model: PrecomputedAnswers(model, rows: $0[k]), hooks: ForwardHooks())
        } ?? scorer.score(group, batch: batch, model: model, hooks: hooks(group.sequences.sequences, batch))
        for line in lines { try perExample?(line) }
        done += group.examples
        progress?(done)
      }
      g += window.count
    }
  }

  static func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

  /// A one-line note when a result line replayed attention recorded with other weights than it ran (by SHA-256),
  /// nil otherwise: a valid experiment, but more often the wrong stream.
  public static func replayedOtherWeights(_ result: JSONObject) -> String? {
    guard let recorded = result["replayed"]?.objectValue?["model"]?.objectValue?["weights_sha256"]?.stringValue,
      let running = result["provenance"]?.objectValue?["weights_sha256"]?.stringValue, recorded != running
    else { return nil }
    return "the replayed stream was recorded with other weights (sha256 \(recorded.prefix(12))…) than the model "
      + "evaluated (\(running.prefix(12))…); its result line says so in replayed.model"
  }

  /// The result line's keys that name the run: task, model, data, replay, transform and selection.
  static func runKeys(_ r: EvalRequest) -> JSONObject {
    var out: JSONObject = [
      "task": .string(r.task), "model": .string(r.modelDirectory), "data": .string(r.dataPath),
      "replay": r.replayPath.map { .string($0) } ?? .null,
    ]
    TransformMetadata.evalResult.write(r.transform, into: &out)
    if r.trimPadding { out["trim_padding"] = .bool(true) }
    switch r.selection {
    case .all: out["selection"] = "all"
    case .slice(let o, let c): out["offset"] = .int(o); out["limit"] = c.map { .int($0) } ?? .null
    case .sample(let k, let seed): out["samples"] = .int(k); out["seed"] = .int(seed)
    }
    return out
  }

  /// The request's settings as the run uses them: SQuAD v1.1 features run padded to their question's longest with
  /// exact attention, and with `trimPadding` under any transform that does not depend on padding (the dense layers
  /// then skip up to 40% padding).
  public static func settings(of r: EvalRequest) -> TaskSettings {
    var settings = r.settings
    settings.padQuestionsToMax = !TaskSettings.evaluationTrimsPadding(
      task: r.task, r.transform, replaying: r.replayPath != nil, quantized: r.trimPadding)
    return settings
  }

  /// What shards of one run share: the result line's run keys plus the settings that change numbers but are not in
  /// the result line (featurization, answer length, batch size and sequence length).
  static func runIdentity(_ r: EvalRequest) -> JSONObject {
    var o = runKeys(r)
    o["settings"] = .object([
      "max_seq_len": .int(r.settings.squad.maxSeqLen), "doc_stride": .int(r.settings.squad.docStride),
      "max_query_len": .int(r.settings.squad.maxQueryLen), "max_answer_len": .int(r.settings.maxAnswerLen),
      "null_threshold": .double(r.settings.nullScoreThreshold), "batch_size": .int(r.settings.batchSize),
      "max_length": r.settings.maxLength.map { .int($0) } ?? .null, "text_column": r.settings.textColumn.map { .string($0) } ?? .null,
      "pair_column": r.settings.pairColumn.map { .string($0) } ?? .null,
      "label_column": r.settings.labelColumn.map { .string($0) } ?? .null, "pairs": .bool(r.settings.pairs),
      "pair_truncation": .string(r.settings.pairTruncation.rawValue),
    ])
    return o
  }
}

extension SquadPrediction {
  /// The per-question JSON line.
  public var json: JSONObject {
    var o: JSONObject = [
      "index": .int(index), "id": .string(id), "prediction": .string(prediction), "em": .double(em),
      "f1": .double(f1), "features": .int(features),
    ]
    if let s = span {
      o["feature"] = .int(s.feature)
      o["start"] = .int(s.start)
      o["end"] = .int(s.end)
      o["score"] = .double(Double(s.score))
    }
    return o
  }
}

extension SST2Prediction {
  /// The per-sentence JSON line.
  public var json: JSONObject {
    ["index": .int(index), "label": .int(label), "prediction": .int(prediction), "logits": .array(logits.map { .double(Double($0)) })]
  }
}
