import Foundation
import SpiqaCore
import Testing

import SpiqaTasks

/// Every scorable task, sharded and merged (`EvalMerge`), gives the unsharded result line: the same keys and the
/// same values, except the timing keys. Runs on the task fixtures (tiny random checkpoints, GLUE-layout files).
@Suite struct ShardMergeTaskTests {
  typealias Configure = @Sendable (inout EvalRequest) -> Void

  /// (task, model, data file under the fixtures' folder, extra settings).
  static let cases: [(task: String, model: String, data: String, configure: Configure)] = [
    ("cola", "tiny-cls2", "glue/CoLA.tsv", { _ in }),
    ("sst2", "tiny-cls2", "glue/SST-2.tsv", { _ in }),
    ("mrpc", "tiny-cls2", "glue/MRPC.tsv", { _ in }),
    ("stsb", "tiny-reg", "glue/STS-B.tsv", { _ in }),
    ("mnli", "tiny-nli3", "glue/MNLI-m.tsv", { _ in }),
    ("classify", "tiny-nli2", "rte.jsonl", {
      $0.settings.textColumn = "premise"
      $0.settings.pairColumn = "hypothesis"
      $0.settings.labelColumn = "gold"
    }),
    // v1.1 with exact attention: windows of 4 × batch-size questions in length-sorted batches; a shard takes whole
    // windows (here the 8 questions are one window, in batches of 2 features: one shard has them all). The per-example
    // bytes of shards of several windows are checked by slurm-test.
    ("squad", "tiny-qa", "squad-v2.json", {
      $0.settings.squad = SquadFeaturizer(maxSeqLen: 48, docStride: 16, maxQueryLen: 16)
      $0.settings.batchSize = 2
    }),
    ("squad_v2", "tiny-qa", "squad-v2.json", {
      $0.settings.squad = SquadFeaturizer(maxSeqLen: 48, docStride: 16, maxQueryLen: 16)
      $0.settings.nullScoreThreshold = -1.432
    }),
  ]

  /// The per-example file of one run, as the tool writes it (one JSON object per line).
  static func run(_ c: (task: String, model: String, data: String, configure: Configure), shard: Shard?) throws
    -> (result: JSONObject, file: [UInt8])
  {
    var text = ""
    let got = try TaskReferenceTests.evaluate(c.task, model: c.model, data: TaskReferenceTests.folder + "/" + c.data) {
      c.configure(&$0)
      $0.shard = shard
    }
    for line in got.lines { text += JSONValue.object(line).jsonText + "\n" }
    return (got.result, Array(text.utf8))
  }

  static let timing: Set<String> = ["seconds", "questions_per_second", "sentences_per_second"]

  @Test(arguments: 0..<cases.count)
  func mergedShardsEqualTheWholeRun(_ i: Int) throws {
    let c = Self.cases[i]
    let whole = try Self.run(c, shard: nil).result
    for n in [2, 3] {
      var files: [(name: String, bytes: [UInt8])] = []
      for k in 0..<n { files.append(("\(c.task)-\(k)-of-\(n)", try Self.run(c, shard: Shard(index: k, count: n)).file)) }
      let merged = try EvalMerge.merge(files: files.reversed()).result
      #expect(Set(merged.keys) == Set(whole.keys), "\(c.task) \(n) shards")
      for (key, value) in whole where !Self.timing.contains(key) {
        #expect(merged[key] == value, "\(c.task) \(n) shards: \(key) \(merged[key]?.jsonText ?? "absent") vs \(value.jsonText)")
      }
    }
  }

  @Test func textHasNothingToMerge() throws {
    #expect(throws: TasksError.self) { _ = try TaskRegistry.task(named: "text").mergingScorer(settings: TaskSettings()) }
  }
}
