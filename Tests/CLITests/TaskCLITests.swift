import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

/// The task flags of spiqa-extract and spiqa-eval on the tiny checkpoints of scripts/make_task_fixtures.py: the task
/// list in --help, bad data (exit 65, one line naming file and line, no output file), text pairs, and the paper's
/// options on a pair task (quantized extraction replayed by spiqa-eval reproduces on-the-fly quantization).
@Suite(.enabled(if: EvalCLI.canRun && TestPaths.tool("spiqa-extract") != nil, "needs the built tools"))
struct TaskCLITests {
  static let fixtures = TestPaths.packageRoot.appendingPathComponent("Tests/SpiqaTasksTests/Fixtures/tasks").path
  static let nli2 = fixtures + "/tiny-nli2"

  @Test func helpListsTasks() throws {
    for tool in ["spiqa-eval", "spiqa-extract"] {
      let r = try EvalCLI.run(tool, ["--help"])
      #expect(r.status == 0)
      for name in ["squad_v2", "mnli_mismatched", "stsb", "classify", "text"] {
        #expect(r.text.contains(name), "\(tool) \(name)")
      }
    }
    let bad = try EvalCLI.run("spiqa-eval", ["--model", Self.nli2, "--task", "nope"])
    #expect(bad.status == 64)
    #expect(bad.stderr.contains("mnli"))
  }

  @Test func badDataExits65WithoutOutput() throws {
    let dir = EvalCLI.temp("")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let header = "index\tsentence1\tsentence2\tlabel\n"
    let cases: [(String, String, [String], String)] = [
      ("ragged.tsv", header + "0\ta\tb\tentailment\n1\ta\tb\n", ["--task", "rte"], "ragged.tsv: line 3:"),
      ("label.tsv", header + "0\ta\tb\twrong\n", ["--task", "rte"], "label.tsv: line 2: label 'wrong'"),
      ("empty.tsv", "", ["--task", "rte"], "empty.tsv: empty"),
      ("cols.csv", "premise,gold\na,entailment\n", ["--task", "classify", "--text-column", "text"],
       "cols.csv: line 1: no column 'text'"),
      ("names.csv", "premise,gold\na,entailment\nb,maybe\n",
       ["--task", "classify", "--text-column", "premise", "--label-column", "gold"], "names.csv: line 3: label 'maybe'"),
    ]
    for (file, text, args, message) in cases {
      let path = dir + "/" + file
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
      let out = dir + "/out-" + file
      let e = try EvalCLI.run("spiqa-eval", ["--quiet", "--model", Self.nli2, "--data", path, "--per-example", out] + args)
      #expect(e.status == 65, "\(file): \(e.stderr)")
      #expect(e.stderr.hasPrefix("spiqa-eval: \(path.dropLast(file.count))\(message)"), "\(e.stderr)")
      #expect(e.stderr.split(separator: "\n").count == 1)
      #expect(!FileManager.default.fileExists(atPath: out))
      // Extraction fails alike, the label case too: the checkpoint is a classifier whose labels the file must fit.
      let x = try EvalCLI.run("spiqa-extract", ["-q", "--model", Self.nli2, "--data", path, "-o", out] + args)
      #expect(x.status == 65, "\(file): \(x.stderr)")
      #expect(x.stderr.contains(message), "\(x.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out))
    }
  }

  @Test func textPairsRecordTheirLines() throws {
    let dir = EvalCLI.temp("")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/pairs.txt"
    try Data("the cat sat\ta cat\n\nbirds sing\tin the morning\n".utf8).write(to: URL(fileURLWithPath: path))
    let r = try EvalCLI.run(
      "spiqa-extract", ["-q", "--model", Self.nli2, "--task", "text", "--pairs", "--data", path, "--list"])
    #expect(r.status == 0, "\(r.stderr)")
    let rows = r.text.split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
    #expect(rows.map { $0[0] } == ["0", "2"])
    #expect(rows.map { $0[1] } == ["text-0", "text-2"])
    let single = try EvalCLI.run("spiqa-extract", ["-q", "--model", Self.nli2, "--task", "text", "--data", path, "--list"])
    #expect(single.text.contains("2\ttext-2\t0\t"))
    let noPairs = try EvalCLI.run("spiqa-extract", ["-q", "--model", Self.nli2, "--task", "rte", "--pairs", "--list"])
    #expect(noPairs.status == 64)
  }

  /// `--pair-truncation`: a pair of 6 + 6 one-token words in 12 tokens (9 of text) keeps 5 + 4 the Python way and
  /// 4 + 5 the Rust way; the stream header records which.
  @Test func pairTruncationStyles() throws {
    let path = EvalCLI.temp(".txt")
    try Data("a b c d e f\tg h i j k l\n".utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    for (style, first, second) in [("slow", 5, 4), ("fast", 4, 5)] {
      let out = EvalCLI.temp(".npy")
      defer { try? FileManager.default.removeItem(atPath: out) }
      let r = try EvalCLI.run(
        "spiqa-extract", ["-q", "--model", Self.nli2, "--task", "text", "--pairs", "--data", path, "--max-length", "12",
                          "--pair-truncation", style, "--tokens", "--compression", "none", "-o", out])
      #expect(r.status == 0, "\(r.stderr)")
      var tokens: [String] = []
      var featurization: JSONValue?
      try RecordReader(path: out).forEach { record in
        switch record {
        case .header(let h): featurization = h["featurization"]
        case .tensor(let m, _) where m["kind"] == "attention":
          tokens = m["tokens"]?.arrayValue?.compactMap(\.stringValue) ?? []
        default: break
        }
      }
      #expect(featurization?.objectValue?["pair_truncation"] == .string(style))
      let firstWords: [String] = Array(["a", "b", "c", "d", "e", "f"].prefix(first))
      let secondWords: [String] = Array(["g", "h", "i", "j", "k", "l"].prefix(second))
      let want: [String] = ["[CLS]"] + firstWords + ["[SEP]"] + secondWords + ["[SEP]"]
      #expect(tokens == want, "\(style): \(tokens)")
    }
    let bad = try EvalCLI.run("spiqa-extract", ["-q", "--model", Self.nli2, "--task", "text", "--pairs", "--data", path,
                                                "--pair-truncation", "rust", "-o", EvalCLI.temp(".npy")])
    #expect(bad.status == 64 && bad.stderr.contains("--pair-truncation"), "\(bad.stderr)")
  }

  /// `--data-format` reads classify data whose name says nothing (a pipe, `-`, a .txt); it and `--pair-truncation
  /// fast` are refused where they do nothing.
  @Test func dataFormatAndFlagsThatDoNothing() throws {
    let path = EvalCLI.temp(".txt")
    try Data("premise,hypothesis,gold\n\"a, b\",c,entailment\nd,e,not_entailment\n".utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let common = ["-q", "--model", Self.nli2, "--task", "classify", "--data", path, "--text-column", "premise",
                  "--pair-column", "hypothesis", "--label-column", "gold"]
    let asTSV = try EvalCLI.run("spiqa-eval", common)
    #expect(asTSV.status == 65 && asTSV.stderr.contains("no column 'premise'"), "\(asTSV.stderr)")
    let asCSV = try EvalCLI.run("spiqa-eval", common + ["--data-format", "csv", "--pair-truncation", "fast"])
    #expect(asCSV.status == 0 && asCSV.json["n"] == .int(2), "\(asCSV.stderr)")
    for (args, says) in [
      (["--task", "rte", "--data-format", "csv"], "--data-format applies to --task classify only"),
      (["--task", "classify", "--text-column", "a", "--data-format", "xml"], "--data-format must be tsv, csv or jsonl"),
      (["--task", "sst2", "--pair-truncation", "fast"], "--task sst2 has none"),
      (["--task", "classify", "--text-column", "a", "--pair-truncation", "fast"], "--task classify has none"),
      (["--task", "text", "--pair-truncation", "fast"], "--task text has none"),
    ] {
      for tool in ["spiqa-eval", "spiqa-extract"] {
        let base = tool == "spiqa-extract" ? ["--model", Self.nli2, "-o", "/dev/null"] : ["--model", Self.nli2]
        let r = try EvalCLI.run(tool, base + args)
        #expect(r.status == 64 && r.stderr.contains(says), "\(tool) \(args): \(r.stderr)")
      }
    }
  }

  /// Each node extracts its part of the data and evaluates that part by replaying its own stream: the parts merge
  /// into the line of one process replaying the whole stream (only part 0 has the header naming the weights).
  /// Pairs cut another way than the replayed stream are refused; mixing --pair-truncation across shards too.
  @Test func shardsReplayingTheirOwnPartsMerge() throws {
    let data = Self.fixtures + "/glue/RTE.tsv"
    let common = ["-q", "--model", Self.nli2, "--task", "rte", "--data", data, "--batch-size", "4"]
    let files = (0..<6).map { _ in EvalCLI.temp(".tmp") }
    defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
    let (whole, part0, part1, e0, e1, wholeExamples) = (files[0], files[1], files[2], files[3], files[4], files[5])
    #expect(try EvalCLI.run("spiqa-extract", common + ["-o", whole]).status == 0)
    for (i, part) in [part0, part1].enumerated() {
      let x = try EvalCLI.run("spiqa-extract", common + ["--shard", "\(i)/2", "-o", part])
      #expect(x.status == 0, "\(x.stderr)")
    }
    let evalCommon = common
    let reference = try EvalCLI.run("spiqa-eval", evalCommon + ["--replay", whole, "--per-example", wholeExamples])
    #expect(reference.status == 0, "\(reference.stderr)")
    for (i, (part, out)) in [(part0, e0), (part1, e1)].enumerated() {
      let r = try EvalCLI.run("spiqa-eval", evalCommon + ["--shard", "\(i)/2", "--replay", part, "--per-example", out])
      #expect(r.status == 0, "\(r.stderr)")
    }
    let merged = try EvalCLI.run("spiqa-eval", ["--merge", e1, e0])
    #expect(merged.status == 0, "\(merged.stderr)")
    #expect(merged.json["replay"] == .array([.string(part0), .string(part1)]))
    var want = reference.json.withoutTimes, got = merged.json.withoutTimes
    want["replay"] = nil
    got["replay"] = nil
    #expect(got == want)
    #expect(reference.json["pair_truncation"] == "slow")
    #expect(reference.json["replayed"]?.objectValue?["model"] != nil)

    let cut = try EvalCLI.run("spiqa-eval", evalCommon + ["--replay", whole, "--pair-truncation", "fast"])
    #expect(cut.status == 64 && cut.stderr.contains("was recorded with slow"), "\(cut.stderr)")
    let fast = try EvalCLI.run("spiqa-eval", evalCommon + ["--shard", "1/2", "--pair-truncation", "fast", "--per-example", e1])
    #expect(fast.status == 0, "\(fast.stderr)")
    let e0Exact = try EvalCLI.run("spiqa-eval", evalCommon + ["--shard", "0/2", "--per-example", e0])
    #expect(e0Exact.status == 0, "\(e0Exact.stderr)")
    let mixed = try EvalCLI.run("spiqa-eval", ["--merge", e0, e1])
    #expect(mixed.status == 65 && mixed.stderr.contains("pair_truncation"), "\(mixed.stderr)")
  }

  /// A stream recorded while quantizing, replayed, gives the on-the-fly scores bit for bit — with each P·V kernel, as
  /// long as both tools use the same one (this model's heads, d = 8, sum differently in sgemm and the row groups).
  @Test(arguments: ["auto", "dense", "groups"])
  func quantizedPairStreamReplaysExactly(_ kernel: String) throws {
    let data = Self.fixtures + "/glue/RTE.tsv"
    let stream = EvalCLI.temp(".npy.gz")
    defer { try? FileManager.default.removeItem(atPath: stream) }
    let common = ["--model", Self.nli2, "--task", "rte", "--data", data, "--batch-size", "4",
                  "--attention-product", kernel]
    let x = try EvalCLI.run(
      "spiqa-extract", ["-q", "--method", "uniform_slog_clamped_mean", "--bits", "3", "-o", stream] + common)
    #expect(x.status == 0, "\(x.stderr)")
    let (a, b) = (EvalCLI.temp(".jsonl"), EvalCLI.temp(".jsonl"))
    defer { for f in [a, b] { try? FileManager.default.removeItem(atPath: f) } }
    let onTheFly = try EvalCLI.run(
      "spiqa-eval", ["--quiet", "--method", "uniform_slog_clamped_mean", "--bits", "3", "--per-example", a] + common)
    let replayed = try EvalCLI.run("spiqa-eval", ["--quiet", "--replay", stream, "--per-example", b] + common)
    let exact = try EvalCLI.run("spiqa-eval", ["--quiet", "--samples", "6", "--seed", "5", "-ht", "0.05"] + common)
    #expect(onTheFly.status == 0 && replayed.status == 0 && exact.status == 0, "\(replayed.stderr)")
    #expect(onTheFly.json["accuracy"] == replayed.json["accuracy"])
    #expect(onTheFly.json["sparsity"] == replayed.json["sparsity"])
    #expect((onTheFly.json["sparsity"]?.doubleValue ?? 0) > 0.1)
    #expect(try EvalCLI.lines(a) == EvalCLI.lines(b))
    #expect(try EvalCLI.lines(a).count == 10)
    #expect(exact.json["n"]?.intValue == 6 && exact.json["seed"]?.intValue == 5)
    let bad = try EvalCLI.run("spiqa-extract", ["-q", "--attention-product", "fast", "-o", stream] + common.dropLast(2))
    #expect(bad.status == 64 && bad.stderr.contains("--attention-product: unknown kernel 'fast'"), "\(bad.stderr)")
  }

  /// `--task mlm` through the tools: the reference pseudo-perplexity (scripts/make_mlm_fixtures.py), a quantized
  /// extraction replayed equal to quantizing on the fly (a line is one batch in both), and two shards merged.
  @Test func maskedLMThroughTheTools() throws {
    let mlm = TestPaths.packageRoot.appendingPathComponent("Tests/SpiqaTasksTests/Fixtures/mlm").path
    let refs = try #require(try JSONValue(parsing: Array(FileManager.default.contents(atPath: mlm + "/references.json") ?? Data())).objectValue)
    let common = ["--model", mlm + "/tiny-bert-mlm", "--task", "mlm", "--data", mlm + "/lines.txt", "--mlm-length", "24"]
    let exact = try EvalCLI.run("spiqa-eval", ["-q"] + common)
    #expect(exact.status == 0, "\(exact.stderr)")
    let want = try #require(refs["bert"]?.objectValue?["exact"]?.objectValue?["pseudo_perplexity"]?.doubleValue)
    let got = try #require(exact.json["pseudo_perplexity"]?.doubleValue, "\(exact.json)")
    #expect(abs(got - want) <= 1e-4 * want, "\(got) vs \(want)")

    let stream = EvalCLI.temp(".npy.gz")
    let (a, b, s0, s1) = (EvalCLI.temp(".jsonl"), EvalCLI.temp(".jsonl"), EvalCLI.temp(".jsonl"), EvalCLI.temp(".jsonl"))
    defer { for f in [stream, a, b, s0, s1] { try? FileManager.default.removeItem(atPath: f) } }
    let q = ["--method", "uniform_slog_clamped_mean", "--bits", "3"]
    let x = try EvalCLI.run("spiqa-extract", ["-q", "-o", stream] + q + common)
    #expect(x.status == 0, "\(x.stderr)")
    let onTheFly = try EvalCLI.run("spiqa-eval", ["-q", "--per-example", a] + q + common)
    let replayed = try EvalCLI.run("spiqa-eval", ["-q", "--replay", stream, "--per-example", b] + common)
    #expect(onTheFly.status == 0 && replayed.status == 0, "\(replayed.stderr)")
    #expect(onTheFly.json["pseudo_perplexity"] == replayed.json["pseudo_perplexity"])
    #expect(onTheFly.json["pseudo_perplexity"] != exact.json["pseudo_perplexity"])
    #expect(try EvalCLI.lines(a) == EvalCLI.lines(b))

    for (i, f) in [s0, s1].enumerated() {
      let r = try EvalCLI.run("spiqa-eval", ["-q", "--shard", "\(i)/2", "--per-example", f] + common)
      #expect(r.status == 0, "\(r.stderr)")
    }
    let merged = try EvalCLI.run("spiqa-eval", ["--merge", s0, s1])
    #expect(merged.status == 0, "\(merged.stderr)")
    for key in ["pseudo_perplexity", "nll_mean", "tokens", "n"] { #expect(merged.json[key] == exact.json[key], "\(key)") }
  }
}
