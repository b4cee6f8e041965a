/// Plain text for extraction: one sequence per line (`--pairs`: two tab-separated segments). Blank lines
/// are skipped but counted: a record's `example_index` is its 0-based input line and its id `text-<line>`.
public struct TextTask: SpiqaTask {
  public init() {}
  public var name: String { "text" }
  public var summary: String { "plain text, one sequence (--pairs: a<TAB>b) per line; no labels" }
  public var title: String { "text" }
  public var metrics: [TaskMetric] { [] }
  public var defaultDataFile: String? { nil }
  public var dataHint: String { "one sequence per line, - for standard input" }

  public func load(_ path: String, settings: TaskSettings) throws -> any TaskData {
    var examples: [SequenceExample] = []
    for (line, text) in try TextLines(path: path).lines {
      var pair: String?
      var first = text
      if settings.pairs {
        let parts = text.split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
          throw TasksError.badData(
            "\(path): line \(line + 1): \(parts.count) tab-separated segment(s), expected 2 (a pair)")
        }
        first = String(parts[0])
        pair = String(parts[1])
      }
      examples.append(SequenceExample(index: line, id: "text-\(line)", text: first, pair: pair))
    }
    return SequenceData(
      task: name, source: path, examples: examples,
      scoring: .unlabelled(reason: "text has no labels; the classify task scores a file with a label column"))
  }
}
