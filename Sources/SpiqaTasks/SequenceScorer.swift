import SpiqaCore
import SpiqaModel

/// Runs the classification head on sentence batches and scores them: argmax (first maximum) mapped to the task's
/// labels, or the single regression output.
public final class SequenceScorer: TaskScorer {
  /// Model output → task label (nil: regression, one output).
  let map: [Int]?
  let f1: Bool
  let matthews: Bool
  /// What an example is scored against (nil: it has no label).
  let target: (SequenceExample) -> SequenceTarget?
  private var labels: [Int] = []
  private var predictions: [Int] = []
  private var values: [Double] = []
  private var outputs: [Double] = []
  /// One regression output (no `map`), or, when merging, lines whose predictions are numbers, not classes.
  private var regression: Bool

  init(map: [Int]?, f1: Bool = false, matthews: Bool = false, target: @escaping (SequenceExample) -> SequenceTarget?) {
    self.map = map
    regression = map == nil
    self.f1 = f1
    self.matthews = matthews
    self.target = target
  }

  public func score(_ group: TaskGroup, batch: TaskBatch, model: TaskModel, hooks: ForwardHooks) throws -> [JSONObject] {
    let examples = group.payload as? [SequenceExample] ?? []
    let logits = try model.classify(batch, hooks: hooks)
    var lines: [JSONObject] = []
    for (ex, lg) in zip(examples, logits) {
      var o: JSONObject = ["index": .int(ex.index), "logits": .array(lg.map { .double(Double($0)) })]
      if let map {
        let p = map[SST2Evaluator.argmax(lg)]
        o["prediction"] = .int(p)
        if case .label(let k)? = target(ex) {
          labels.append(k)
          predictions.append(p)
          o["label"] = .int(k)
        }
      } else {
        let p = Double(lg.first ?? 0)
        o["prediction"] = .double(p)
        if case .value(let v)? = target(ex) {
          values.append(v)
          outputs.append(p)
          o["label"] = .double(v)
        }
      }
      lines.append(o)
    }
    return lines
  }

  /// An empty scorer for `EvalMerge`: classes (with the task's metrics) or regression, as the lines show.
  static func merging(f1: Bool = false, matthews: Bool = false) -> SequenceScorer {
    SequenceScorer(map: [], f1: f1, matthews: matthews) { _ in nil }
  }

  public func absorb(_ line: JSONObject) throws {
    switch line["prediction"] {
    case .int(let p)? where !regression:
      guard let label = line["label"] else { return }
      guard let k = label.intValue else { throw missing("an integer label", in: line) }
      labels.append(k)
      predictions.append(p)
    case .double(let p)? where regression || labels.isEmpty:
      regression = true
      guard let label = line["label"] else { return }
      guard let v = label.doubleValue else { throw missing("a numeric label", in: line) }
      values.append(v)
      outputs.append(p)
    default:
      throw missing(regression ? "a numeric prediction" : "a class prediction", in: line)
    }
  }

  public func result() -> JSONObject {
    guard !regression else {
      let finite = { (x: Double) -> JSONValue in x.isFinite ? .double(x) : .null }
      return [
        "n": .int(values.count), "pearson": finite(ClassificationMetrics.pearson(outputs, values)),
        "spearmanr": finite(ClassificationMetrics.spearman(outputs, values)),
      ]
    }
    let correct = zip(labels, predictions).filter { $0 == $1 }.count
    // No examples (an empty selection or a header-only file): no score, rather than a made-up 0.
    let empty = labels.isEmpty
    let metric = { (x: Double) -> JSONValue in empty ? .null : .double(x) }
    var o: JSONObject = [
      "n": .int(labels.count), "correct": .int(correct),
      "accuracy": metric(ClassificationMetrics.accuracy(labels: labels, predictions: predictions)),
    ]
    if f1 { o["f1"] = metric(ClassificationMetrics.f1(labels: labels, predictions: predictions)) }
    if matthews {
      o["matthews_correlation"] = metric(ClassificationMetrics.matthews(labels: labels, predictions: predictions))
    }
    return o
  }
}
