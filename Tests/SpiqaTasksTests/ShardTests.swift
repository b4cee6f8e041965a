import SpiqaCore
import Testing

@testable import SpiqaTasks

/// `Shard`: parsing, and that the N shards' ranges tile the whole run in order.
@Suite struct ShardTests {
  @Test(arguments: ["0/1", "0/2", "1/2", "3/4"])
  func parsesValid(_ text: String) throws {
    #expect(try Shard(parsing: text).description == text)
  }

  @Test(arguments: ["", "1", "2/2", "-1/2", "0/0", "a/b", "1/2/3", "0/-1", " 0/2"])
  func refusesInvalid(_ text: String) {
    #expect(throws: TasksError.self) { try Shard(parsing: text) }
  }

  @Test func rangesTileTheRun() throws {
    for units in [0, 1, 2, 3, 7, 100] {
      for n in 1...9 {
        var next = 0
        for i in 0..<n {
          let r = try Shard(index: i, count: n).range(of: units)
          #expect(r.lowerBound == next)
          #expect(r.count <= (units + n - 1) / n)
          next = r.upperBound
        }
        #expect(next == units)
      }
    }
  }

  @Test func itemRangesAreWholeBatches() throws {
    for items in [0, 1, 5, 6, 7, 20] {
      for batch in [1, 3, 20] {
        for n in 1...4 {
          var next = 0
          for i in 0..<n {
            let r = try Shard(index: i, count: n).itemRange(of: items, batchSize: batch)
            #expect(r.lowerBound == next)
            #expect(r.lowerBound % batch == 0 || r.isEmpty)
            next = r.upperBound
          }
          #expect(next == items)
        }
      }
    }
  }
}

/// `EvalMerge` over hand-made shard files: the unsharded result, and each refusal (exit 65, one line).
@Suite struct EvalMergeTests {
  /// An SST-2 shard file: per-example lines, then the shard line.
  static func sst2Shard(
    _ i: Int, of n: Int, examples: [(label: Int, prediction: Int)], items: Range<Int>, total: Int,
    model: String = "m", digestOf indices: [Int]? = nil, provenance: JSONObject? = nil, replay: String? = nil,
    replayed: JSONValue? = nil, lineIndices: [Int]? = nil
  ) -> (name: String, bytes: [UInt8]) {
    // The digest is of the lines the run wrote; `lineIndices` tampers with the file after it.
    var text = ""
    var written = LinesDigest()
    for (k, e) in examples.enumerated() {
      func line(_ index: Int) -> String {
        JSONValue.object(["index": .int(index), "label": .int(e.label), "prediction": .int(e.prediction), "logits": []])
          .jsonText
      }
      written.add(line(items.lowerBound + k))
      text += line(lineIndices?[k] ?? items.lowerBound + k) + "\n"
    }
    var r = EvalRequest(task: "sst2", modelDirectory: model, dataPath: "d.tsv")
    r.selection = .slice(offset: 0, count: total)
    r.replayPath = replay
    var run = EvalRunner.runIdentity(r)
    run["provenance"] = provenance.map { .object($0) }
    run["replayed"] = replayed
    let line = EvalShardLine(
      shard: try! Shard(index: i, count: n), run: run, selected: indices ?? Array(0..<total),
      part: items, n: examples.count, linesDigest: written.hex, features: 0, sparsity: SparsityCounter(zeros: [[i + 1, 2]], total: 10),
      seconds: 0.5)
    text += JSONValue.object(line.json).jsonText + "\n"
    return ("s\(i)-of-\(n)-\(model).jsonl", Array(text.utf8))
  }

  static let a = sst2Shard(0, of: 2, examples: [(1, 1), (0, 1)], items: 0..<2, total: 3)
  static let b = sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3)

  @Test func mergesInShardOrder() throws {
    let m = try EvalMerge.merge(files: [Self.b, Self.a])
    #expect(m.result["n"] == .int(3))
    #expect(m.result["correct"] == .int(2))
    #expect(m.result["accuracy"] == .double(2.0 / 3.0))
    // zeros 1+2 and 2+2 of 20 per head, 2 heads: 7 / 40.
    #expect(m.result["sparsity"] == .double(7.0 / 40.0))
    #expect(m.result["settings"] == nil && m.result["shard"] == nil)
    #expect(m.perExampleLines.count == 3)
    #expect(m.perExampleLines.first?.contains("\"index\":0") == true)
  }

  func refused(_ files: [(name: String, bytes: [UInt8])], _ fragment: String) {
    do {
      _ = try EvalMerge.merge(files: files)
      Issue.record("merged files that do not belong together")
    } catch let e as TasksError {
      #expect(e.kind == .badData)
      #expect(e.kind.exitCode == 65)
      #expect(e.description.contains(fragment), "\(e.description)")
      #expect(!e.description.contains("\n"))
    } catch {
      Issue.record("unexpected \(error)")
    }
  }

  /// `file` with its shard line's keys edited (a crafted or damaged file).
  static func tampered(_ file: (name: String, bytes: [UInt8]), _ edit: (inout JSONObject) -> Void)
    -> (name: String, bytes: [UInt8])
  {
    var lines = String(decoding: file.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    var line = try! JSONValue(parsing: Array(lines.removeLast().utf8)).objectValue!
    var shard = line[EvalShardLine.key]!.objectValue!
    edit(&shard)
    line[EvalShardLine.key] = .object(shard)
    lines.append(JSONValue.object(line).jsonText)
    return (file.name, Array((lines.joined(separator: "\n") + "\n").utf8))
  }

  /// Counts that would overflow or do not fit the run are bad data (65), not a trap.
  @Test func refusesCraftedCounts() {
    let big = JSONValue.int(Int.max)
    refused([Self.a, Self.tampered(Self.b) { $0["sparsity_total"] = big; $0["sparsity_zeros"] = [[big, big]] }],
            "sparsity_total overflows")
    refused([Self.a, Self.tampered(Self.b) { $0["sparsity_zeros"] = [[big, 1]] }], "not [layers][heads] counts")
    refused([Self.a, Self.tampered(Self.b) { $0["sparsity_zeros"] = [[1, 1], [1]] }], "not [layers][heads] counts")
    refused([Self.a, Self.tampered(Self.b) { $0["sparsity_zeros"] = [[1, 1, 1]] }], "1 layers × 3 heads, not 1 × 2")
    refused([Self.a, Self.tampered(Self.b) { $0["seconds"] = .double(-1) }], "negative count or time")
    refused([Self.a, Self.tampered(Self.b) { $0["n"] = .int(-5) }], "negative count or time")
  }

  @Test func refusesMissingDuplicateAndForeignShards() {
    refused([Self.a], "shard 1/2 missing")
    refused([Self.a, Self.a, Self.b], "given twice")
    refused([Self.a, Self.sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3, model: "other")], "model")
    refused([Self.a, Self.sst2Shard(1, of: 3, examples: [(1, 1)], items: 2..<3, total: 3)], "shards")
    refused([Self.a, Self.sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3, digestOf: [5, 6, 7])],
            "selection")
  }

  /// Shards of one checkpoint and data set (by content) merge whatever build or path made them; the merged line
  /// carries the first shard's provenance. A different weights or data hash is another run.
  @Test func provenanceComparesContentNotBuilds() throws {
    func provenance(commit: String, path: String, weights: String = "aa", data: String = "dd") -> JSONObject {
      ["commit": .string(commit), "model_path": .string(path), "model_id": .null, "weights_sha256": .string(weights),
       "data_sha256": .string(data)]
    }
    let first = Self.sst2Shard(0, of: 2, examples: [(1, 1), (0, 1)], items: 0..<2, total: 3,
                               provenance: provenance(commit: "abc", path: "/node1/m"))
    func second(_ p: JSONObject) -> (name: String, bytes: [UInt8]) {
      Self.sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3, provenance: p)
    }
    let m = try EvalMerge.merge(files: [first, second(provenance(commit: "def", path: "/node2/m"))])
    #expect(m.result["provenance"]?.objectValue?["commit"] == .string("abc"))
    refused([first, second(provenance(commit: "abc", path: "/node1/m", weights: "bb"))], "provenance weights_sha256")
    refused([first, second(provenance(commit: "abc", path: "/node1/m", data: "ee"))], "provenance data_sha256")
  }

  /// Each node may replay its own extraction shard: the replay paths may differ (the merged line lists them in
  /// shard order), replaying or not may not.
  @Test func replayPathsMayDifferBetweenShards() throws {
    let x = Self.sst2Shard(0, of: 2, examples: [(1, 1), (0, 1)], items: 0..<2, total: 3, replay: "attn-0.npy.gz")
    let y = Self.sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3, replay: "attn-1.npy.gz")
    let m = try EvalMerge.merge(files: [y, x])
    #expect(m.result["replay"] == .array(["attn-0.npy.gz", "attn-1.npy.gz"]))
    #expect(m.result["accuracy"] == .double(2.0 / 3.0))
    let same = Self.sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3, replay: "attn-0.npy.gz")
    #expect(try EvalMerge.merge(files: [x, same]).result["replay"] == .string("attn-0.npy.gz"))
    refused([x, Self.b], "replay")
  }

  /// Only part 0 of a sharded extraction names the weights, and a part without records says nothing: shards that
  /// replay their own parts still merge, and the merged line takes the fullest `replayed`.
  @Test func replayedOfOwnPartsMerges() throws {
    let named: JSONValue = .object(["bits": .int(3), "model": .object(["weights_sha256": "aa"])])
    let unnamed: JSONValue = .object(["bits": .int(3)])
    func shard(_ i: Int, _ replayed: JSONValue, items: Range<Int>) -> (name: String, bytes: [UInt8]) {
      Self.sst2Shard(i, of: 3, examples: Array(repeating: (1, 1), count: items.count), items: items, total: 3,
                     replay: "p\(i)", replayed: replayed)
    }
    let m = try EvalMerge.merge(files: [shard(0, named, items: 0..<2), shard(1, unnamed, items: 2..<3),
                                        shard(2, .null, items: 3..<3)])
    #expect(m.result["replayed"] == named && m.result["n"] == .int(3))
    #expect(try EvalMerge.merge(files: [shard(0, unnamed, items: 0..<2), shard(1, named, items: 2..<3),
                                        shard(2, .null, items: 3..<3)]).result["replayed"] == named)
    let otherBits: JSONValue = .object(["bits": .int(4)])
    refused([shard(0, named, items: 0..<2), shard(1, otherBits, items: 2..<3), shard(2, .null, items: 3..<3)],
            "replayed")
    refused([shard(0, named, items: 0..<2), shard(1, .null, items: 2..<3), shard(2, .null, items: 3..<3)], "replayed")
    let otherWeights: JSONValue = .object(["bits": .int(3), "model": .object(["weights_sha256": "bb"])])
    refused([shard(0, named, items: 0..<2), shard(1, otherWeights, items: 2..<3), shard(2, .null, items: 3..<3)],
            "replayed")
    // Whatever the order of the files: an empty shard or one without model listed first settles nothing.
    refused([shard(2, .null, items: 3..<3), shard(0, named, items: 0..<2), shard(1, otherBits, items: 2..<3)],
            "replayed")
    refused([shard(1, unnamed, items: 2..<3), shard(0, named, items: 0..<2),
             Self.sst2Shard(2, of: 3, examples: [], items: 3..<3, total: 3, replay: "p2", replayed: otherWeights)],
            "replayed.model")
  }

  /// Each file's per-example lines are checked against its shard line's digest of the lines it wrote; a shard
  /// line without one (an older build) is not.
  @Test func refusesLinesNotOfTheRun() throws {
    let swapped = Self.sst2Shard(0, of: 2, examples: [(1, 1), (0, 1)], items: 0..<2, total: 3, lineIndices: [1, 0])
    refused([swapped, Self.b], "not the ones its shard line lists")
    let foreign = Self.sst2Shard(1, of: 2, examples: [(1, 1)], items: 2..<3, total: 3, lineIndices: [7])
    refused([Self.a, foreign], "s1-of-2-m.jsonl: the per-example lines are not the ones its shard line lists")
    var noIndex = Self.b
    noIndex.bytes = Array(String(decoding: noIndex.bytes, as: UTF8.self)
      .replacingOccurrences(of: "\"index\":2,", with: "").utf8)
    refused([Self.a, noIndex], "not the ones its shard line lists")
    var edited = Self.b
    edited.bytes = Array(String(decoding: edited.bytes, as: UTF8.self)
      .replacingOccurrences(of: "\"prediction\":1", with: "\"prediction\":0").utf8)
    refused([Self.a, edited], "a line edited, dropped or moved")
    var older = foreign
    older.bytes = Array(String(decoding: older.bytes, as: UTF8.self)
      .replacing(#/"lines_digest":"[0-9a-f]+",/#, with: "").utf8)
    #expect(try EvalMerge.merge(files: [Self.a, older]).result["n"] == .int(3))
  }

  /// spiqa-eval's note when the replayed stream names other weights than the evaluated model.
  @Test func replayOfOtherWeightsIsNoted() {
    func result(_ recorded: String?, _ running: String?) -> JSONObject {
      var r: JSONObject = ["replayed": .object(recorded.map { ["model": .object(["weights_sha256": .string($0)])] } ?? [:])]
      if let running { r["provenance"] = .object(["weights_sha256": .string(running)]) }
      return r
    }
    #expect(EvalRunner.replayedOtherWeights(result("aa", "aa")) == nil)
    #expect(EvalRunner.replayedOtherWeights(result(nil, "aa")) == nil)
    #expect(EvalRunner.replayedOtherWeights(result("aa", nil)) == nil)
    #expect(EvalRunner.replayedOtherWeights(result("aa", "bb"))?.contains("other weights") == true)
  }

  @Test func refusesIncompleteFiles() {
    let noLine = (name: "plain.jsonl", bytes: Array("{\"index\":0,\"label\":1,\"prediction\":1}\n".utf8))
    refused([Self.a, noLine], "no shard line")
    var cut = Self.b
    let text = String(decoding: cut.bytes, as: UTF8.self).split(separator: "\n").dropFirst().joined(separator: "\n")
    cut.bytes = Array(text.utf8)
    refused([Self.a, cut], "0 per-example lines")
  }
}
