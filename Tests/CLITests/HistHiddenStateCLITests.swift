import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

/// `spiqa-hist --hidden-states`: TSV against scripts/hs_hist_reference.py (numpy) on the committed sample, bad
/// records, and `spiqa-extract --hidden-states | spiqa-hist --hidden-states -` on two SST-2 sentences.
@Suite(.enabled(if: TestPaths.tool("spiqa-hist") != nil, "spiqa-hist is not built next to the test bundle"))
struct HistHiddenStateCLITests {
  @Test(arguments: [
    (["--hidden-states", "--quiet"], "hs_layers.tsv"),
    (["--hidden-states", "--quiet", "--layers", "3,1", "--hs-bins", "10", "--hs-range", "-2,3", "--table", "hist"],
     "hs_hist_l3-1_b10.tsv"),
    (["--hidden-states", "--quiet", "--layers", "2", "--hs-log-bits", "0", "--table", "layers", "--table", "hist"],
     "hs_log0.tsv"),
  ])
  func tsvEqualsNumpy(_ flags: [String], _ expected: String) throws {
    let r = try HistCLITests.run([try HistCLITests.fixture("hs_sample.npy.gz")] + flags)
    #expect(r.status == 0, "stderr: \(r.stderr)")
    #expect(r.text == (try HistCLITests.expected(expected)))
  }

  @Test func npyHoldsTheArrays() throws {
    let dir = try ExtractCLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let npy = dir + "/hs.npy"
    let r = try HistCLITests.run([try HistCLITests.fixture("hs_sample.npy.gz"), "--hidden-states", "--quiet", "--npy", npy])
    #expect(r.status == 0, "stderr: \(r.stderr)")
    let stream = try ExtractCLI.read(npy)
    #expect(stream.headers.first?["content"] == "hidden-state-hist-arrays")
    let shapes = Dictionary(uniqueKeysWithValues: stream.tensors.map { ($0.meta["name"]?.stringValue ?? "", $0.shape) })
    #expect(shapes["histogram"] == [4, 100])
    #expect(shapes["row_count_spread"] == [4, 100, 25])
    #expect(shapes["edges"] == [101])
  }

  /// Writes a stream with one hidden_states record and returns spiqa-hist's result on it.
  func runOn(_ array: NPYArray, meta: JSONObject = [:]) throws -> ProcessResult {
    let dir = try ExtractCLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/bad.npy"
    let w = try RecordWriter(path: path, compression: .none)
    try w.writeHeader(["spiqa": 1, "kind": "stream"])
    var m: JSONObject = ["spiqa": 1, "kind": "hidden_states"]
    for (k, v) in meta { m[k] = v }
    try w.write(meta: m, array: array)
    try w.close()
    return try HistCLITests.run([path, "--hidden-states", "--quiet"])
  }

  @Test func badRecordsExit65WithOneLine() throws {
    let cases: [(NPYArray, JSONObject, String)] = [
      (NPYArray(float32: [1, 2, 3, 4], shape: [2, 2]), [:], "shape [2, 2]"),
      (NPYArray(float32: [1, 2, 3, 4], shape: [2, 1, 2]), ["layers": [0, 1, 2]], "expected 2 distinct model indices"),
      (NPYArray(float32: [1, .nan, 3, 4], shape: [2, 1, 2]), [:], "NaN"),
    ]
    for (array, meta, needle) in cases {
      let r = try runOn(array, meta: meta)
      #expect(r.status == 65, "\(needle): \(r.stderr)")
      #expect(r.stderr.contains(needle), "\(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
  }

  @Test func flagsThatDoNotApplyExit64() throws {
    let sample = try HistCLITests.fixture("hs_sample.npy.gz")
    for flags in [["--compare", sample], ["--hs-range", "5,-5"], ["--hs-bins", "0"], ["--hs-log-bits", "1"], ["--json"], ["--table", "heads"]] {
      let r = try HistCLITests.run([sample, "--hidden-states", "--quiet"] + flags)
      #expect(r.status == 64, "\(flags): \(r.stderr)")
    }
    let r = try HistCLITests.run([sample, "--hidden-states", "--quiet", "--layers", "7"])
    #expect(r.status == 64 && r.stderr.contains("0,1,2,3"), "\(r.stderr)")
  }

  /// The model-running path: two SST-2 sentences through a shell pipe.
  @Test(.enabled(if: ExtractCLI.binary != nil && ExtractCLI.model != nil && ExtractCLI.sst2 != nil,
                 "needs spiqa-extract, all-MiniLM-L6-v2 (SPIQA_MODEL) and ../shared's SST-2 (SPIQA_SHARED)"))
  func extractPipesIntoHist() throws {
    let extract = try #require(ExtractCLI.binary)
    let hist = try #require(TestPaths.tool("spiqa-hist"))
    func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let cmd = "set -o pipefail; \(q(extract)) --model \(q(ExtractCLI.model ?? "")) --task sst2 --data \(q(ExtractCLI.sst2 ?? ""))"
      + " --limit 2 --hidden-states -q -o - | \(q(hist)) - --hidden-states --quiet --table layers --table hist"
    let r = try runProcess("/bin/bash", ["-c", cmd])
    #expect(r.status == 0, "\(r.stderr)")
    let tables = r.text.components(separatedBy: "\n\n")
    #expect(tables.count == 2)
    let layerRows = tables[0].split(separator: "\n").dropFirst()
    // all-MiniLM-L6-v2: 6 layers → hidden-state indices 0…6, 384 values per token.
    #expect(layerRows.map { $0.split(separator: "\t")[0] } == ["0", "1", "2", "3", "4", "5", "6"])
    for row in layerRows {
      let c = row.split(separator: "\t")
      let values = try #require(Int(c[1]))
      let rows = try #require(Int(c[2]))
      #expect(values == rows * 384 && rows > 2)
    }
    #expect(tables[1].split(separator: "\n").count == 1 + 7 * 100)
  }
}
