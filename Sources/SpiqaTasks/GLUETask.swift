/// A GLUE task in its official TSV layout: the sentence (and pair) and label columns by header name (CoLA has no
/// header: columns by position), the labels in the `datasets` order, and the metric of the GLUE benchmark.
public struct GLUETask: SpiqaTask {
  public let name: String
  /// Folder and file under the shared data folder (`data/glue/<folder>/<file>`).
  public let file: String
  /// Header names of the sentence, the second sentence and the label.
  public let text: String
  public let pair: String?
  public let label: String
  /// Nil for regression (STS-B).
  public let labels: LabelSet?
  public let f1: Bool
  public let matthews: Bool
  /// The column names of a headerless file (CoLA).
  public let fixedHeader: [String]?

  public init(
    name: String, file: String, text: String, pair: String? = nil, label: String, labels: LabelSet?,
    f1: Bool = false, matthews: Bool = false, fixedHeader: [String]? = nil
  ) {
    self.name = name
    self.file = file
    self.text = text
    self.pair = pair
    self.label = label
    self.labels = labels
    self.f1 = f1
    self.matthews = matthews
    self.fixedHeader = fixedHeader
  }

  public var defaultDataFile: String? { "data/glue/" + file }
  public var dataHint: String { "a GLUE \(file) TSV" }

  public var summary: String {
    let metric =
      labels == nil ? "Pearson, Spearman" : matthews ? "Matthews corr." : f1 ? "accuracy, F1" : "accuracy"
    return "GLUE \(file), \(pair == nil ? "sentences" : "pairs") (\(metric))"
  }

  /// "CoLA dev", "MNLI dev_matched": the folder and the file's stem.
  public var title: String {
    let parts = file.split(separator: "/")
    let stem = parts.last.map { String($0.prefix(while: { $0 != "." })) } ?? ""
    return "\(parts.first ?? "") \(stem)"
  }

  /// The GLUE benchmark's metrics: Pearson/Spearman (STS-B), Matthews (CoLA), F1 and accuracy (MRPC, QQP), accuracy.
  public var metrics: [TaskMetric] {
    if labels == nil { return [TaskMetric("pearson", "Pearson"), TaskMetric("spearmanr", "Spearman")] }
    if matthews { return [TaskMetric("matthews_correlation", "Matthews corr."), TaskMetric("accuracy", "accuracy")] }
    if f1 { return [TaskMetric("f1", "F1"), TaskMetric("accuracy", "accuracy")] }
    return [TaskMetric("accuracy", "accuracy")]
  }

  public func mergingScorer(settings: TaskSettings) throws -> TaskScorer {
    SequenceScorer.merging(f1: f1, matthews: matthews)
  }

  public func load(_ path: String, settings: TaskSettings) throws -> any TaskData {
    let table = try DataTable.tsv(try readText(path), source: path, header: fixedHeader)
    let t = try table.column(text)
    let p = try pair.map { try table.column($0) }
    let l = try table.column(label)
    var examples: [SequenceExample] = []
    for r in table.rows.indices {
      let value = try table.value(r, l)
      let target: SequenceTarget
      if let labels {
        guard let k = labels.index(of: value) else {
          throw TasksError.badData(
            "\(path): line \(table.rows[r].line): label '\(value)' is not one of \(labels.fileNames.joined(separator: ", "))")
        }
        target = .label(k)
      } else {
        guard let v = regressionValue(value) else {
          throw TasksError.badData("\(path): line \(table.rows[r].line): label '\(value)' is not a finite number")
        }
        target = .value(v)
      }
      examples.append(
        SequenceExample(
          index: r, id: "\(name)-\(r)", text: try table.value(r, t), pair: try p.map { try table.value(r, $0) },
          target: target))
    }
    let scoring: SequenceScoring = labels.map { .classes($0, f1: f1, matthews: matthews) } ?? .regression
    return SequenceData(task: name, source: path, examples: examples, scoring: scoring)
  }
}

extension GLUETask {
  /// The GLUE benchmark: every task's dev file in the layout the GLUE distribution ships.
  public static let all: [GLUETask] = [
    GLUETask(
      name: "cola", file: "CoLA/dev.tsv", text: "sentence", label: "label",
      labels: LabelSet([["0", "unacceptable"], ["1", "acceptable"]]), matthews: true,
      fixedHeader: ["source", "label", "original_label", "sentence"]),
    GLUETask(
      name: "mrpc", file: "MRPC/dev.tsv", text: "#1 String", pair: "#2 String", label: "Quality",
      labels: LabelSet([["0", "not_equivalent"], ["1", "equivalent"]]), f1: true),
    GLUETask(
      name: "qqp", file: "QQP/dev.tsv", text: "question1", pair: "question2", label: "is_duplicate",
      labels: LabelSet([["0", "not_duplicate"], ["1", "duplicate"]]), f1: true),
    GLUETask(name: "stsb", file: "STS-B/dev.tsv", text: "sentence1", pair: "sentence2", label: "score", labels: nil),
    GLUETask(
      name: "mnli", file: "MNLI/dev_matched.tsv", text: "sentence1", pair: "sentence2", label: "gold_label",
      labels: LabelSet([["entailment"], ["neutral"], ["contradiction"]])),
    GLUETask(
      name: "mnli_mismatched", file: "MNLI/dev_mismatched.tsv", text: "sentence1", pair: "sentence2",
      label: "gold_label", labels: LabelSet([["entailment"], ["neutral"], ["contradiction"]])),
    GLUETask(
      name: "qnli", file: "QNLI/dev.tsv", text: "question", pair: "sentence", label: "label",
      labels: LabelSet([["entailment"], ["not_entailment"]])),
    GLUETask(
      name: "rte", file: "RTE/dev.tsv", text: "sentence1", pair: "sentence2", label: "label",
      labels: LabelSet([["entailment"], ["not_entailment"]])),
    GLUETask(
      name: "wnli", file: "WNLI/dev.tsv", text: "sentence1", pair: "sentence2", label: "label",
      labels: LabelSet([["0", "not_entailment"], ["1", "entailment"]])),
  ]
}
