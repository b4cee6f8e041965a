import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaModel
import SpiqaQuant

/// Which benchmark to score.
public enum EvalTask: String, Sendable, CaseIterable {
  case squad, sst2
}

/// Everything one `spiqa-eval` run needs, as plain values (the command line maps its flags onto this).
public struct EvalRequest: Sendable {
  public var task: EvalTask
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
  public var featurizer = SquadFeaturizer()
  public var maxAnswerLen = 15
  public var batchSize = 20
  public var maxLength = 512

  public init(task: EvalTask, modelDirectory: String, dataPath: String) {
    self.task = task
    self.modelDirectory = modelDirectory
    self.dataPath = dataPath
  }
}

/// Runs an `EvalRequest`: loads data, tokenizer and model, evaluates, and describes the result as JSON.
public enum EvalRunner {
  /// The result line (sorted-key JSON object) of a run; the transform's keys are `TransformMetadata.evalResult`.
  /// - Parameters:
  ///   - perExample: receives one JSON object per question / sentence.
  ///   - progress: (done, total) after each question / batch.
  /// - Throws: `TasksError` (usage for an invalid transform), the data sets', model's and replay stream's errors.
  public static func run(
    _ r: EvalRequest, perExample: ((JSONObject) throws -> Void)? = nil, progress: ((Int, Int) -> Void)? = nil
  ) throws -> JSONObject {
    do {
      try r.transform.validate()
    } catch {
      throw TasksError.usage("\(error)")
    }
    // Data first (its errors do not need a model), then tokenizer, model and replay stream.
    var squad: [SquadQuestion] = []
    var sst2: [SST2Example] = []
    var picked: [Int] = []
    var part = 0..<0
    switch r.task {
    case .squad:
      let data = try SquadDataset(path: r.dataPath)
      picked = try r.selection.indices(count: data.questions.count)
      part = r.shard?.range(of: picked.count) ?? picked.indices
      squad = picked[part].map { data.questions[$0] }
    case .sst2:
      let data = try SST2Dataset(path: r.dataPath)
      picked = try r.selection.indices(count: data.examples.count)
      part = r.shard?.itemRange(of: picked.count, batchSize: r.batchSize) ?? picked.indices
      sst2 = picked[part].map { data.examples[$0] }
    }
    let modelDirectory = try r.locateModel(r.modelDirectory)
    let tokenizer = try loadTaskTokenizer(directory: modelDirectory)
    let replay = try r.replayPath.map { try ReplayStore(streamPath: $0) }
    var out = runKeys(r)
    var line: EvalShardLine?
    switch r.task {
    case .squad:
      let questions = squad
      let model = try EncoderTaskModel(directory: modelDirectory, maxBatch: 4, maxSeqLen: r.featurizer.maxSeqLen)
      let ev = SquadEvaluator(
        model: model, tokenizer: tokenizer, featurizer: r.featurizer, decoder: SquadDecoder(maxAnswerLen: r.maxAnswerLen),
        transform: r.transform, replay: replay)
      let res = try ev.evaluate(questions, progress: progress) { p in try perExample?(p.json) }
      describe(res, into: &out)
      line = r.shard.map {
        EvalShardLine(
          shard: $0, run: runIdentity(r), selected: picked, part: part, n: res.n, features: res.features,
          sparsity: res.sparsity, seconds: res.seconds)
      }
    case .sst2:
      let examples = sst2
      let model = try EncoderTaskModel(directory: modelDirectory, maxBatch: r.batchSize, maxSeqLen: 128)
      let ev = SST2Evaluator(
        model: model, tokenizer: tokenizer, transform: r.transform, replay: replay, batchSize: r.batchSize,
        maxLength: min(r.maxLength, model.maxPositions))
      let res = try ev.evaluate(examples, progress: progress) { p in try perExample?(p.json) }
      describe(res, into: &out)
      line = r.shard.map {
        EvalShardLine(
          shard: $0, run: runIdentity(r), selected: picked, part: part, n: res.n, features: 0,
          sparsity: res.sparsity, seconds: res.seconds)
      }
    }
    if let line {
      try perExample?(line.json)
      out["shard"] = .string(line.shard.description)
    }
    return out
  }

  static func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

  /// The result line's keys that name the run: task, model, data, replay, transform and selection.
  static func runKeys(_ r: EvalRequest) -> JSONObject {
    var out: JSONObject = [
      "task": .string(r.task.rawValue), "model": .string(r.modelDirectory), "data": .string(r.dataPath),
      "replay": r.replayPath.map { .string($0) } ?? .null,
    ]
    TransformMetadata.evalResult.write(r.transform, into: &out)
    switch r.selection {
    case .all: out["selection"] = "all"
    case .slice(let o, let c): out["offset"] = .int(o); out["limit"] = c.map { .int($0) } ?? .null
    case .sample(let k, let seed): out["samples"] = .int(k); out["seed"] = .int(seed)
    }
    return out
  }

  /// What shards of one run share: the result line's run keys plus the settings that change numbers but are not in
  /// the result line (featurization, answer length, batch size and sequence length).
  static func runIdentity(_ r: EvalRequest) -> JSONObject {
    var o = runKeys(r)
    o["settings"] = .object([
      "max_seq_len": .int(r.featurizer.maxSeqLen), "doc_stride": .int(r.featurizer.docStride),
      "max_query_len": .int(r.featurizer.maxQueryLen), "max_answer_len": .int(r.maxAnswerLen),
      "batch_size": .int(r.batchSize), "max_length": .int(r.maxLength),
    ])
    return o
  }

  /// The SQuAD metrics of the result line.
  static func describe(_ res: SquadEvaluation, into out: inout JSONObject) {
    out["n"] = .int(res.n)
    out["em"] = .double(res.em)
    out["f1"] = .double(res.f1)
    out["features"] = .int(res.features)
    out["sparsity"] = .double(res.sparsity.overall)
    out["seconds"] = .double(rounded(res.seconds))
    out["questions_per_second"] = .double(res.seconds > 0 ? rounded(Double(res.n) / res.seconds) : 0)
  }

  /// The SST-2 metrics of the result line.
  static func describe(_ res: SST2Evaluation, into out: inout JSONObject) {
    out["n"] = .int(res.n)
    out["correct"] = .int(res.correct)
    out["accuracy"] = .double(res.accuracy)
    out["sparsity"] = .double(res.sparsity.overall)
    out["seconds"] = .double(rounded(res.seconds))
    out["sentences_per_second"] = .double(res.seconds > 0 ? rounded(Double(res.n) / res.seconds) : 0)
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
