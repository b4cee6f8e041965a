/// A classification task's labels in the data set's order (GLUE: the `datasets` ClassLabel order), each with the
/// spellings that may name it: the data file's own first (e.g. "1"), then names checkpoints use ("positive").
public struct LabelSet: Sendable, Equatable {
  public var spellings: [[String]]

  public init(_ spellings: [[String]]) { self.spellings = spellings }

  public var count: Int { spellings.count }
  /// The data file's spelling of each label.
  public var fileNames: [String] { spellings.map { $0[0] } }

  /// The label a data-file value names (any spelling, exact), or nil.
  public func index(of value: String) -> Int? {
    spellings.firstIndex { $0.contains(value) }
  }

  /// Lower case, `-` and spaces as `_`: how checkpoint names are compared ("NOT_ENTAILMENT", "not entailment").
  static func folded(_ s: String) -> String {
    String(s.lowercased().map { $0 == "-" || $0 == " " ? "_" : $0 })
  }

  /// True for names that say nothing (`LABEL_0`, `LABEL_1`, …, or none at all).
  public static func generic(_ names: [String]) -> Bool {
    names.enumerated().allSatisfy { folded($1) == "label_\($0)" }
  }

  /// For each model output, the task label it predicts: the identity when the checkpoint's `id2label` is absent or
  /// generic, else matched by name (case, `-` and spaces ignored).
  /// - Parameters: modelLabels: the checkpoint's labels by output index (`id2label`; `LABEL_k` when only
  ///   `num_labels` is given); checkpoint and task name the two sides in errors.
  /// - Throws: `TasksError.usage` when the count differs or a name matches no task label (or two outputs the same).
  public func fit(modelLabels: [String], checkpoint: String, task: String) throws -> [Int] {
    let shown = modelLabels.enumerated().map { "\($0): \($1)" }.joined(separator: ", ")
    let wanted = spellings.map { $0.count > 1 ? "\($0[0])/\($0[1])" : $0[0] }.joined(separator: ", ")
    guard modelLabels.count == count else {
      throw TasksError.usage(
        "\(checkpoint): the classifier has \(modelLabels.count) output(s) (id2label {\(shown)}); task \(task) needs "
          + "\(count) (\(wanted))")
    }
    if Self.generic(modelLabels) { return Array(0..<count) }
    var map: [Int] = []
    for name in modelLabels {
      let f = Self.folded(name)
      guard let k = spellings.firstIndex(where: { $0.contains { Self.folded($0) == f } }), !map.contains(k) else {
        throw TasksError.usage(
          "\(checkpoint): id2label {\(shown)} does not fit task \(task)'s labels (\(wanted)); expected those names "
            + "or LABEL_0…LABEL_\(count - 1)")
      }
      map.append(k)
    }
    return map
  }
}
