import Foundation
import SpiqaCore
import SpiqaQuant
import Testing

import SpiqaTasks
import SpiqaTestSupport

/// `--task mlm` against transformers (scripts/make_mlm_fixtures.py): tiny random BertForMaskedLM (tied decoder,
/// as save_pretrained stores it) and RobertaForMaskedLM (its own decoder), every token of each line masked in turn,
/// exact and with attention pruned.
@Suite struct MaskedLMTaskTests {
  static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path + "/mlm"
  static let references: [String: JSONValue] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: folder + "/references.json"))
    return try! JSONValue(parsing: [UInt8](data)).objectValue!
  }()

  static func evaluate(_ model: String, transform: AttentionTransform) throws -> (JSONObject, [JSONObject]) {
    var r = EvalRequest(task: "mlm", modelDirectory: folder + "/tiny-\(model)-mlm", dataPath: folder + "/lines.txt")
    r.settings.maskedLMLength = references["max_length"]?.intValue ?? 0
    r.transform = transform
    var lines: [JSONObject] = []
    let result = try EvalRunner.run(r, perExample: { lines.append($0) })
    return (result, lines)
  }

  @Test(arguments: ["bert", "roberta"], ["exact", "threshold_0.1"])
  func pseudoPerplexityMatchesTransformers(_ model: String, _ run: String) throws {
    let ref = try #require(Self.references[model]?.objectValue?[run]?.objectValue, "\(model) \(run)")
    let (result, lines) = try Self.evaluate(
      model, transform: run == "exact" ? .identity : AttentionTransform(threshold: 0.1))
    let refLines = ref["lines"]?.arrayValue?.compactMap(\.objectValue) ?? []
    #expect(!refLines.isEmpty && lines.count == refLines.count, "\(lines.count) lines")
    for (mine, theirs) in zip(lines, refLines) {
      #expect(mine["index"] == theirs["line"], "\(mine)")
      #expect(mine["tokens"] == theirs["tokens"], "\(mine)")
      let (a, b) = (mine["nll"]?.doubleValue ?? .nan, theirs["nll"]?.doubleValue ?? .nan)
      #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "line \(theirs["line"]?.jsonText ?? "?"): \(a) vs \(b)")
    }
    let p = try #require(result["pseudo_perplexity"]?.doubleValue)
    let q = try #require(ref["pseudo_perplexity"]?.doubleValue)
    #expect(abs(p - q) <= 1e-4 * q, "\(p) vs \(q)")
    #expect(result["tokens"] == ref["tokens"])
    #expect(result["n"]?.intValue == lines.count)
  }

  /// The merged per-example lines give the unsharded result (a sharded mlm run merges like any task).
  @Test func shardsMerge() throws {
    let (whole, lines) = try Self.evaluate("bert", transform: .identity)
    let scorer = try TaskRegistry.task(named: "mlm").mergingScorer(settings: TaskSettings())
    for line in lines { try scorer.absorb(line) }
    let merged = scorer.result()
    for key in ["pseudo_perplexity", "nll_mean", "tokens", "n"] { #expect(merged[key] == whole[key], "\(key)") }
  }

  @Test func aCheckpointWithoutAnLMHeadIsRefused() throws {
    var r = EvalRequest(
      task: "mlm", modelDirectory: Self.folder + "/../tasks/tiny-cls2", dataPath: Self.folder + "/lines.txt")
    r.settings.maskedLMLength = 24
    #expect(throws: TasksError.self) { try EvalRunner.run(r) }
  }
}

/// models/minilm-mlm when `make mlm-model` has made it (with its reference.json).
let fittedMLMFolder: String? = {
  let f = TestPaths.packageRoot.appendingPathComponent("models/minilm-mlm").path
  return FileManager.default.fileExists(atPath: f + "/reference.json") ? f : nil
}()

/// The masked-LM head fitted on the frozen all-MiniLM-L6-v2 encoder (`make mlm-model`, scripts/fit_mlm_head.py): a
/// full-size checkpoint against the pseudo-perplexity transformers gave on its first held-out lines. Not in CI: the
/// model is fitted with torch, which CI does not install.
@Suite(.enabled(if: fittedMLMFolder != nil, "models/minilm-mlm not found (make mlm-model; needs torch)"))
struct MaskedLMHeadTests {
  @Test func pseudoPerplexityMatchesTransformers() throws {
    let folder = try #require(fittedMLMFolder)
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/reference.json"))
    let ref = try #require(try JSONValue(parsing: [UInt8](data)).objectValue)
    var r = EvalRequest(task: "mlm", modelDirectory: folder, dataPath: folder + "/heldout.txt")
    r.selection = try Selection(samples: nil, limit: ref["lines"]?.intValue, offset: nil)
    r.settings.maskedLMLength = try #require(ref["max_length"]?.intValue)
    let result = try EvalRunner.run(r)
    #expect(result["tokens"] == ref["tokens"])
    let (a, b) = (try #require(result["pseudo_perplexity"]?.doubleValue), try #require(ref["pseudo_perplexity"]?.doubleValue))
    #expect(abs(a - b) <= 1e-5 * b, "pseudo-perplexity \(a) vs transformers \(b)")
  }
}
