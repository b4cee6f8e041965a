import SpiqaCore
import SpiqaTokenizers

/// What an example of a sentence task is scored against.
public enum SequenceTarget: Sendable, Equatable {
  /// A class, as an index into the task's `LabelSet`.
  case label(Int)
  /// A regression target (STS-B's similarity score).
  case value(Double)
  /// A class named in the data file, resolved against the checkpoint's `id2label` (`classify`); `line` is the
  /// 1-based line of the file it came from.
  case name(String, line: Int)
}

/// One sentence or sentence pair of a task.
public struct SequenceExample: Sendable, Equatable {
  /// The example's index in its file (0-based data row; for `text`, the 0-based input line).
  public var index: Int
  /// `example_id` of records: `<task>-<index>`.
  public var id: String
  public var text: String
  /// The second segment of a pair.
  public var pair: String?
  public var target: SequenceTarget?

  public init(index: Int, id: String, text: String, pair: String? = nil, target: SequenceTarget? = nil) {
    self.index = index
    self.id = id
    self.text = text
    self.pair = pair
    self.target = target
  }
}

/// How a sentence task is scored.
public enum SequenceScoring: Sendable {
  /// Classes of the task (`accuracy` and `correct` always; `f1` of class 1 and `matthews_correlation` on request).
  case classes(LabelSet, f1: Bool = false, matthews: Bool = false)
  /// One regression output: Pearson and Spearman correlation.
  case regression
  /// The checkpoint's own labels (`SequenceTarget.name`), or regression when it has one output.
  case checkpointLabels
  /// Nothing to score (no labels).
  case unlabelled(reason: String)
}

/// The examples of a sentence task (single segments or pairs): batches of `batchSize` in the given order, each
/// sequence laid out by `SegmentEncoder` and padded to the longest of its batch (docs/evaluation.md).
public final class SequenceData: TaskData {
  public let task: String
  /// The data file, for messages.
  public let source: String
  public let examples: [SequenceExample]
  public let scoring: SequenceScoring
  public var count: Int { examples.count }
  public var unit: String { "sentences" }
  public func exampleId(_ index: Int) -> String { examples[index].id }

  public init(task: String, source: String, examples: [SequenceExample], scoring: SequenceScoring) {
    self.task = task
    self.source = source
    self.examples = examples
    self.scoring = scoring
  }

  /// Tokens per sequence: `settings.maxLength`, at most the model's positions.
  func maxLength(_ settings: TaskSettings, maxPositions: Int) -> Int {
    min(settings.maxLength ?? maxPositions, maxPositions)
  }

  public func featurization(_ settings: TaskSettings, maxPositions: Int) -> JSONObject {
    var f: JSONObject = [
      "batch_size": .int(settings.batchSize), "max_length": .int(maxLength(settings, maxPositions: maxPositions)),
      "padding": "longest",
    ]
    if examples.contains(where: { $0.pair != nil }) { f["pair_truncation"] = .string(settings.pairTruncation.rawValue) }
    return f
  }

  public func capacity(_ settings: TaskSettings, maxPositions: Int) -> (batch: Int, seqLen: Int) {
    // Buffers sized for the batches there can be, not for a batch size larger than the data.
    (min(settings.batchSize, max(1, examples.count)), min(128, maxLength(settings, maxPositions: maxPositions)))
  }

  public func batches(
    _ selected: [Int], tokenizer: TaskTokenizer, settings: TaskSettings, maxPositions: Int
  ) throws -> TaskBatches {
    let batchSize = settings.batchSize
    let maxLength = maxLength(settings, maxPositions: maxPositions)
    guard batchSize >= 1 else { throw TasksError.usage("the batch size must be ≥ 1, got \(batchSize)") }
    guard maxLength >= 2 else {
      throw TasksError.usage(
        "the sequence length must be ≥ 2 tokens ([CLS] and [SEP]), got \(maxLength) (--max-length, or the "
          + "checkpoint's max_position_embeddings \(maxPositions) less its reserved positions)")
    }
    let encoder = SegmentEncoder(maxLength: maxLength, pairTruncation: settings.pairTruncation)
    let examples = self.examples
    return TaskBatches(count: (selected.count + batchSize - 1) / batchSize, examplesPerBatch: batchSize) { g in
      let chunk = selected[(g * batchSize)..<min(selected.count, (g + 1) * batchSize)].map { examples[$0] }
      let seqs = try chunk.map { ex in
        let (ids, types) = try encoder.encode(ex.text, pair: ex.pair, tokenizer: tokenizer)
        return ExtractionSequence(exampleId: ex.id, exampleIndex: ex.index, feature: 0, ids: ids, tokenTypes: types)
      }
      return TaskGroup(sequences: ExtractionGroup(sequences: seqs), examples: chunk.count, payload: chunk)
    }
  }

  public func scorer(model: TaskModel, settings: TaskSettings) throws -> TaskScorer {
    guard let outputs = model.classifierLabels else {
      throw TasksError.usage("\(model.name): the checkpoint has no sequence-classification head; task \(task) needs one")
    }
    switch scoring {
    case .unlabelled(let reason):
      throw TasksError.usage("task \(task) cannot be scored: \(reason)")
    case .classes(let labels, let f1, let matthews):
      let map = try labels.fit(modelLabels: outputs, checkpoint: model.name, task: task)
      return SequenceScorer(map: map, f1: f1, matthews: matthews) { ex in
        if case .label(let k) = ex.target { return .label(k) }
        return nil
      }
    case .regression:
      try Self.checkRegression(outputs, model: model.name, task: task)
      return SequenceScorer(map: nil) { $0.target }
    case .checkpointLabels:
      // Labels are resolved now, so a bad one fails before the model runs.
      let resolved = try resolveLabels(outputs)
      guard !resolved.isEmpty || examples.isEmpty else {
        throw TasksError.usage("task \(task) cannot be scored without a label column")
      }
      return SequenceScorer(map: outputs.count == 1 ? nil : Array(0..<outputs.count)) { resolved[$0.index] }
    }
  }

  /// Each labelled example's target under a classifier with `outputs` (its `id2label` names; one output: a
  /// regression, labels are numbers), by example index: what `--task classify` scores, and what spiqa-extract checks
  /// before it records anything.
  /// - Throws: `TasksError.badData` naming the file and line of the first label that fits no output.
  public func resolveLabels(_ outputs: [String]) throws -> [Int: SequenceTarget] {
    var resolved: [Int: SequenceTarget] = [:]
    for ex in examples {
      guard case .name(let s, let line) = ex.target else { continue }
      if outputs.count == 1 {
        guard let v = regressionValue(s) else {
          throw TasksError.badData(
            "\(source): line \(line): label '\(s)' is not a finite number (the checkpoint has one regression output)")
        }
        resolved[ex.index] = .value(v)
      } else {
        let folded = LabelSet.folded(s)
        guard
          let k = outputs.firstIndex(of: s) ?? outputs.firstIndex(where: { LabelSet.folded($0) == folded })
            ?? Int(s).flatMap({ (0..<outputs.count).contains($0) ? $0 : nil })
        else {
          throw TasksError.badData(
            "\(source): line \(line): label '\(s)' is not one of the checkpoint's labels "
              + "(\(outputs.joined(separator: ", "))) or an index 0-\(outputs.count - 1)")
        }
        resolved[ex.index] = .label(k)
      }
    }
    return resolved
  }

  static func checkRegression(_ outputs: [String], model: String, task: String) throws {
    guard outputs.count == 1 else {
      throw TasksError.usage(
        "\(model): the classifier has \(outputs.count) outputs; task \(task) is a regression and needs 1 (num_labels 1)")
    }
  }
}

/// A regression label: a finite decimal number, spaces around it ignored as Python's float() does. Not nan or inf
/// (Pearson would be null, the run "passing"), nor Swift's hexadecimal floats, which float() refuses.
func regressionValue(_ s: String) -> Double? {
  var scalars = Substring(s).unicodeScalars
  while let c = scalars.first, c.properties.isWhitespace { scalars.removeFirst() }
  while let c = scalars.last, c.properties.isWhitespace { scalars.removeLast() }
  let text = String(scalars)
  guard !text.contains(where: { $0 == "x" || $0 == "X" }), let v = Double(text), v.isFinite else { return nil }
  return v
}
