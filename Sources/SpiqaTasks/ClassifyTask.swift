/// Your own data for any sequence-classification checkpoint: a TSV or CSV with a header, or JSON lines, with the
/// text (and optional second segment and label) in named columns. Labels are the checkpoint's `id2label` names
/// or output indices (numbers for a one-output regression checkpoint); the score is accuracy, or Pearson and
/// Spearman for regression.
public struct ClassifyTask: SpiqaTask {
  public init() {}
  public var name: String { "classify" }
  public var summary: String {
    "your .tsv/.csv/.jsonl, columns by name (accuracy or Pearson)"
  }
  public var defaultDataFile: String? { nil }
  public var title: String { "your data" }
  /// Accuracy for classes; Pearson and Spearman for a regression checkpoint.
  public var metrics: [TaskMetric] {
    [TaskMetric("accuracy", "accuracy"), TaskMetric("pearson", "Pearson"), TaskMetric("spearmanr", "Spearman")]
  }
  public var dataHint: String { "a .tsv, .csv or .jsonl file with the text column" }

  /// Classes (accuracy) or regression (Pearson, Spearman), as the per-example lines show.
  public func mergingScorer(settings: TaskSettings) throws -> TaskScorer { SequenceScorer.merging() }

  public func load(_ path: String, settings: TaskSettings) throws -> any TaskData {
    guard let textColumn = settings.textColumn else {
      throw TasksError.usage("task classify needs the name of the text column")
    }
    let names = [textColumn] + [settings.pairColumn, settings.labelColumn].compactMap { $0 }
    let table = try DataTable.read(path, columns: names, format: settings.dataFormat)
    let t = try table.column(textColumn)
    let p = try settings.pairColumn.map { try table.column($0) }
    let l = try settings.labelColumn.map { try table.column($0) }
    var examples: [SequenceExample] = []
    for r in table.rows.indices {
      examples.append(
        SequenceExample(
          index: r, id: "classify-\(r)", text: try table.value(r, t), pair: try p.map { try table.value(r, $0) },
          target: try l.map { .name(try table.value(r, $0), line: table.rows[r].line) }))
    }
    return SequenceData(
      task: name, source: path, examples: examples,
      scoring: l == nil ? .unlabelled(reason: "no label column was given") : .checkpointLabels)
  }
}
