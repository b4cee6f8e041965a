import Foundation
import SpiqaTestSupport
import Testing

/// The flag vocabulary of docs/cli.md: a flag shared by several tools has the same names, metavar, help and default
/// in each tool's `--help` (they come from the same option group in Sources/SpiqaCLI or Sources/SpiqaTaskCLI), so
/// drift fails here.
enum FlagVocabulary {
  /// Each shared flag and the tools that must offer it with identical help.
  static let shared: [(flag: String, tools: [String])] = {
    let transform = ["spiqa-extract", "spiqa-eval", "spiqa-quantize"]
    let tasks = ["spiqa-extract", "spiqa-eval"]
    return ["--threshold", "--method", "--bits", "--variant", "--scope"].map { ($0, transform) }
      + [("--quiet", transform + ["spiqa-hist"])]
      + ["--hs-threshold", "--hs-bits", "--samples", "--seed", "--limit", "--offset", "--shard", "--task", "--data",
         "--max-seq-len", "--doc-stride", "--max-query-len", "--batch-size", "--text-column", "--pair-column",
         "--label-column", "--pairs", "--pair-truncation", "--data-format", "--mlm-length"].map { ($0, tasks) }
      + ["--layers", "--heads", "--threads"].map { ($0, ["spiqa-extract", "spiqa-hist"]) }
      + ["--output", "--compression", "--no-gzip"].map { ($0, ["spiqa-extract", "spiqa-quantize"]) }
  }()

  /// The OPTIONS entries of a tool's `--help`, keyed by every flag name in their label, as whitespace-collapsed
  /// text (names, metavar, help and default).
  static func entries(_ tool: String) throws -> [String: String] {
    let r = try runProcess(try #require(TestPaths.tool(tool), "\(tool) not built"), ["--help"])
    #expect(r.status == 0, "\(tool) --help: \(r.stderr)")
    var blocks: [[Substring]] = []
    var inOptions = false
    for line in r.text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasSuffix(":") && !line.hasPrefix(" ") { inOptions = line == "OPTIONS:"; continue }
      guard inOptions, !line.isEmpty else { continue }
      if line.hasPrefix("  -") { blocks.append([line]) } else if !blocks.isEmpty { blocks[blocks.count - 1].append(line) }
    }
    var out: [String: String] = [:]
    for block in blocks {
      let text = block.joined(separator: " ").split(separator: " ").joined(separator: " ")
      let label = block[0].drop { $0 == " " }.components(separatedBy: "  ")[0]
      for token in label.split(whereSeparator: { $0 == " " || $0 == "," }) where token.hasPrefix("-") {
        out[String(token)] = text
      }
    }
    return out
  }
}

@Suite(.enabled(if: ["spiqa-extract", "spiqa-eval", "spiqa-quantize", "spiqa-hist"].allSatisfy { TestPaths.tool($0) != nil }))
struct FlagVocabularyCLITests {
  @Test("a shared flag has the same names, metavar, help and default in every tool that offers it")
  func sharedFlagsAgree() throws {
    var help: [String: [String: String]] = [:]
    for tool in ["spiqa-extract", "spiqa-eval", "spiqa-quantize", "spiqa-hist"] { help[tool] = try FlagVocabulary.entries(tool) }
    for (flag, tools) in FlagVocabulary.shared {
      let texts = tools.map { help[$0]?[flag] }
      for (tool, text) in zip(tools, texts) { #expect(text != nil, "\(tool) lacks \(flag)") }
      #expect(Set(texts.compactMap { $0 }).count == 1, "\(flag) differs: \(zip(tools, texts).map { "\($0): \($1 ?? "-")" })")
    }
    // The paper's single-dash spellings and -q; --dtype is one name for the payload type (its values differ:
    // spiqa-quantize adds codes).
    for (tool, names) in [("spiqa-extract", ["-at", "-aq", "-ht", "-hq", "-sa", "-q", "-o", "--dtype"]),
                          ("spiqa-eval", ["-at", "-aq", "-ht", "-hq", "-sa", "-q"]),
                          ("spiqa-quantize", ["-at", "-aq", "-q", "-o", "--dtype"]), ("spiqa-hist", ["-q"])] {
      for name in names { #expect(help[tool]?[name] != nil, "\(tool) lacks \(name)") }
    }
  }

  @Test("the completion scripts offer the values of --task, --method, --scope, --variant and --dtype")
  func completionsListValues() throws {
    let tasks = ["squad", "sst2", "text", "mlm", "mnli", "squad_v2"]
    let methods = ["log-pruned", "linear_slog_clamped_midval", "uniform_slog_mean", "binarization"]
    let scopes = ["batch", "example", "record"]
    let expected: [(tool: String, flag: String, values: [String])] = [
      ("spiqa-extract", "--task", tasks), ("spiqa-eval", "--task", tasks),
      ("spiqa-extract", "--method", methods), ("spiqa-eval", "--method", methods), ("spiqa-quantize", "--method", methods),
      ("spiqa-quantize", "--scope", scopes), ("spiqa-eval", "--variant", ["reference", "corrected"]),
      ("spiqa-quantize", "--dtype", ["f32", "f16", "codes"]), ("spiqa-extract", "--dtype", ["f32", "f16"]),
    ]
    for shell in ["bash", "zsh", "fish"] {
      var scripts: [String: String] = [:]
      for tool in Set(expected.map(\.tool)) {
        let r = try runProcess(try #require(TestPaths.tool(tool)), ["--generate-completion-script", shell])
        #expect(r.status == 0, "\(tool) \(shell): \(r.stderr)")
        scripts[tool] = r.text
      }
      for (tool, flag, values) in expected {
        let script = scripts[tool] ?? ""
        let offered = Self.completionValues(script, shell: shell, flag: flag)
        for v in values {
          #expect(offered.contains(v), "\(tool) \(shell) completion of \(flag) lacks \(v) (offers \(offered.sorted()))")
        }
      }
    }
  }

  /// The words a generated completion script offers after `flag` (each shell spells the list differently:
  /// bash `'--flag') … -W 'a'$'\n''b'`, zsh `local -ar ___flag=('a' 'b')`, fish `-l 'flag' … -rfka 'a b'`).
  static func completionValues(_ script: String, shell: String, flag: String) -> Set<String> {
    let bare = String(flag.dropFirst(2))
    let lines = script.split(separator: "\n").map(String.init)
    func quoted(_ s: Substring) -> [String] {
      s.split(separator: "'", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
        .map { String($0.element) }
    }
    switch shell {
    case "bash":
      guard let i = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("'\(flag)'") }),
        i + 1 < lines.count, let w = lines[i + 1].range(of: "-W ")
      else { return [] }
      return Set(quoted(lines[i + 1][w.upperBound...]))
    case "zsh":
      let prefix = "local -ar ___\(bare.replacingOccurrences(of: "-", with: "_"))=("
      guard let line = lines.first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }) else { return [] }
      return Set(quoted(Substring(line)))
    default:
      guard let line = lines.first(where: { $0.contains("-l '\(bare)'") }), let a = line.range(of: "-rfka '") else {
        return []
      }
      return Set(line[a.upperBound...].prefix { $0 != "'" }.split(separator: " ").map(String.init))
    }
  }

  @Test("the transform flags mean the same in each tool: -aq 3.0, --method without --bits, --threshold 1")
  func sameRulesEverywhere() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-vocab-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let empty = dir.appendingPathComponent("empty.npy").path
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    let prefix: [String: [String]] = [
      "spiqa-extract": ["--list", "--model", "/nonexistent"], "spiqa-eval": ["--model", "/nonexistent"],
      "spiqa-quantize": [empty, "-o", dir.appendingPathComponent("out.npy").path],
    ]
    for tool in ["spiqa-extract", "spiqa-eval", "spiqa-quantize"] {
      let path = try #require(TestPaths.tool(tool))
      for (args, says) in [(["--method", "log"], "--method log needs --bits"), (["--threshold", "1"], "--threshold"),
                           (["-aq", "2.5"], "--bits"), (["--method", "nope", "-aq", "3"], "log-pruned"),
                           (["--scope", "row"], "--scope"), (["--variant", "fixed"], "--variant")] {
        let r = try runProcess(path, (prefix[tool] ?? []) + args)
        #expect(r.status == 64, "\(tool) \(args): \(r.stderr)")
        #expect(r.stderr.contains(says), "\(tool) \(args): \(r.stderr)")
      }
      // -aq 3.0 and binarization without --bits are accepted: whatever fails next is not a usage error of them.
      for args in [["-aq", "3.0"], ["--method", "binarization", "--scope", "record"]] {
        let r = try runProcess(path, (prefix[tool] ?? []) + args)
        #expect(!r.stderr.contains("--bits") && !r.stderr.contains("--method"), "\(tool) \(args): \(r.stderr)")
      }
    }
  }
}
