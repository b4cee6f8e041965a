import Foundation

/// One SQuAD question as the evaluation sees it (spiqa-reference.md §3.2 steps 1–2).
public struct SquadQuestion: Sendable, Equatable {
  /// Position in the flattened data set (0-based, the index `--samples`/`--offset` refer to).
  public var index: Int
  /// The SQuAD question id.
  public var id: String
  public var question: String
  public var context: String
  /// Gold answers whose normalised text is non-empty, or `[""]` when none is.
  public var answers: [String]
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

  private struct File: Decodable {
    struct Article: Decodable { var paragraphs: [Paragraph] }
    struct Paragraph: Decodable {
      var context: String
      var qas: [QA]
    }
    struct QA: Decodable {
      var id: String
      var question: String
      var answers: [Answer]
    }
    struct Answer: Decodable { var text: String }
    var data: [Article]
  }

  /// Parse SQuAD v1.1 JSON bytes; `source` names the input in errors.
  public init(json: Data, source: String = "squad") throws {
    let file: File
    do {
      file = try JSONDecoder().decode(File.self, from: json)
    } catch let DecodingError.keyNotFound(key, ctx) {
      throw TasksError.badData("\(source): missing key \"\(key.stringValue)\" at \(Self.path(ctx)); expected SQuAD v1.1 JSON")
    } catch let DecodingError.typeMismatch(_, ctx) {
      throw TasksError.badData("\(source): wrong type at \(Self.path(ctx)); expected SQuAD v1.1 JSON")
    } catch {
      throw TasksError.badData("\(source): not valid JSON (\(error.localizedDescription)); expected SQuAD v1.1 JSON")
    }
    var order: [String] = []
    var byContext: [String: [File.QA]] = [:]
    var paragraphs = 0
    var merged = 0
    for article in file.data {
      for p in article.paragraphs {
        paragraphs += 1
        if byContext[p.context] == nil { order.append(p.context) } else { merged += 1 }
        byContext[p.context] = p.qas
      }
    }
    var questions: [SquadQuestion] = []
    for context in order {
      for qa in byContext[context] ?? [] {
        let golds = qa.answers.map(\.text).filter { !SquadMetric.normalize($0).isEmpty }
        questions.append(
          SquadQuestion(
            index: questions.count, id: qa.id, question: qa.question, context: context,
            answers: golds.isEmpty ? [""] : golds))
      }
    }
    self.questions = questions
    self.paragraphCount = paragraphs
    self.mergedContexts = merged
  }

  /// Read and parse a SQuAD v1.1 JSON file.
  public init(path: String) throws {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw TasksError.io("\(path): cannot read (\(error.localizedDescription))")
    }
    try self.init(json: data, source: path)
  }

  private static func path(_ ctx: DecodingError.Context) -> String {
    let p = ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    return p.isEmpty ? "top level" : p
  }
}
