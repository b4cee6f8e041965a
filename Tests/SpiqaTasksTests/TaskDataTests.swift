import Foundation
import SpiqaCore
import SpiqaTokenizers
import Testing

@testable import SpiqaTasks

/// Reading task data (GLUE TSV, CSV, JSON lines, text pairs), laying out pairs, fitting labels, and the metrics.
@Suite struct TaskDataTests {
  /// A temporary file holding `text`, removed after `body`.
  func withFile<T>(_ name: String, _ text: String, _ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-tasks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent(name).path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return try body(path)
  }

  /// The error `load` throws for `text`, as (kind, message).
  func loadError(_ task: String, _ name: String, _ text: String, settings: TaskSettings = TaskSettings()) throws
    -> (SpiqaErrorKind, String)?
  {
    try withFile(name, text) { path in
      do {
        _ = try TaskRegistry.task(named: task).load(path, settings: settings)
        return nil
      } catch let e as TasksError {
        return (e.kind, e.description.replacingOccurrences(of: path, with: name))
      }
    }
  }

  /// A column the header names twice is refused when it is asked for (Python's csv and pandas disagree on which).
  @Test func duplicateColumnIsRefused() throws {
    var settings = TaskSettings()
    settings.textColumn = "text"
    settings.labelColumn = "label"
    let e = try #require(try loadError("classify", "dup.csv", "text,label,text\nfirst,1,second\n", settings: settings))
    #expect(e.0 == .badData && e.1.contains("names column 'text' more than once"), "\(e.1)")
  }

  /// No examples, no score: the metrics are null, not 0.
  @Test func emptyRunHasNullMetrics() throws {
    let r = SequenceScorer.merging(f1: true, matthews: true).result()
    #expect(r["n"] == .int(0))
    for k in ["accuracy", "f1", "matthews_correlation"] { #expect(r[k] == .null, "\(k)") }
  }

  @Test func badGLUEDataNamesFileAndLine() throws {
    let header = "index\tsentence1\tsentence2\tlabel\n"
    let cases: [(String, String, String)] = [
      ("rte", header + "0\ta\tb\tentailment\n1\ta\tb\n", "rte.tsv: line 3: 3 tab-separated field(s), expected 4"),
      ("rte", header + "0\ta\tb\tentailment\n1\ta\tb\tmaybe\n", "rte.tsv: line 3: label 'maybe' is not one of"),
      ("rte", "", "rte.tsv: empty"),
      ("rte", "\n\n", "rte.tsv: empty"),
      ("rte", "index\tpremise\thypothesis\tlabel\n0\ta\tb\tentailment\n", "rte.tsv: line 1: no column 'sentence1'"),
      ("stsb", "sentence1\tsentence2\tscore\na\tb\tfive\n", "rte.tsv: line 2: label 'five' is not a finite number"),
      ("stsb", "sentence1\tsentence2\tscore\na\tb\t1\na\tb\tnan\n", "rte.tsv: line 3: label 'nan' is not a finite"),
      ("stsb", "sentence1\tsentence2\tscore\na\tb\tinf\n", "rte.tsv: line 2: label 'inf' is not a finite"),
      ("stsb", "sentence1\tsentence2\tscore\na\tb\t0x1p1\n", "rte.tsv: line 2: label '0x1p1' is not a finite"),
      ("cola", "s\t1\t\ta b\ns\t1\ta\n", "rte.tsv: line 2: 3 tab-separated field(s), expected 4"),
    ]
    for (task, text, message) in cases {
      let e = try #require(try loadError(task, "rte.tsv", text), "\(message)")
      #expect(e.0 == .badData)
      #expect(e.1.hasPrefix(message), "\(e.1)")
      #expect(!e.1.contains("\n"))
    }
  }

  @Test func glueReadsByHeaderName() throws {
    let text = "\u{FEFF}Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tfirst one\tsecond one\n\n0\t3\t4\tx\ty\n"
    let data = try withFile("mrpc.tsv", text) { try TaskRegistry.task(named: "mrpc").load($0, settings: TaskSettings()) }
    let ex = try #require(data as? SequenceData).examples
    #expect(ex.map(\.text) == ["first one", "x"])
    #expect(ex.map(\.pair) == ["second one", "y"])
    #expect(ex.map(\.target) == [.label(1), .label(0)])
    #expect(ex.map(\.id) == ["mrpc-0", "mrpc-1"])
  }

  @Test(.enabled(if: TestSupport.sharedFile("data/glue/STS-B/dev.tsv") != nil, "needs ../shared (SPIQA_SHARED)"))
  func stsbDev() throws {
    let path = try #require(TestSupport.sharedFile("data/glue/STS-B/dev.tsv"))
    let ex = try #require(try TaskRegistry.task(named: "stsb").load(path, settings: TaskSettings()) as? SequenceData)
      .examples
    #expect(ex.count == 1500)
    #expect(ex[0].text == "A man with a hard hat is dancing.")
    #expect(ex[0].pair == "A man wearing a hard hat is dancing.")
    #expect(ex[0].target == .value(5))
  }

  @Test func classifyFormats() throws {
    var s = TaskSettings()
    s.textColumn = "t"
    s.pairColumn = "p"
    s.labelColumn = "l"
    let csv = "\u{FEFF}t,p,l\n\"a, \"\"quoted\"\"\",\"two\nlines\",yes\n\nplain,b,no\n"
    let jsonl = "{\"t\": \"a\", \"p\": \"b\", \"l\": 1}\n\n{\"t\": \"c\", \"p\": \"d\", \"l\": \"no\"}\n"
    let fromCSV = try withFile("d.csv", csv) { try ClassifyTask().load($0, settings: s) as? SequenceData }
    #expect(fromCSV?.examples.map(\.text) == ["a, \"quoted\"", "plain"])
    #expect(fromCSV?.examples.map(\.pair) == ["two\nlines", "b"])
    #expect(fromCSV?.examples.map(\.target) == [.name("yes", line: 2), .name("no", line: 5)])
    let fromJSONL = try withFile("d.jsonl", jsonl) { try ClassifyTask().load($0, settings: s) as? SequenceData }
    #expect(fromJSONL?.examples.map(\.target) == [.name("1", line: 1), .name("no", line: 3)])
    let bad: [(String, String, String)] = [
      ("d.csv", "x,p,l\na,b,c\n", "d.csv: line 1: no column 't'"),
      ("d.csv", "t,p,l\na,b\n", "d.csv: line 2: 2 comma-separated field(s), expected 3"),
      ("d.csv", "t,p,l\n\"a,b,c\n", "d.csv: line 2: a quoted field is not closed"),
      ("d.jsonl", "{\"t\": \"a\", \"p\": \"b\", \"l\": 0}\n{\"t\": \"a\", \"l\": 0}\n", "d.jsonl: line 2: no value for 'p'"),
      ("d.jsonl", "{\"t\": \"a\", \"p\": \"b\", \"l\": 0}\n[1]\n", "d.jsonl: line 2: expected a JSON object"),
      ("d.jsonl", "", "d.jsonl: empty"),
      ("d.tsv", "t\tp\tl\na\tb\n", "d.tsv: line 2: 2 tab-separated field(s), expected 3"),
      ("d.jsonl", "{\"t\": \"a\", \"p\": [\"b\"], \"l\": 0}\n", "d.jsonl: line 1: 'p' is a JSON array; expected a string"),
      ("d.jsonl", "{\"t\": {\"x\": 1}, \"p\": \"b\", \"l\": 0}\n", "d.jsonl: line 1: 't' is a JSON object"),
    ]
    for (name, text, message) in bad {
      let e = try #require(try loadError("classify", name, text, settings: s), "\(message)")
      #expect(e.0 == .badData)
      #expect(e.1.hasPrefix(message), "\(e.1)")
    }
  }

  /// Line ends as Python reads text files ("\n", "\r\n", a lone "\r"), and one rule for blank lines (nothing but
  /// whitespace) in every reader: skipped, but counted in line numbers and text ids.
  @Test func lineEndsAndBlankLines() throws {
    #expect(splitLines("a\rb\r\nc\n\rd") == ["a", "b", "c", "", "d"])
    #expect(splitLines("a\r\r\n") == ["a", "", ""])
    #expect(splitLines("") == [""])
    let text = TextLines(text: "a\r\r b\n \t\n\u{3000}\u{A0}\r\nc\r\u{1C}\u{1F}\u{85}\u{2029}\n\u{200B}")
    #expect(text.lines.map(\.line) == [0, 2, 5, 7] && text.lines.map(\.text) == ["a", " b", "c", "\u{200B}"])
    // Python's whitespace: U+001C–U+001F are, the zero-width space is not.
    #expect(isPythonBlank("\u{1C}\u{1D}\u{1E}\u{1F} \u{85}") && !isPythonBlank("\u{200B}") && !isPythonBlank("\u{FEFF}"))
    var s = TaskSettings()
    s.textColumn = "t"
    s.labelColumn = "l"
    // CSV: a quoted "\r" stays in the field; JSON lines: 1.0 and 1e0 name label "1".
    let files = [
      ("d.csv", "t,l\ra,1\r \r\"b\rc\",0\r\r\nd,1\r", [2, 4, 7]),
      ("d.jsonl", "{\"t\": \"a\", \"l\": 1.0}\r\n \t\r{\"t\": \"b\\rc\", \"l\": 0}\r\r{\"t\": \"d\", \"l\": 1e0}", [1, 3, 5]),
    ]
    for (name, body, lines) in files {
      let data = try withFile(name, body) { try ClassifyTask().load($0, settings: s) as? SequenceData }
      #expect(data?.examples.map(\.text) == ["a", "b\rc", "d"], "\(name)")
      #expect(data?.examples.map(\.target) == [.name("1", line: lines[0]), .name("0", line: lines[1]),
                                               .name("1", line: lines[2])], "\(name)")
    }
    // TSV has no quoting, so a lone "\r" ends its line; a line of tabs and spaces is blank.
    let tsv = try withFile("d.tsv", "t\tl\ra\t1\r \t \rb\t0\n\nd\t1\n") { try ClassifyTask().load($0, settings: s) as? SequenceData }
    #expect(tsv?.examples.map(\.text) == ["a", "b", "d"])
    #expect(tsv?.examples.map(\.target) == [.name("1", line: 2), .name("0", line: 4), .name("1", line: 6)])
  }

  /// A file that is not UTF-8 is refused naming the line and byte of the first bad sequence.
  @Test func invalidUTF8IsLocated() throws {
    #expect(firstInvalidUTF8(Array("ab\r\ncé\rd".utf8) + [0xFF, 0x41]) == (line: 3, byte: 9))
    #expect(firstInvalidUTF8([0xC3]) == (line: 1, byte: 0))
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-utf8-\(UUID().uuidString).txt")
    try Data([0x61, 0x0A, 0x62, 0xE2, 0x82, 0x0A]).write(to: path)
    defer { try? FileManager.default.removeItem(at: path) }
    do {
      _ = try TextTask().load(path.path, settings: TaskSettings())
      Issue.record("loaded a file that is not UTF-8")
    } catch let e as TasksError {
      #expect(e.kind == .badData && e.description == "\(path.path): line 2: not valid UTF-8 (byte 3 of the file)")
    }
  }

  @Test func textPairsKeepLineNumbers() throws {
    var s = TaskSettings()
    s.pairs = true
    let data = try withFile("p.txt", "a\tb\n\n\nc d\te\n") { try TextTask().load($0, settings: s) as? SequenceData }
    #expect(data?.examples.map(\.index) == [0, 3])
    #expect(data?.examples.map(\.id) == ["text-0", "text-3"])
    #expect(data?.examples.map(\.pair) == ["b", "e"])
    let e = try #require(try loadError("text", "p.txt", "a\tb\n\nno tab\n", settings: s))
    #expect(e.0 == .badData)
    #expect(e.1.hasPrefix("p.txt: line 3: 1 tab-separated segment(s), expected 2"))
  }

  @Test func pairLayoutAndLongestFirst() throws {
    let tok = ToyTokenizer()
    let enc = SegmentEncoder(maxLength: 12)
    let (ids, types) = try enc.encode("a b c", pair: "d e", tokenizer: tok)
    #expect(ids.count == 3 + 2 + 3)
    #expect(types == [0, 0, 0, 0, 0, 1, 1, 1])
    // longest_first, 9 tokens of room: the Python tokenizers give the first segment the odd token, the Rust ones
    // the longer (the second when equal); a short first segment keeps its length in both.
    let room = 9 + 3
    for (style, a, b, want) in [(PairTruncation.slow, 6, 6, (5, 4)), (.fast, 6, 6, (4, 5)), (.slow, 5, 7, (5, 4)),
                                (.fast, 5, 7, (4, 5)), (.slow, 2, 9, (2, 7)), (.fast, 2, 9, (2, 7))] {
      let encoder = SegmentEncoder(maxLength: room, pairTruncation: style)
      let (ids, types) = try encoder.encode(
        Array(repeating: "a", count: a).joined(separator: " "), pair: Array(repeating: "b", count: b).joined(separator: " "),
        tokenizer: tok)
      #expect(ids.count == room)
      #expect(types?.filter { $0 == 0 }.count == want.0 + 2 && types?.filter { $0 == 1 }.count == want.1 + 1,
              "\(style) \(a), \(b)")
    }
    let single = try enc.encode("a b c d e f g h i j k l m", pair: nil, tokenizer: tok)
    #expect(single.ids.count == 12 && single.types == nil)
  }

  @Test func labelFitting() throws {
    let nli = LabelSet([["entailment"], ["neutral"], ["contradiction"]])
    #expect(try nli.fit(modelLabels: ["LABEL_0", "LABEL_1", "LABEL_2"], checkpoint: "m", task: "mnli") == [0, 1, 2])
    #expect(try nli.fit(modelLabels: ["CONTRADICTION", "NEUTRAL", "ENTAILMENT"], checkpoint: "m", task: "mnli") == [2, 1, 0])
    #expect(throws: TasksError.self) { try nli.fit(modelLabels: ["a", "b"], checkpoint: "m", task: "mnli") }
    #expect(throws: TasksError.self) { try nli.fit(modelLabels: ["yes", "no", "maybe"], checkpoint: "m", task: "mnli") }
    let sst2 = LabelSet([["0", "negative"], ["1", "positive"]])
    #expect(try sst2.fit(modelLabels: ["Positive", "Negative"], checkpoint: "m", task: "sst2") == [1, 0])
    #expect(throws: TasksError.self) { try sst2.fit(modelLabels: ["positive", "positive"], checkpoint: "m", task: "sst2") }
  }

  @Test func metricsEqualScikitLearnAndSciPy() throws {
    let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tasks/references.json")
    let refs = try JSONValue(parsing: [UInt8](Data(contentsOf: url))).objectValue!
    let cases = try #require(refs["metrics"]?.arrayValue)
    #expect(cases.count == 6)
    for c in cases.compactMap(\.objectValue) {
      if let x = c["x"]?.arrayValue?.compactMap(\.doubleValue), let y = c["y"]?.arrayValue?.compactMap(\.doubleValue) {
        #expect(abs(ClassificationMetrics.pearson(x, y) - c["pearson"]!.doubleValue!) < 1e-12)
        #expect(abs(ClassificationMetrics.spearman(x, y) - c["spearmanr"]!.doubleValue!) < 1e-12)
        continue
      }
      let l = c["labels"]!.arrayValue!.compactMap(\.intValue), p = c["predictions"]!.arrayValue!.compactMap(\.intValue)
      #expect(abs(ClassificationMetrics.accuracy(labels: l, predictions: p) - c["accuracy"]!.doubleValue!) < 1e-12)
      #expect(abs(ClassificationMetrics.matthews(labels: l, predictions: p) - c["matthews"]!.doubleValue!) < 1e-12)
      if let f1 = c["f1"]?.doubleValue {
        #expect(abs(ClassificationMetrics.f1(labels: l, predictions: p) - f1) < 1e-12)
      }
    }
  }
}
