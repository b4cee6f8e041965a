import SpiqaCore

/// Every task the tools know, by name (docs/evaluation.md has the table). Adding a task: a type conforming to
/// `SpiqaTask` in its own file, and its entry here.
public enum TaskRegistry {
  public static let all: [any SpiqaTask] =
    [SquadTask(version: 1), SquadTask(version: 2), SST2Task()] + GLUETask.all.map { $0 as any SpiqaTask }
    + [ClassifyTask(), MaskedLMTask(), TextTask()]

  public static var names: [String] { all.map(\.name) }

  /// The task called `name`.
  /// - Throws: `TasksError.usage` listing the names there are.
  public static func task(named name: String) throws -> any SpiqaTask {
    guard let t = all.first(where: { $0.name == name }) else {
      throw TasksError.usage("unknown task '\(name)'; expected one of \(names.joined(separator: ", "))")
    }
    return t
  }

  /// One JSON object per task — `name`, `title`, `unit`, `summary`, `default_data` (relative to the shared folder, or
  /// null) and `metrics` (`key`, `label`, `percent`, `scale` — percent, fraction or value — and `lower_is_better`),
  /// headline first — for scripts such as the figures
  /// (`spiqa-eval --list-tasks`).
  public static var jsonLines: [String] {
    all.map { t in
      let metrics: [JSONValue] = t.metrics.map {
        .object([
          "key": .string($0.key), "label": .string($0.label), "percent": .bool($0.isPercent),
          "scale": .string($0.scale.rawValue), "lower_is_better": .bool($0.lowerIsBetter),
        ])
      }
      let o: JSONObject = [
        "name": .string(t.name), "title": .string(t.title), "unit": .string(t.unit), "summary": .string(t.summary),
        "default_data": t.defaultDataFile.map { .string($0) } ?? .null, "metrics": .array(metrics),
      ]
      return JSONValue.object(o).jsonText
    }
  }

  /// One line per task (`name  summary`), for `--help`.
  public static var helpText: String {
    let width = names.map(\.count).max() ?? 0
    return all.map { $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
      .joined(separator: "\n")
  }
}
