import Foundation
import SpiqaCore

/// One SQuAD question as the evaluation sees it (docs/reference-behaviour.md §3.2 steps 1–2).
public struct SquadQuestion: Sendable, Equatable {
  /// Position in the flattened data set (0-based, the index `--samples`/`--offset` refer to).
  public var index: Int
  /// The SQuAD question id.
  public var id: String
  public var question: String
  public var context: String
  /// Gold answers whose normalised text is non-empty, or `[""]` when none is.
  public var answers: [String]
  /// The file lists at least one answer (SQuAD v2.0's `HasAns`; false for its unanswerable questions).
  public var hasAnswer = true
}

/// SQuAD v1.1 JSON (`{"data": [{"paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text"}]}]}]}]}`)
/// flattened exactly as the reference: a dictionary keyed by context string in insertion order (a repeated context
/// replaces the earlier paragraph's questions at the earlier position), then its questions in file order.
/// dev-v1.1 has 2,067 paragraphs with 2,067 distinct contexts, so the merge never triggers there: 10,570 questions.
public struct SquadDataset: Sendable {
  public var questions: [SquadQuestion]
  /// Number of paragraphs in the file and how many were replaced by a later identical context.
  public var paragraphCount: Int
  public var mergedContexts: Int

  /// One paragraph's questions as read from the file.
  private struct QA {
    var id: String
    var question: String
    var answers: [String]
  }

  /// Parse SQuAD v1.1 JSON bytes; `source` names the input in errors.
  ///
  /// Fields are read in file order and, within an object, in the order `context, qas` / `id, question, answers`;
  /// the first missing key or wrong type is reported with its path (`.data[0].paragraphs[3].context`). Other keys
  /// are ignored.
  public init(json: Data, source: String = "squad") throws {
    let root: JSONValue
    do { root = try JSONValue(parsing: [UInt8](json)) } catch {
      throw TasksError.badData(
        "\(source): not valid JSON (\(error.what) at byte \(error.offset)); expected SQuAD v1.1 JSON")
    }
    let r = SquadFields(source: source)
    var order: [String] = []
    var byContext: [String: [QA]] = [:]
    var paragraphs = 0
    var merged = 0
    // Paths are built only for an error message: the autoclosures keep the 4.8 MB dev set fast.
    for (a, article) in try r.array(r.member("data", of: root, at: ""), at: ".data").enumerated() {
      let ap = { ".data[\(a)]" }
      for (p, paragraph) in try r.array(r.member("paragraphs", of: article, at: ap()), at: ap() + ".paragraphs")
        .enumerated()
      {
        let pp = { ap() + ".paragraphs[\(p)]" }
        let context = try r.string(r.member("context", of: paragraph, at: pp()), at: pp() + ".context")
        var qas: [QA] = []
        for (q, qa) in try r.array(r.member("qas", of: paragraph, at: pp()), at: pp() + ".qas").enumerated() {
          let qp = { pp() + ".qas[\(q)]" }
          let id = try r.string(r.member("id", of: qa, at: qp()), at: qp() + ".id")
          let question = try r.string(r.member("question", of: qa, at: qp()), at: qp() + ".question")
          var answers: [String] = []
          for (k, answer) in try r.array(r.member("answers", of: qa, at: qp()), at: qp() + ".answers").enumerated() {
            let kp = { qp() + ".answers[\(k)]" }
            answers.append(try r.string(r.member("text", of: answer, at: kp()), at: kp() + ".text"))
          }
          qas.append(QA(id: id, question: question, answers: answers))
        }
        paragraphs += 1
        if byContext[context] == nil { order.append(context) } else { merged += 1 }
        byContext[context] = qas
      }
    }
    var questions: [SquadQuestion] = []
    for context in order {
      for qa in byContext[context] ?? [] {
        let golds = qa.answers.filter { !SquadMetric.normalize($0).isEmpty }
        questions.append(
          SquadQuestion(
            index: questions.count, id: qa.id, question: qa.question, context: context,
            answers: golds.isEmpty ? [""] : golds, hasAnswer: !qa.answers.isEmpty))
      }
    }
    self.questions = questions
    self.paragraphCount = paragraphs
    self.mergedContexts = merged
  }

  /// Read and parse a SQuAD v1.1 JSON file (`-` = standard input).
  public init(path: String) throws {
    try self.init(json: try readData(path), source: path)
  }
}

/// Typed access to the SQuAD JSON fields, with errors naming the path of the bad field.
private struct SquadFields {
  let source: String

  /// `value[key]`, where `value` (at `path`, "" for the top level) must be an object holding `key`.
  func member(_ key: String, of value: JSONValue, at path: @autoclosure () -> String) throws -> JSONValue {
    guard case .object(let o) = value else { throw wrongType(path()) }
    guard let v = o[key] else {
      throw TasksError.badData("\(source): missing key \"\(key)\" at \(place(path())); expected SQuAD v1.1 JSON")
    }
    return v
  }

  func array(_ value: JSONValue, at path: @autoclosure () -> String) throws -> [JSONValue] {
    guard case .array(let a) = value else { throw wrongType(path()) }
    return a
  }

  func string(_ value: JSONValue, at path: @autoclosure () -> String) throws -> String {
    guard case .string(let s) = value else { throw wrongType(path()) }
    return s
  }

  private func wrongType(_ path: String) -> TasksError {
    TasksError.badData("\(source): wrong type at \(place(path)); expected SQuAD v1.1 JSON")
  }

  /// The path for a message: `top level` for the root.
  private func place(_ path: String) -> String { path.isEmpty ? "top level" : path }
}
