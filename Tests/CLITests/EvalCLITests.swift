import Foundation
import SpiqaCore
import SpiqaTestSupport
import Testing

/// Runs the built `spiqa-eval` (and `spiqa-extract` for replay round trips).
enum EvalCLI {
  /// A built tool next to the test bundle.
  static func tool(_ name: String) -> String? { TestPaths.tool(name) }

  static func shared(_ rel: String) -> String? { TestPaths.shared(rel) }

  static var squadModel: String? { shared("models/minilm-squad/model.safetensors").flatMap { _ in shared("models/minilm-squad") } }
  static var sst2Model: String? { shared("models/minilm-sst2/model.safetensors").flatMap { _ in shared("models/minilm-sst2") } }
  static var canRun: Bool { tool("spiqa-eval") != nil }
  static var canRunModels: Bool {
    canRun && squadModel != nil && sst2Model != nil && shared("data/squad/dev-v1.1.json") != nil
      && shared("data/glue/SST-2/dev.tsv") != nil
  }

  /// Runs a built tool with `SPIQA_SHARED` set to the shared folder the tests use, and `environment`.
  static func run(_ tool: String, _ args: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    var env = environment
    if let shared = TestPaths.shared, env["SPIQA_SHARED"] == nil { env["SPIQA_SHARED"] = shared }
    return try runProcess(try #require(Self.tool(tool), "\(tool) not built"), args, environment: env)
  }

  static func temp(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-eval-cli-\(UUID())\(suffix)").path
  }

  static func lines(_ path: String) throws -> [JSONObject] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n").compactMap { (try? JSONValue(parsing: Array($0.utf8)))?.objectValue }
  }
}

extension ProcessResult {
  /// The JSON result line of spiqa-eval.
  var json: JSONObject { (try? JSONValue(parsing: Array(stdout)))?.objectValue ?? [:] }
}

extension JSONObject {
  /// A SST-2 result line without its timings (a merge sums the shards' seconds).
  var withoutTimes: JSONObject {
    var o = self
    o["seconds"] = nil
    o["sentences_per_second"] = nil
    return o
  }
}

/// Exit codes and one-line errors that need no model.
@Suite(.enabled(if: EvalCLI.canRun, "spiqa-eval not built"))
struct EvalCLIUsageTests {
  @Test func usageErrorsExit64() throws {
    for args in [
      ["--model", "x", "--method", "bogus", "--bits", "3"], ["--model", "x", "--bits", "2.5"],
      ["--model", "x", "--task", "mlm"], ["--model", "x", "--samples", "5", "--limit", "3"],
      ["--model", "x", "--hs-bits", "5"],
    ] {
      let r = try EvalCLI.run("spiqa-eval", args)
      #expect(r.status == 64, "\(args): \(r.stderr)")
      #expect(r.stdout.isEmpty)
    }
  }

  @Test func missingDataExits74() throws {
    let r = try EvalCLI.run("spiqa-eval", ["--model", "/nonexistent-model", "--data", "/nonexistent/dev.json"])
    #expect(r.status == 74)
    #expect(r.stderr.contains("/nonexistent/dev.json"))
    #expect(r.stderr.split(separator: "\n").count == 1)
  }

  @Test func badDataExits65() throws {
    let path = EvalCLI.temp(".json")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data("{\"data\": [{\"title\": 1}]}".utf8).write(to: URL(fileURLWithPath: path))
    let r = try EvalCLI.run("spiqa-eval", ["--model", "x", "--data", path])
    #expect(r.status == 65, "\(r.stderr)")
    let t = EvalCLI.temp(".tsv")
    defer { try? FileManager.default.removeItem(atPath: t) }
    try Data("text\tlabel\nfoo\t1\n".utf8).write(to: URL(fileURLWithPath: t))
    let s = try EvalCLI.run("spiqa-eval", ["--model", "x", "--task", "sst2", "--data", t])
    #expect(s.status == 65, "\(s.stderr)")
  }
}

/// The real checkpoints through the command line.
@Suite(.enabled(if: EvalCLI.canRunModels, "needs spiqa-eval and ../shared models/data (SPIQA_SHARED)"))
struct EvalCLIModelTests {
  @Test func squadExactAndPruned() throws {
    let model = try #require(EvalCLI.squadModel)
    let per = EvalCLI.temp(".jsonl")
    defer { try? FileManager.default.removeItem(atPath: per) }
    let r = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "--per-example", per, "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    let j = r.json
    #expect(j["task"]?.stringValue == "squad")
    #expect(j["n"]?.intValue == 3)
    #expect((j["em"]?.doubleValue).map { abs($0 - 100.0) < 1e-9 } == true)  // reference: first 3 all exact
    let rows = try EvalCLI.lines(per)
    #expect(rows.map { $0["prediction"]?.stringValue } == ["Denver Broncos", "Carolina Panthers", "Levi's Stadium"])
    let pruned = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "-at", "0.05", "--quiet"])
    #expect(pruned.status == 0)
    #expect((pruned.json["sparsity"]?.doubleValue).map { $0 > 0.5 } == true)
    #expect(pruned.json["threshold"]?.doubleValue == 0.05)
    let quant = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "2", "-aq", "3.0", "--quiet"])
    #expect(quant.status == 0)
    #expect(quant.json["method"]?.stringValue == "linear_slog_clamped_midval")
    #expect(quant.json["bits"]?.intValue == 3)
    // --trim-padding: the same predictions and metrics here (the padding only moves float rounding).
    let trimmedPer = EvalCLI.temp(".jsonl"), paddedPer = EvalCLI.temp(".jsonl")
    defer { for f in [trimmedPer, paddedPer] { try? FileManager.default.removeItem(atPath: f) } }
    let padded = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "4", "-aq", "3", "--per-example", paddedPer, "--quiet"])
    let trimmed = try EvalCLI.run(
      "spiqa-eval", ["--model", model, "--limit", "4", "-aq", "3", "--trim-padding", "--per-example", trimmedPer, "--quiet"])
    #expect(padded.status == 0 && trimmed.status == 0, "\(trimmed.stderr)")
    for key in ["n", "em", "f1", "features", "method", "bits"] { #expect(padded.json[key] == trimmed.json[key], "\(key)") }
    #expect(try EvalCLI.lines(paddedPer).map { $0["prediction"] } == EvalCLI.lines(trimmedPer).map { $0["prediction"] })
  }

  @Test func missingModelExits74() throws {
    let r = try EvalCLI.run("spiqa-eval", ["--model", "/nonexistent-model", "--limit", "1"])
    #expect(r.status == 74, "\(r.stderr)")
    #expect(r.stderr.hasPrefix("spiqa-eval: "))
  }

  @Test func sst2FirstBatch() throws {
    let model = try #require(EvalCLI.sst2Model)
    let r = try EvalCLI.run("spiqa-eval", ["--model", model, "--task", "sst2", "--limit", "20", "--quiet"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.json["n"]?.intValue == 20)
    // transformers on the same 20 sentences (Tests/SpiqaTasksTests/Fixtures/sst2_reference_predictions.jsonl): 19.
    #expect(r.json["correct"]?.intValue == 19)
  }

  @Test(.enabled(if: EvalCLI.tool("spiqa-extract") != nil, "spiqa-extract not built"))
  func extractThenReplay() throws {
    let model = try #require(EvalCLI.squadModel)
    let stream = EvalCLI.temp(".spq.gz")
    defer { try? FileManager.default.removeItem(atPath: stream) }
    // Attention pruned on the fly: what the exact model computes is not what the stream holds.
    let x = try EvalCLI.run(
      "spiqa-extract",
      ["--model", model, "--task", "squad", "--limit", "3", "--tokens", "-at", "0.05", "-o", stream, "--quiet"])
    #expect(x.status == 0, "\(x.stderr)")
    let exact = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "--quiet"])
    let pruned = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "-at", "0.05", "--quiet"])
    let replay = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "--replay", stream, "--quiet"])
    #expect(replay.status == 0, "\(replay.stderr)")
    #expect(replay.json["em"]?.doubleValue == pruned.json["em"]?.doubleValue)
    #expect(replay.json["f1"]?.doubleValue == pruned.json["f1"]?.doubleValue)
    // The model used the replayed (pruned) attention: its zeros are counted; exact attention has next to none.
    #expect((exact.json["sparsity"]?.doubleValue).map { $0 < 0.001 } == true, "\(exact.json)")
    #expect((replay.json["sparsity"]?.doubleValue).map { $0 > 0.5 } == true, "\(replay.json)")
    // The stream does not cover question 3: a one-line error, exit 65.
    let short = try EvalCLI.run("spiqa-eval", ["--model", model, "--offset", "2", "--limit", "2", "--replay", stream, "--quiet"])
    #expect(short.status == 65)
    #expect(short.stderr.contains("no attention record"))
  }
}

/// `--shard` and `--merge` of the tools (the Slurm runs are scripts/slurm/test_local_cluster.sh).
@Suite(.enabled(if: EvalCLI.canRun, "spiqa-eval not built"))
struct ShardCLITests {
  @Test(arguments: ["2/2", "x", "1/0", "-1/3"])
  func badShardExits64(_ shard: String) throws {
    for (tool, extra) in [("spiqa-eval", ["--model", "x"]), ("spiqa-extract", ["--output", "/dev/null"])] {
      let r = try EvalCLI.run(tool, extra + ["--shard", shard])
      #expect(r.status == 64, "\(tool) --shard \(shard): \(r.stderr)")
      #expect(r.stderr.contains("--shard"))
    }
  }

  @Test func mergeOfAPlainFileExits65() throws {
    let path = EvalCLI.temp(".jsonl")
    try "{\"index\":0}\n".write(toFile: path, atomically: false, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try EvalCLI.run("spiqa-eval", ["--merge", path])
    #expect(r.status == 65)
    #expect(r.stderr.split(separator: "\n").count == 1)
  }

  /// --merge takes only its files, --per-example and --quiet: a run flag would be silently ignored.
  @Test(arguments: [["--threshold", "0.1"], ["--model", "m"], ["--shard", "0/2"], ["--null-threshold=-1"], ["-at", "0.1"]])
  func mergeRefusesRunFlags(_ extra: [String]) throws {
    let r = try EvalCLI.run("spiqa-eval", ["--merge", "a.jsonl", "b.jsonl"] + extra)
    #expect(r.status == 64, "\(extra): \(r.stderr)")
    #expect(r.stderr.contains("\(extra[0].prefix { $0 != "=" }) does not apply"), "\(r.stderr)")
    let fine = try EvalCLI.run("spiqa-eval", ["-q", "--merge", "missing.jsonl", "--per-example", EvalCLI.temp(".jsonl")])
    #expect(fine.status == 74, "\(fine.stderr)")
  }

  /// Two SST-2 shards of 5 sentences in batches of 2 (3 batches: shards of 1 and 2): cat of the plain streams is the
  /// whole stream, and --merge prints the whole run's line.
  @Test(.enabled(if: EvalCLI.canRunModels, "needs ../shared models and data"))
  func shardsConcatenateAndMerge() throws {
    let model = try #require(EvalCLI.sst2Model)
    let data = try #require(EvalCLI.shared("data/glue/SST-2/dev.tsv"))
    let common = ["--task", "sst2", "--model", model, "--data", data, "--limit", "5", "--batch-size", "2"]
    let whole = EvalCLI.temp(".npy")
    let parts = [EvalCLI.temp(".npy"), EvalCLI.temp(".npy")]
    var temps = [whole] + parts
    defer { for t in temps { try? FileManager.default.removeItem(atPath: t) } }
    #expect(try EvalCLI.run("spiqa-extract", ["-q"] + common + ["--compression", "none", "--output", whole]).status == 0)
    for (i, p) in parts.enumerated() {
      let r = try EvalCLI.run(
        "spiqa-extract", ["-q"] + common + ["--compression", "none", "--shard", "\(i)/2", "--output", p])
      #expect(r.status == 0, "\(r.stderr)")
    }
    let cat = try parts.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }.reduce(Data(), +)
    #expect(cat == (try Data(contentsOf: URL(fileURLWithPath: whole))))

    let one = try EvalCLI.run("spiqa-eval", ["--quiet", "--threshold", "0.01"] + common)
    var files: [String] = []
    for i in 0..<2 {
      let f = EvalCLI.temp(".jsonl")
      files.append(f)
      temps.append(f)
      let r = try EvalCLI.run(
        "spiqa-eval", ["--quiet", "--threshold", "0.01", "--shard", "\(i)/2", "--per-example", f] + common)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.json["shard"] == .string("\(i)/2"))
    }
    let merged = try EvalCLI.run("spiqa-eval", ["--merge"] + files.reversed())
    #expect(merged.status == 0, "\(merged.stderr)")
    #expect(!one.json.isEmpty && one.json.withoutTimes == merged.json.withoutTimes)

    // Replay, sharded into more shards than batches (shards 3 and 4 evaluate nothing): every shard says what the
    // stream holds, so they merge to the unsharded replay's line.
    let replayed = try EvalCLI.run("spiqa-eval", ["--quiet", "--replay", whole] + common)
    #expect(replayed.status == 0, "\(replayed.stderr)")
    var shardFiles: [String] = []
    for i in 0..<5 {
      let f = EvalCLI.temp(".jsonl")
      shardFiles.append(f)
      temps.append(f)
      let r = try EvalCLI.run("spiqa-eval", ["--quiet", "--replay", whole, "--shard", "\(i)/5", "--per-example", f] + common)
      #expect(r.status == 0, "\(r.stderr)")
      #expect(r.json["replayed"] == replayed.json["replayed"] && r.json["replayed"] != .null, "shard \(i)/5")
    }
    let mergedReplay = try EvalCLI.run("spiqa-eval", ["--merge"] + shardFiles)
    #expect(mergedReplay.status == 0, "\(mergedReplay.stderr)")
    #expect(!replayed.json.isEmpty && replayed.json.withoutTimes == mergedReplay.json.withoutTimes)
  }
}
