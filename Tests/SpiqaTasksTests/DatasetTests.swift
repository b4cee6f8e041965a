import Foundation
import Testing

import SpiqaTasks

/// SQuAD JSON, SST-2 TSV and text-line loading.
@Suite struct DatasetTests {
  static let tiny = """
    {"version": "1.1", "data": [{"title": "T", "paragraphs": [
      {"context": "A b c.", "qas": [{"id": "q1", "question": "Q1?", "answers": [{"answer_start": 0, "text": "A"}, {"answer_start": 2, "text": "b"}]}]},
      {"context": "Other.", "qas": [{"id": "q2", "question": "Q2?", "answers": [{"answer_start": 0, "text": "the"}]}]},
      {"context": "A b c.", "qas": [{"id": "q3", "question": "Q3?", "answers": [{"answer_start": 0, "text": "c"}]}, {"id": "q4", "question": "Q4?", "answers": []}]}
    ]}]}
    """

  @Test func squadFlattenAndMerge() throws {
    let d = try SquadDataset(json: Data(Self.tiny.utf8))
    // The repeated context replaces the first paragraph's questions at the first position (Python dict semantics).
    #expect(d.questions.map(\.id) == ["q3", "q4", "q2"])
    #expect(d.questions.map(\.index) == [0, 1, 2])
    #expect(d.questions[0].answers == ["c"])
    #expect(d.questions[1].answers == [""])
    #expect(d.questions[2].answers == [""])  // "the" normalises to ""
    #expect(d.paragraphCount == 3)
    #expect(d.mergedContexts == 1)
  }

  @Test func squadErrors() {
    #expect(throws: TasksError.self) { try SquadDataset(json: Data("{\"data\": [{}]}".utf8)) }
    #expect(throws: TasksError.self) { try SquadDataset(json: Data("not json".utf8)) }
    #expect(throws: TasksError.self) { try SquadDataset(path: "/nonexistent/dev.json") }
  }

  /// The first bad field in file order, named by its path (the messages of the former Codable reader).
  @Test("SQuAD field errors name the path", arguments: [
    (#"[]"#, "wrong type at top level"),
    (#"{}"#, #"missing key "data" at top level"#),
    (#"{"data": {}}"#, "wrong type at .data"),
    (#"{"data": [1]}"#, "wrong type at .data[0]"),
    (#"{"data": [{}, {"paragraphs": 1}]}"#, #"missing key "paragraphs" at .data[0]"#),
    (#"{"data": [{"paragraphs": [{"qas": []}]}]}"#, #"missing key "context" at .data[0].paragraphs[0]"#),
    (#"{"data": [{"paragraphs": [{"context": 3, "qas": []}]}]}"#, "wrong type at .data[0].paragraphs[0].context"),
    (#"{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "1", "answers": [{}]}]}]}]}"#,
     #"missing key "question" at .data[0].paragraphs[0].qas[0]"#),
    (#"{"data": [{"paragraphs": []}, {"paragraphs": [{"context": "c", "qas": [{"id": "1", "question": "q", "answers": [{}]}]}]}]}"#,
     #"missing key "text" at .data[1].paragraphs[0].qas[0].answers[0]"#),
    (#"{"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "1", "question": "q", "answers": [{"text": 5}]}]}]}]}"#,
     "wrong type at .data[0].paragraphs[0].qas[0].answers[0].text"),
  ])
  func squadFieldErrors(json: String, message: String) {
    let e = #expect(throws: TasksError.self) { try SquadDataset(json: Data(json.utf8), source: "s.json") }
    #expect(e?.description == "s.json: \(message); expected SQuAD v1.1 JSON")
    #expect(e?.exitCode == 65)
  }

  @Test(.enabled(if: TestSupport.sharedFile("data/squad/dev-v1.1.json") != nil, "needs ../shared (SPIQA_SHARED)"))
  func squadDev() throws {
    let path = try #require(TestSupport.sharedFile("data/squad/dev-v1.1.json"))
    let d = try SquadDataset(path: path)
    #expect(d.questions.count == 10570)
    #expect(d.paragraphCount == 2067)
    #expect(d.mergedContexts == 0)
    #expect(d.questions[0].id == "56be4db0acb8001400a502ec")
    #expect(d.questions[857].index == 857)
  }

  @Test func sst2() throws {
    let d = try SST2Dataset(text: "sentence\tlabel\nit 's good . \t1\r\nbad\t0\n\n")
    #expect(d.examples == [
      SST2Example(index: 0, sentence: "it 's good . ", label: 1), SST2Example(index: 1, sentence: "bad", label: 0),
    ])
    #expect(throws: TasksError.self) { try SST2Dataset(text: "text\tlabel\nx\t1\n") }
    #expect(throws: TasksError.self) { try SST2Dataset(text: "sentence\tlabel\nx\t2\n") }
    #expect(throws: TasksError.self) { try SST2Dataset(text: "sentence\tlabel\nno tab\n") }
    // Blank lines (whitespace only) are skipped like in every reader, and still counted in error lines.
    let blanks = try SST2Dataset(text: "sentence\tlabel\r \t\ngood\t1\n\nbad\t0\r")
    #expect(blanks.examples.map(\.sentence) == ["good", "bad"] && blanks.examples.map(\.index) == [0, 1])
    let e = #expect(throws: TasksError.self) { try SST2Dataset(text: "sentence\tlabel\n\n \nno tab\n", source: "s.tsv") }
    #expect(e?.description == "s.tsv: line 4: expected \"sentence<TAB>0|1\"")
  }

  @Test(.enabled(if: TestSupport.sharedFile("data/glue/SST-2/dev.tsv") != nil, "needs ../shared (SPIQA_SHARED)"))
  func sst2Dev() throws {
    let d = try SST2Dataset(path: try #require(TestSupport.sharedFile("data/glue/SST-2/dev.tsv")))
    #expect(d.examples.count == 872)
    #expect(d.examples.filter { $0.label == 1 }.count == 444)
  }

  @Test func textLines() {
    let t = TextLines(text: "a\n\nb\r\n")
    #expect(t.lines.map(\.line) == [0, 2])
    #expect(t.lines.map(\.text) == ["a", "b"])
  }
}
