import SpiqaCore
import Testing

@testable import SpiqaTasks

/// What the registry tells scripts (`spiqa-eval --list-tasks`, read by the figures).
@Suite struct TaskRegistryTests {
  @Test func jsonLinesDescribeEveryTask() throws {
    let lines = TaskRegistry.jsonLines
    #expect(lines.count == TaskRegistry.all.count)
    var names: [String] = []
    for line in lines {
      let o = try #require(try JSONValue(parsing: Array(line.utf8)).objectValue)
      let name = try #require(o["name"]?.stringValue)
      names.append(name)
      #expect(o["title"]?.stringValue?.isEmpty == false, "\(name)")
      let unit = name.hasPrefix("squad") ? "questions" : name == "mlm" ? "lines" : "sentences"
      #expect(o["unit"]?.stringValue == unit, "\(name)")
      let metrics = try #require(o["metrics"]?.arrayValue, "\(name)")
      #expect(metrics.isEmpty == (name == "text"), "\(name): only text has no metric")
      for m in metrics.map({ $0.objectValue ?? [:] }) {
        #expect(m["key"]?.stringValue != nil && m["label"]?.stringValue != nil && m["percent"]?.boolValue != nil)
        #expect(["percent", "fraction", "value"].contains(m["scale"]?.stringValue ?? "")
          && m["lower_is_better"]?.boolValue != nil)
      }
    }
    #expect(names == TaskRegistry.names)
  }

  @Test func headlineMetrics() throws {
    func headline(_ task: String) throws -> String? { try TaskRegistry.task(named: task).metrics.first?.key }
    #expect(try headline("squad") == "em")
    #expect(try headline("squad_v2") == "f1")
    #expect(try headline("sst2") == "accuracy")
    #expect(try headline("cola") == "matthews_correlation")
    #expect(try headline("mrpc") == "f1")
    #expect(try headline("stsb") == "pearson")
    #expect(try TaskRegistry.task(named: "mnli").title == "MNLI dev_matched")
    #expect(try TaskRegistry.task(named: "squad").metrics.allSatisfy(\.isPercent))
    #expect(try TaskRegistry.task(named: "mrpc").metrics.allSatisfy { !$0.isPercent })
  }
}
