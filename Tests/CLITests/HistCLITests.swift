import SpiqaCore
import Foundation
import SpiqaIO
import SpiqaTestSupport
import Testing

/// Runs the built `spiqa-hist` (next to the test bundle) on the committed sample streams and compares its TSV with
/// the tables scripts/hist_reference.py computed with numpy (Tests/CLITests/Fixtures/hist).
@Suite struct HistCLITests {
  static func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/hist/\(name)", withExtension: nil), "missing fixture \(name)")
    return url.path
  }

  /// The `spiqa-hist` binary in the build products folder (where the test bundle's resources also live).
  static func binary() throws -> String {
    try #require(TestPaths.tool("spiqa-hist"), "spiqa-hist not built next to the tests")
  }

  /// Runs spiqa-hist; `stdin` is a file to read standard input from.
  static func run(_ args: [String], stdin: String? = nil) throws -> ProcessResult {
    try runProcess(try binary(), args, stdinFile: stdin)
  }

  static func expected(_ name: String) throws -> String {
    try String(contentsOfFile: try fixture(name), encoding: .utf8)
  }

  @Test(arguments: [
    (["sample.npy.gz", "--quiet"], "sample_heads.tsv"),
    (["sample.npy.gz", "--quiet", "--threads", "1"], "sample_heads.tsv"),
    (["sample.npy.gz", "--quiet", "--compare", "sample_q.npy.gz"], "sample_compare.tsv"),
    (["sample.npy.gz", "--quiet", "--layers", "5", "--heads", "0,3", "--thresholds", "0,0.25"], "sample_l5_h0-3.tsv"),
    (["sample.npy.gz", "--quiet", "--layers", "2", "--heads", "1", "--bins", "linear:10", "--table", "hist"],
     "sample_hist_linear.tsv"),
    (["sample_f2.npy.gz", "--quiet"], "sample_f2.tsv"),
    (["sample_codes.npy.gz", "--quiet"], "sample_codes.tsv"),
  ])
  func tsvEqualsNumpy(_ flags: [String], _ expectedFile: String) throws {
    let args = try flags.map { $0.hasSuffix(".npy.gz") ? try Self.fixture($0) : $0 }
    let r = try Self.run(args)
    #expect(r.status == 0, "stderr: \(r.stderr)")
    #expect(r.text == (try Self.expected(expectedFile)))
  }

  @Test func readsStandardInput() throws {
    let r = try Self.run(["-", "--quiet"], stdin: try Self.fixture("sample.npy.gz"))
    #expect(r.status == 0, "stderr: \(r.stderr)")
    #expect(r.text == (try Self.expected("sample_heads.tsv")))
  }

  @Test func corruptInputExits65() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("sample.npy.gz")))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hist-cli-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let truncated = dir.appendingPathComponent("truncated.npy.gz")
    try data.prefix(data.count / 2).write(to: truncated)
    let garbage = dir.appendingPathComponent("garbage.npy")
    try Data("not a stream at all".utf8).write(to: garbage)
    for path in [truncated.path, garbage.path] {
      let r = try Self.run([path, "--quiet"])
      #expect(r.status == 65, "\(path): \(r.stderr)")
      #expect(r.stderr.hasPrefix("spiqa-hist: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
    // A compared stream with fewer records is bad data too.
    let r = try Self.run([try Self.fixture("sample.npy.gz"), "--compare", truncated.path, "--quiet"])
    #expect(r.status == 65, "\(r.stderr)")
  }

  @Test(arguments: [
    ["--bins", "foo"], ["--thresholds", "1e-3,-1"], ["--layers", "0-x"], ["--table", "nope"],
    ["--edges", "0,1", "--bins", "linear"], ["--edges", "1,0"], ["--levels", "0"], ["--json", "--table", "heads"],
  ])
  func badFlagsExit64(_ flags: [String]) throws {
    let r = try Self.run([try Self.fixture("sample.npy.gz")] + flags)
    #expect(r.status == 64, "\(flags): \(r.stderr)")
  }

  /// `--layers`/`--heads` naming an index the stream lacks is a usage error (64) with one line naming it and the
  /// stream's indices.
  @Test func missingLayerExits64() throws {
    let r = try Self.run([try Self.fixture("sample.npy.gz"), "--quiet", "--layers", "2,99"])
    #expect(r.status == 64, "\(r.stderr)")
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("spiqa-hist: --layers asks for layer 99, but "), "\(r.stderr)")
    #expect(r.stderr.hasSuffix(" has layers 2,5\n"), "\(r.stderr)")
    let h = try Self.run([try Self.fixture("sample.npy.gz"), "--quiet", "--heads", "77"])
    #expect(h.status == 64 && h.stderr.contains("--heads asks for head 77"), "\(h.stderr)")
  }

  /// `--npy` arrays are a plain record stream whose histogram sums to the values counted in the TSV.
  @Test func npyArraysAreReadable() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hist-npy-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let npy = dir.appendingPathComponent("h.npy").path
    let rows = dir.appendingPathComponent("rows.npy.gz").path
    let r = try Self.run([try Self.fixture("sample.npy.gz"), "--quiet", "--npy", npy, "--per-row", rows])
    #expect(r.status == 0, "\(r.stderr)")
    var arrays: [String: NPYArray] = [:]
    let reader = try RecordReader(path: npy)
    while let rec = try reader.next() {
      if case .tensor(let meta, let a) = rec, let name = meta["name"]?.stringValue { arrays[name] = a }
    }
    let hist = try #require(arrays["histogram"])
    #expect(hist.shape == [2, 3, 100] && hist.dtype == .int64)
    let values = try #require(arrays["values"])
    let counts = try hist.floats()
    let total = try values.floats()
    for h in 0..<6 {
      #expect(counts[(h * 100)..<(h * 100 + 100)].reduce(0, +) == total[h], "head \(h): every value is in a bin")
    }
    var perRow = 0
    let rr = try RecordReader(path: rows)
    while let rec = try rr.next() { if case .tensor = rec { perRow += 1 } }
    #expect(perRow == 5 * 4, "5 records × 4 per-row arrays")
  }
}
