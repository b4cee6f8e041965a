/// GLUE SST-2 as the paper read it (`SST2Dataset`: header `sentence<TAB>label`, the label after the last tab),
/// scored by accuracy.
public struct SST2Task: SpiqaTask {
  public init() {}
  public var name: String { "sst2" }
  public var summary: String { "GLUE SST-2/dev.tsv, sentences (accuracy; the paper's reader)" }
  public var title: String { "SST-2 dev" }
  public var metrics: [TaskMetric] { [TaskMetric("accuracy", "accuracy")] }
  public var defaultDataFile: String? { "data/glue/SST-2/dev.tsv" }
  public var dataHint: String { "a GLUE SST-2 TSV" }
  /// SST-2's labels: 0 negative, 1 positive.
  public static let labels = LabelSet([["0", "negative"], ["1", "positive"]])

  public func mergingScorer(settings: TaskSettings) throws -> TaskScorer { SequenceScorer.merging() }

  public func load(_ path: String, settings: TaskSettings) throws -> any TaskData {
    let examples = try SST2Dataset(path: path).examples.map {
      SequenceExample(index: $0.index, id: "sst2-\($0.index)", text: $0.sentence, target: .label($0.label))
    }
    return SequenceData(task: name, source: path, examples: examples, scoring: .classes(Self.labels))
  }
}
