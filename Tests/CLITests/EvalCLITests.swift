import Foundation
import SpiqaCLI
import Testing

/// Runs the built `spiqa-eval` (and `spiqa-extract` for replay round trips).
enum EvalCLI {
  /// A built tool next to the test bundle.
  static func tool(_ name: String) -> String? {
    let dirs = [Bundle.main.bundleURL.path, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path]
    return dirs.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  static var sharedRoot: String { DefaultPaths.sharedFolder() }

  static func shared(_ rel: String) -> String? {
    let p = sharedRoot + "/" + rel
    return FileManager.default.fileExists(atPath: p) ? p : nil
  }

  static var squadModel: String? { shared("models/minilm-squad/model.safetensors").map { _ in sharedRoot + "/models/minilm-squad" } }
  static var sst2Model: String? { shared("models/minilm-sst2/model.safetensors").map { _ in sharedRoot + "/models/minilm-sst2" } }
  static var canRun: Bool { tool("spiqa-eval") != nil }
  static var canRunModels: Bool {
    canRun && squadModel != nil && sst2Model != nil && shared("data/squad/dev-v1.1.json") != nil
      && shared("data/glue/SST-2/dev.tsv") != nil
  }

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The JSON result line.
    var json: [String: Any] {
      (try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]) ?? [:]
    }
  }

  static func run(_ tool: String, _ args: [String]) throws -> Result {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try #require(Self.tool(tool), "\(tool) not built"))
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["SPIQA_SHARED"] = sharedRoot
    p.environment = env
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Result(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  static func temp(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-eval-cli-\(UUID())\(suffix)").path
  }

  static func lines(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
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
    #expect(j["task"] as? String == "squad")
    #expect(j["n"] as? Int == 3)
    #expect((j["em"] as? Double).map { abs($0 - 100.0) < 1e-9 } == true)  // reference: first 3 all exact
    let rows = try EvalCLI.lines(per)
    #expect(rows.map { $0["prediction"] as? String } == ["Denver Broncos", "Carolina Panthers", "Levi's Stadium"])
    let pruned = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "-at", "0.05", "--quiet"])
    #expect(pruned.status == 0)
    #expect((pruned.json["sparsity"] as? Double).map { $0 > 0.5 } == true)
    #expect(pruned.json["threshold"] as? Double == 0.05)
    let quant = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "2", "-aq", "3.0", "--quiet"])
    #expect(quant.status == 0)
    #expect(quant.json["method"] as? String == "linear_slog_clamped_midval")
    #expect(quant.json["bits"] as? Int == 3)
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
    #expect(r.json["n"] as? Int == 20)
    // transformers on the same 20 sentences (Tests/SpiqaTasksTests/Fixtures/sst2_reference_predictions.jsonl): 19.
    #expect(r.json["correct"] as? Int == 19)
  }

  @Test(.enabled(if: EvalCLI.tool("spiqa-extract") != nil, "spiqa-extract not built"))
  func extractThenReplay() throws {
    let model = try #require(EvalCLI.squadModel)
    let stream = EvalCLI.temp(".spq.gz")
    defer { try? FileManager.default.removeItem(atPath: stream) }
    let x = try EvalCLI.run(
      "spiqa-extract", ["--model", model, "--task", "squad", "--limit", "3", "--tokens", "-o", stream, "--quiet"])
    #expect(x.status == 0, "\(x.stderr)")
    let exact = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "--quiet"])
    let replay = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "3", "--replay", stream, "--quiet"])
    #expect(replay.status == 0, "\(replay.stderr)")
    #expect(replay.json["em"] as? Double == exact.json["em"] as? Double)
    #expect(replay.json["f1"] as? Double == exact.json["f1"] as? Double)
    // The stream does not cover question 3: a one-line error, exit 65.
    let short = try EvalCLI.run("spiqa-eval", ["--model", model, "--offset", "2", "--limit", "2", "--replay", stream, "--quiet"])
    #expect(short.status == 65)
    #expect(short.stderr.contains("no attention record"))
  }
}
