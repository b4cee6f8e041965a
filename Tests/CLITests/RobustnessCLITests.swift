import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tools' guarantees of docs/robustness.md, checked on the built binaries: special output paths, write
/// errors on standard output, temporary files on signals, `-`, crafted inputs, limits and exit codes.
enum Hostile {
  static func tool(_ name: String) -> String? { TestPaths.tool(name) }
  static var canRun: Bool { ["spiqa-quantize", "spiqa-hist", "spiqa-extract", "spiqa-eval"].allSatisfy { tool($0) != nil } }

  static func run(_ name: String, _ args: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try EvalCLI.run(name, args, environment: environment)
  }

  /// Runs a tool with standard output going to `path` (e.g. /dev/full); returns status and standard error.
  static func run(_ name: String, _ args: [String], stdoutTo path: String) throws -> (status: Int32, stderr: String) {
    var env: [String: String] = [:]
    if let shared = TestPaths.shared { env["SPIQA_SHARED"] = shared }
    let r = try runProcess(try #require(tool(name), "\(name) not built"), args, environment: env, stdoutPath: path)
    return (r.status, r.stderr)
  }

  static func tempDir() throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-hostile-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
  }

  /// A small attention stream: `examples` examples of one [2, 2, 4, 4] record each (rows sum to 1).
  static func stream(_ path: String, examples: Int = 3, shape: [Int] = [2, 2, 4, 4]) throws {
    let w = try RecordWriter(path: path, compression: .fast)
    try w.writeHeader(["producer": "RobustnessCLITests"])
    let count = shape.reduce(1, *)
    let n = max(1, shape.last ?? 1)
    for e in 0..<examples {
      let values = (0..<count).map { i in Float((i + e) % n + 1) / Float(n * (n + 1) / 2) }
      try w.write(meta: ["kind": "attention", "example_id": .string("ex\(e)"), "feature": 0],
                  array: NPYArray(float32: values, shape: shape))
    }
    try w.close()
  }

  static func fileType(_ path: String) -> mode_t {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
  }

  static func temporaries(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".tmp-") }
  }
}

@Suite("Robustness CLI", .enabled(if: Hostile.canRun, "the tools are not built"))
struct RobustnessCLITests {
  @Test("stream output through a symlink, to /dev/null, into a FIFO, over a 0600 file; --report likewise")
  func specialOutputs() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    // Symlink: the target gets the stream, the link stays.
    let target = dir.appendingPathComponent("target.npy").path
    let link = dir.appendingPathComponent("link.npy").path
    try Data("old".utf8).write(to: URL(fileURLWithPath: target))
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
    let reportLink = dir.appendingPathComponent("report-link.json").path
    try FileManager.default.createSymbolicLink(atPath: reportLink, withDestinationPath: "report.json")
    var r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", link, "--report", reportLink])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(Hostile.fileType(link) == S_IFLNK && Hostile.fileType(reportLink) == S_IFLNK)
    let reader = try RecordReader(path: target)
    var records = 0
    while try reader.next() != nil { records += 1 }
    #expect(records == 4)
    #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.json").path))
    // /dev/null: written through, still a character device (spiqa-bench passes it).
    r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", "/dev/null", "--report", "/dev/null"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(Hostile.fileType("/dev/null") == S_IFCHR)
    // FIFO: the reader gets the whole stream.
    let fifo = dir.appendingPathComponent("fifo").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let got = ReceivedData()
    Thread { got.set(FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()) }.start()
    r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", fifo])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(got.wait() == (try Data(contentsOf: URL(fileURLWithPath: target))))
    #expect(Hostile.fileType(fifo) == S_IFIFO)
    // 0600 stays 0600.
    #expect(chmod(target, 0o600) == 0)
    r = try Hostile.run("spiqa-quantize", [input, "-q", "-o", target])
    var st = stat()
    #expect(r.status == 0 && stat(target, &st) == 0 && st.st_mode & 0o777 == 0o600)
    #expect(Hostile.temporaries(dir).isEmpty)
  }

  @Test("write errors on standard output (/dev/full) exit 74 with one line")
  func standardOutputFull() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    let text = dir.appendingPathComponent("lines.txt").path
    try "one line\nanother line\n".write(toFile: text, atomically: false, encoding: .utf8)
    var runs: [(String, [String])] = [("spiqa-quantize", [input, "-q"]), ("spiqa-hist", [input, "--quiet"])]
    if let model = TestPaths.miniLM {
      runs.append(("spiqa-extract", ["--model", model, "--task", "text", "--data", text, "--list"]))
    }
    if let model = TestPaths.shared("models/minilm-sst2/model.safetensors").map({ ($0 as NSString).deletingLastPathComponent }),
       TestPaths.shared("data/glue/SST-2/dev.tsv") != nil {
      runs.append(("spiqa-eval", ["--model", model, "--task", "sst2", "--limit", "2", "--quiet"]))
    }
    for (tool, args) in runs {
      let r = try Hostile.run(tool, args, stdoutTo: "/dev/full")
      #expect(r.status == 74, "\(tool): \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(tool): \(r.stderr)")
      #expect(r.stderr.contains("stdout"), "\(tool): \(r.stderr)")
    }
  }

  @Test("SIGTERM, SIGINT and SIGHUP remove the temporary output file; the process dies of the signal",
        arguments: [SIGTERM, SIGINT, SIGHUP])
  func signalsRemoveTemporaries(signal: Int32) throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    // Standard input is a pipe kept open: the tool waits for its stream.
    let p = try startProcess(
      try #require(Hostile.tool("spiqa-quantize")), ["-", "-q", "-o", dir.appendingPathComponent("out.npy").path])
    var waited = 0
    while Hostile.temporaries(dir).isEmpty && waited < 3000 {
      usleep(10_000)
      waited += 10
    }
    #expect(Hostile.temporaries(dir).count == 1)
    p.signal(signal)
    let r = try p.wait()
    #expect(r.signaled && r.status == signal)
    #expect(Hostile.temporaries(dir).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.npy").path))
  }

  @Test("- is standard input/output where it can be, refused (64) where standard output is taken")
  func dashPaths() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    // --report - with the stream in a file: the JSON report on standard output, no file named '-'.
    let out = dir.appendingPathComponent("out.npy").path
    var r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", out, "--report", "-"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect((try? JSONValue(parsing: Array(r.stdout)))?.objectValue?["tensors"] == .int(3))
    #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/-"))
    for (tool, args) in [
      ("spiqa-quantize", [input, "--bits", "3", "--report", "-"]),
      ("spiqa-hist", [input, "--npy", "-"]), ("spiqa-hist", [input, "--per-row", "-"]),
      ("spiqa-hist", ["-", "--compare", "-"]), ("spiqa-eval", ["--model", "x", "--per-example", "-"]),
      ("spiqa-eval", ["--model", "-"]), ("spiqa-extract", ["--model", "-", "--list"]),
    ] {
      r = try Hostile.run(tool, args)
      #expect(r.status == 64, "\(tool) \(args): \(r.stderr)")
      #expect(r.stdout.isEmpty, "\(tool) \(args)")
    }
  }

  @Test("an attention record with a zero-sized dimension exits 65 with one line, never divides by zero",
        arguments: [[0, 2, 8, 8], [2, 0, 8, 8], [2, 2, 0, 0]])
  func zeroSizedDimension(shape: [Int]) throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("empty.npy").path
    try Hostile.stream(input, examples: 1, shape: shape)
    for args in [[input, "-q", "--bits", "3", "-o", "/dev/null"], [input, "-q", "--method", "uniform-log", "--bits", "2", "-o", "/dev/null"]] {
      let r = try Hostile.run("spiqa-quantize", args)
      #expect(r.status == 65, "\(shape) \(args): \(r.stderr)")
      #expect(r.stderr.contains("with every size ≥ 1"))
    }
  }

  @Test("record, metadata and example limits: clear 65 past them, 64 for an unreadable limit or ISA variable")
  func limits() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input, examples: 2, shape: [2, 2, 16, 16])
    var r = try Hostile.run("spiqa-hist", [input, "--quiet"], environment: ["SPIQA_MAX_RECORD_BYTES": "1K"])
    #expect(r.status == 65 && r.stderr.contains("SPIQA_MAX_RECORD_BYTES"), "\(r.stderr)")
    r = try Hostile.run("spiqa-quantize", [input, "-q", "-o", "/dev/null"], environment: ["SPIQA_MAX_METADATA_BYTES": "10"])
    #expect(r.status == 65 && r.stderr.contains("SPIQA_MAX_METADATA_BYTES"), "\(r.stderr)")
    r = try Hostile.run("spiqa-quantize", [input, "-q", "--method", "uniform-log", "--bits", "2", "-o", "/dev/null"],
                        environment: ["SPIQA_MAX_EXAMPLE_BYTES": "4K"])
    #expect(r.status == 65 && r.stderr.contains("SPIQA_MAX_EXAMPLE_BYTES"), "\(r.stderr)")
    r = try Hostile.run("spiqa-quantize", [input, "-q", "--method", "uniform-log", "--bits", "2", "--scope", "record",
                                           "-o", "/dev/null"], environment: ["SPIQA_MAX_EXAMPLE_BYTES": "4K"])
    #expect(r.status == 0, "the record scope buffers nothing: \(r.stderr)")
    r = try Hostile.run("spiqa-hist", [input, "--quiet"], environment: ["SPIQA_MAX_RECORD_BYTES": "lots"])
    #expect(r.status == 64 && r.stderr.contains("SPIQA_MAX_RECORD_BYTES"), "\(r.stderr)")
    // An instruction-set cap that names no level is refused before any work, by every tool.
    let out = dir.appendingPathComponent("out.npy.gz").path
    r = try Hostile.run("spiqa-quantize", [input, "-q", "-o", out], environment: ["SPIQA_MAX_ISA": "sse4"])
    #expect(r.status == 64 && r.stderr.contains("SPIQA_MAX_ISA: 'sse4'"), "\(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1 && !FileManager.default.fileExists(atPath: out))
    r = try Hostile.run("spiqa-hist", [input, "--quiet"], environment: ["SPIQA_MAX_ISA": "avx2"])
    #expect(r.status == 0, "\(r.stderr)")
  }

  @Test("flag values: negative numbers get a real message, absurd sizes and --hs-bits 1000 exit 64")
  func flagValues() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    for (tool, args, says) in [
      ("spiqa-quantize", [input, "--threshold", "-5"], "-5"),
      ("spiqa-hist", [input, "--levels", "-3"], "--levels"),
      ("spiqa-extract", ["--list", "--batch-size", "-2"], "--batch-size"),
      ("spiqa-extract", ["--list", "--batch-size", "1000000000"], "--batch-size"),
      ("spiqa-extract", ["--list", "--max-seq-len", "100000000"], "--max-seq-len"),
      ("spiqa-extract", ["--list", "--task", "text", "--max-length", "1"], "--max-length must be at least 2"),
      ("spiqa-extract", ["--list", "--task", "text", "--max-length", "0"], "--max-length must be at least 2"),
      ("spiqa-extract", ["--hs-bits", "1000", "-o", "/dev/null"], "--hs-bits"),
      ("spiqa-eval", ["--model", "x", "--hs-bits", "1000"], "--hs-bits"),
      ("spiqa-eval", ["--model", "x", "--batch-size", "1000000000"], "--batch-size"),
      ("spiqa-eval", ["--model", "x", "--threshold", "-0.5"], "[0, 1)"),
      ("spiqa-quantize", [input, "--threshold", "1"], "[0, 1)"),
      ("spiqa-quantize", [input, "--scope", "batch"], "no batches"),
    ] {
      let r = try Hostile.run(tool, args)
      #expect(r.status == 64, "\(tool) \(args): \(r.stderr)")
      #expect(!r.stderr.contains("Missing value"), "\(tool) \(args): \(r.stderr)")
      #expect(r.stderr.contains(says), "\(tool) \(args): \(r.stderr)")
    }
  }

  @Test("every flag error is one line '<tool>: message' with argument-parser's code; a mask file keeps its kind")
  func flagErrorsAreOneLine() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    let corrupt = dir.appendingPathComponent("mask.npy").path
    try Data([0x93] + Array("NUMPY".utf8) + [1, 0]).write(to: URL(fileURLWithPath: corrupt))
    for (tool, args, status, says) in [
      ("spiqa-eval", ["--model", "x", "--bogus"], 64, "Unknown option '--bogus'"),
      ("spiqa-eval", ["--model", "x", "--batch-size"], 64, "Missing value"),
      ("spiqa-eval", ["--model", "x", "--hs-bits", "5"], 64, "--hs-bits must be 0 (off) or 7-64, got 5"),
      ("spiqa-hist", [input, "--table", "nope"], 64, "--table 'nope'"),
      ("spiqa-hist", [input, "--thresholds", "-1"], 64, "--thresholds: '-1'"),
      ("spiqa-hist", [input, "--offset", "nan"], 64, "--offset must be a finite number"),
      ("spiqa-hist", [input, "--layers", "-1"], 64, "'-1' in index list"),
      ("spiqa-quantize", [input, "--bits", "3", "--transform-mask", corrupt, "-o", "/dev/null"], 65, "--transform-mask"),
      ("spiqa-quantize", [input, "--bits", "3", "--transform-mask", "/nonexistent.npy", "-o", "/dev/null"], 74,
       "--transform-mask"),
    ] {
      let r = try Hostile.run(tool, args)
      #expect(r.status == Int32(status), "\(tool) \(args): \(r.stderr)")
      let lines = r.stderr.split(separator: "\n")
      #expect(lines.count == 1 && lines[0].hasPrefix("\(tool): ") && r.stderr.contains(says), "\(tool) \(args): \(r.stderr)")
    }
    // A negative number is a value where one makes sense (run_qa's null threshold): no "Missing value".
    let r = try Hostile.run("spiqa-eval", ["--model", "x", "--task", "squad_v2", "--null-threshold", "-1.5",
                                           "--data", "/nonexistent/dev.json"])
    #expect(r.status == 74 && r.stderr.contains("/nonexistent/dev.json"), "\(r.stderr)")
  }

  @Test("standard output by another name; standard input or the default --data as an output; a missing input")
  func outputsThatAreStandardOutputOrInputs() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    let quantize = try #require(TestPaths.tool("spiqa-quantize"))
    // -o /dev/stdout: to the runner's file and to a pipe, the stream arrives on standard output.
    let toFile = try runProcess(quantize, [input, "-q", "--bits", "3", "--compression", "none", "-o", "/dev/stdout"])
    let toPipe = try runProcess(quantize, [input, "-q", "--bits", "3", "--compression", "none", "-o", "/dev/stdout"],
                                stdoutLimit: 1 << 26)
    #expect(toFile.status == 0 && toPipe.status == 0, "\(toFile.stderr) \(toPipe.stderr)")
    #expect(toFile.stdout.count > 1000 && toFile.stdout == toPipe.stdout)
    // A second output on standard output is refused, whatever its name.
    for (tool, args) in [("spiqa-quantize", [input, "-q", "--bits", "3", "--report", "/dev/stdout"]),
                         ("spiqa-hist", [input, "-q", "--npy", "/dev/stdout"]),
                         ("spiqa-eval", ["--merge", input, "--per-example", "/dev/stdout"])] {
      let r = try Hostile.run(tool, args)
      #expect(r.status == 64 && r.stderr.contains("standard output carries"), "\(tool) \(args): \(r.stderr)")
    }
    // Standard input redirected from the output file.
    let before = try Data(contentsOf: URL(fileURLWithPath: input))
    let fromStdin = try runProcess(quantize, ["-q", "--bits", "3", "-o", input], stdinFile: input)
    #expect(fromStdin.status == 64 && fromStdin.stderr.contains("would replace the input stream"), "\(fromStdin.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    // The task's default data file (no --data) is spared too.
    let shared = dir.appendingPathComponent("shared").path, dev = shared + "/data/glue/SST-2/dev.tsv"
    try FileManager.default.createDirectory(atPath: shared + "/data/glue/SST-2", withIntermediateDirectories: true)
    try "sentence\tlabel\na\t1\n".write(toFile: dev, atomically: false, encoding: .utf8)
    let r = try Hostile.run("spiqa-eval", ["--model", "x", "--task", "sst2", "--per-example", dev],
                            environment: ["SPIQA_SHARED": shared])
    #expect(r.status == 64 && r.stderr.contains("would replace --data"), "\(r.stderr)")
    #expect(try String(contentsOfFile: dev, encoding: .utf8) == "sentence\tlabel\na\t1\n")
    // A missing input named as the output is a missing input (74), not a clash.
    let none = dir.appendingPathComponent("none.txt").path
    let missing = try Hostile.run("spiqa-extract", ["--task", "text", "--data", none, "-o", none])
    #expect(missing.status == 74, "\(missing.stderr)")
  }

  @Test("two outputs naming one file are refused (64); a failed run commits no output, the old file stays")
  func outputsCommitTogether() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    let out = dir.appendingPathComponent("out.npy.gz").path
    var r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", out, "--report", out])
    #expect(r.status == 64 && r.stderr.contains("--output and --report name the same file"), "\(r.stderr)")
    r = try Hostile.run("spiqa-hist", [input, "--npy", out, "--per-row", dir.appendingPathComponent("./out.npy.gz").path])
    #expect(r.status == 64 && r.stderr.contains("--npy and --per-row name the same file"), "\(r.stderr)")
    // spiqa-hist's arrays never replace the stream they are computed from.
    let before = try Data(contentsOf: URL(fileURLWithPath: input))
    r = try Hostile.run("spiqa-hist", [input, "-q", "--npy", input])
    #expect(r.status == 64 && r.stderr.contains("would replace the input stream"), "\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    // No output replaces an input of its run: the stream, --data (also through a link), a --merge file.
    let text = dir.appendingPathComponent("lines.txt").path, link = dir.appendingPathComponent("link.txt").path
    try "one line\n".write(toFile: text, atomically: false, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: text)
    for (tool, args, says) in [
      ("spiqa-quantize", [input, "-q", "--bits", "3", "-o", input], "--output \(input) would replace the input stream"),
      ("spiqa-extract", ["--task", "text", "--data", text, "-o", link], "would replace --data"),
      ("spiqa-eval", ["--model", "m", "--task", "text", "--data", link, "--per-example", text], "would replace --data"),
      ("spiqa-eval", ["--merge", text, "--per-example", link], "would replace --merge"),
    ] {
      r = try Hostile.run(tool, args)
      #expect(r.status == 64 && r.stderr.contains(says), "\(tool) \(args): \(r.stderr)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    #expect(try String(contentsOfFile: text, encoding: .utf8) == "one line\n")
    // spiqa-quantize: a report that cannot be written leaves the old stream.
    try Data("OLD".utf8).write(to: URL(fileURLWithPath: out))
    r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", out, "--report", dir.path + "/no/such/r.json"])
    #expect(r.status == 74, "\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data("OLD".utf8))
    r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", out, "--report", "/dev/full"])
    #expect(r.status == 74, "\(r.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data("OLD".utf8))
    // spiqa-hist and spiqa-eval: standard output fails, so the files are not committed.
    let rows = dir.appendingPathComponent("rows.npy.gz").path, arrays = dir.appendingPathComponent("arrays.npy").path
    let full = try Hostile.run("spiqa-hist", [input, "-q", "--per-row", rows, "--npy", arrays], stdoutTo: "/dev/full")
    #expect(full.status == 74, "\(full.stderr)")
    #expect(!FileManager.default.fileExists(atPath: rows) && !FileManager.default.fileExists(atPath: arrays))
    #expect(Hostile.temporaries(dir).isEmpty)
    let ok = try Hostile.run("spiqa-hist", [input, "-q", "--per-row", rows, "--npy", arrays], stdoutTo: "/dev/null")
    #expect(ok.status == 0, "\(ok.stderr)")
    #expect(FileManager.default.fileExists(atPath: rows) && FileManager.default.fileExists(atPath: arrays))
  }

  @Test("spiqa-quantize refuses attention records the other tools refuse: not [layers, heads, n, n], n or layers wrong")
  func quantizeChecksAttentionShapes() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("bad.npy").path
    for (shape, meta, says) in [
      ([4, 4], [:], "[layers, heads, n, n]"), ([1, 2, 4, 5], [:], "[layers, heads, n, n]"),
      ([1, 1, 2, 4, 4], [:], "[layers, heads, n, n]"), ([1, 2, 4, 4], ["n": JSONValue.int(5)], "\"n\""),
      ([1, 2, 4, 4], ["layers": JSONValue.array([])], "\"layers\""),
    ] as [([Int], JSONObject, String)] {
      let w = try RecordWriter(path: path, compression: .none)
      try w.writeHeader(["producer": "RobustnessCLITests"])
      var m: JSONObject = ["kind": "attention", "example_id": "e"]
      for (k, v) in meta { m[k] = v }
      try w.write(meta: m, array: NPYArray(float32: [Float](repeating: 0.25, count: shape.reduce(1, *)), shape: shape))
      try w.close()
      let r = try Hostile.run("spiqa-quantize", [path, "-q", "--bits", "3", "-o", "/dev/null"])
      #expect(r.status == 65 && r.stderr.contains(says), "\(shape) \(meta): \(r.stderr)")
    }
  }

  @Test("--data: a pipe or FIFO is read like standard input, past SPIQA_MAX_DATA_BYTES is 65, offset + limit never overflows",
        .enabled(if: TestPaths.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model)"))
  func dataInputs() throws {
    let model = try #require(TestPaths.miniLM)
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = dir.appendingPathComponent("lines.txt").path
    try "one line\nanother line\n".write(toFile: text, atomically: false, encoding: .utf8)
    let base = ["--model", model, "--task", "text", "-q", "--list"]
    var r = try Hostile.run("spiqa-extract", base + ["--data", text, "--offset", "1", "--limit", String(Int.max)])
    #expect(r.status == 0 && r.stdout.count > 0, "\(r.stderr)")
    r = try Hostile.run("spiqa-extract", base + ["--data", text], environment: ["SPIQA_MAX_DATA_BYTES": "10"])
    #expect(r.status == 65 && r.stderr.contains("SPIQA_MAX_DATA_BYTES"), "\(r.stderr)")
    r = try Hostile.run("spiqa-extract", base + ["--data", dir.path])
    #expect(r.status == 74 && r.stderr.contains("directory"), "\(r.stderr)")
    // A FIFO (what a shell's <(…) gives): a writer thread feeds it.
    let fifo = dir.appendingPathComponent("fifo").path
    #expect(mkfifo(fifo, 0o600) == 0)
    let writer = Thread {
      let fd = open(fifo, O_WRONLY)
      if fd >= 0 {
        _ = "fifo line\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
      }
    }
    writer.start()
    r = try Hostile.run("spiqa-extract", base + ["--data", fifo])
    #expect(r.status == 0 && String(decoding: r.stdout, as: UTF8.self).contains("text-0"), "\(r.stderr)")
  }

  @Test("a crafted model folder (10^12 layers, a FIFO as weights) exits 65 at once with one line",
        .enabled(if: TestPaths.miniLM != nil, "needs models/all-MiniLM-L6-v2 (make model) for its config and vocabulary"))
  func craftedModelFolder() throws {
    let model = try #require(TestPaths.miniLM)
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let text = dir.appendingPathComponent("lines.txt").path
    try "one line\n".write(toFile: text, atomically: false, encoding: .utf8)
    let crafted = dir.appendingPathComponent("model")
    try FileManager.default.createDirectory(at: crafted, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: model + "/vocab.txt", toPath: crafted.appendingPathComponent("vocab.txt").path)
    var config = try String(contentsOfFile: model + "/config.json", encoding: .utf8)
    let fifo = crafted.appendingPathComponent("model.safetensors").path
    #expect(mkfifo(fifo, 0o600) == 0)
    try config.write(to: crafted.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
    var r = try Hostile.run("spiqa-extract", ["--model", crafted.path, "--task", "text", "--data", text, "-q", "-o", "/dev/null"])
    #expect(r.status == 65 && r.stderr.contains("FIFO"), "\(r.stderr)")
    config = config.replacingOccurrences(of: "\"num_hidden_layers\": 6", with: "\"num_hidden_layers\": 1000000000000")
    try config.write(to: crafted.appendingPathComponent("config.json"), atomically: false, encoding: .utf8)
    r = try Hostile.run("spiqa-extract", ["--model", crafted.path, "--task", "text", "--data", text, "-q", "-o", "/dev/null"])
    #expect(r.status == 65 && r.stderr.contains("num_hidden_layers"), "\(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1)
    // A vocabulary larger than the embedding matrix: bad data (65), found when the model is opened.
    try FileManager.default.removeItem(atPath: fifo)
    try FileManager.default.createSymbolicLink(atPath: fifo, withDestinationPath: model + "/model.safetensors")
    try FileManager.default.copyItem(atPath: model + "/config.json", toPath: crafted.appendingPathComponent("config.json").path + ".x")
    try FileManager.default.removeItem(at: crafted.appendingPathComponent("config.json"))
    try FileManager.default.moveItem(atPath: crafted.appendingPathComponent("config.json").path + ".x",
                                     toPath: crafted.appendingPathComponent("config.json").path)
    let vocab = try String(contentsOfFile: model + "/vocab.txt", encoding: .utf8)
    try (vocab + (0..<10).map { "extra\($0)\n" }.joined()).write(
      to: crafted.appendingPathComponent("vocab.txt"), atomically: false, encoding: .utf8)
    r = try Hostile.run("spiqa-extract", ["--model", crafted.path, "--task", "text", "--data", text, "-q", "-o", "/dev/null"])
    #expect(r.status == 65 && r.stderr.contains("embedding matrix"), "\(r.stderr)")
  }
}

/// Bytes handed from a reader thread to the test.
final class ReceivedData: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var data = Data()
  func set(_ d: Data) {
    data = d
    done.signal()
  }
  func wait() -> Data {
    done.wait()
    return data
  }
}

/// Findings of an audit of the tools (2026-12-08): closed standard descriptors, outputs through a dangling link,
/// empty output paths, flag combinations that exhausted memory or trapped.
@Suite("Robustness CLI: audit findings", .enabled(if: Hostile.canRun, "the tools are not built"))
struct RobustnessAuditCLITests {
  /// Runs `tool args` with standard input, output or error closed (`<&-`, `>&-`, `2>&-`) through /bin/sh.
  func runClosed(_ fd: String, _ name: String, _ args: [String]) throws -> ProcessResult {
    let tool = try #require(Hostile.tool(name))
    return try runProcess("/bin/sh", ["-c", "exec \"$0\" \"$@\" \(fd)", tool] + args)
  }

  @Test("a closed stdin, stdout or stderr is not taken by the tool's own files")
  func closedStandardDescriptors() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    // stdout closed: the tables cannot be written (74); --npy holds only its records.
    let npy = dir.appendingPathComponent("h.npy").path
    var r = try runClosed(">&-", "spiqa-hist", [input, "-q", "--npy", npy])
    #expect(r.status == 74, "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: npy))  // not committed: the tables were not written
    // stdin closed: reading the default input `-` fails (74), not an empty temporary file read as the stream.
    let out = dir.appendingPathComponent("q.npy").path
    r = try runClosed("<&-", "spiqa-quantize", ["-q", "--bits", "3", "-o", out])
    #expect(r.status == 74, "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
    // stderr closed: the progress line goes nowhere, not into the output file.
    r = try runClosed("2>&-", "spiqa-quantize", [input, "--bits", "3", "-o", out])
    #expect(r.status == 0)
    let reader = try RecordReader(path: out)
    var records = 0
    while try reader.next() != nil { records += 1 }
    #expect(records == 4)
    #expect(Hostile.temporaries(dir).isEmpty)
  }

  @Test("two outputs through a dangling link to one file, and empty output paths, are usage errors")
  func outputIdentity() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    let out = dir.appendingPathComponent("x.npy").path
    let link = dir.appendingPathComponent("xl").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "x.npy")
    var r = try Hostile.run("spiqa-quantize", [input, "-q", "--bits", "3", "-o", out, "--report", link])
    #expect(r.status == 64 && r.stderr.contains("name the same file"), "\(r.stderr)")
    r = try Hostile.run("spiqa-hist", [input, "-q", "--npy", out, "--per-row", link])
    #expect(r.status == 64 && r.stderr.contains("name the same file"), "\(r.stderr)")
    for (name, args) in [("spiqa-quantize", [input, "-q", "--bits", "3", "-o", ""]),
                         ("spiqa-quantize", [input, "-q", "--bits", "3", "-o", out, "--report", ""]),
                         ("spiqa-hist", [input, "-q", "--npy", ""])] {
      r = try Hostile.run(name, args)
      #expect(r.status == 64 && r.stderr.contains("the path is empty"), "\(name) \(args): \(r.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: out) && Hostile.temporaries(dir).isEmpty)
    // /dev/null is never "standard output": outputs may share it with a discarded or closed standard output.
    r = try runClosed(">&-", "spiqa-quantize", [input, "-q", "--bits", "3", "-o", "/dev/null", "--report", "/dev/null"])
    #expect(r.status == 0, "\(r.stderr)")
  }

  @Test("spiqa-hist and spiqa-quantize hold attention metadata to the same rules (what one writes, the other reads)")
  func sameRecordRules() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let values = [Float](repeating: 0.25, count: 2 * 2 * 4 * 4)
    let cases: [(JSONObject, String)] = [
      (["n": "4"], "record metadata \"n\" = \"4\""), (["n": .double(4.5)], "record metadata \"n\" = 4.5"),
      (["layers": [0, 0]], "record metadata \"layers\" = [0,0]"), (["heads": [-1, 1]], "record metadata \"heads\""),
      (["layers": 5], "record metadata \"layers\" = 5"),
    ]
    for (k, (meta, message)) in cases.enumerated() {
      let path = dir.appendingPathComponent("bad\(k).npy").path
      let w = try RecordWriter(path: path, compression: .none)
      try w.writeHeader(["producer": "RobustnessCLITests"])
      var m: JSONObject = ["kind": "attention", "example_id": "e0"]
      for (key, v) in meta { m[key] = v }
      try w.write(meta: m, array: NPYArray(float32: values, shape: [2, 2, 4, 4]))
      try w.close()
      let runs = [("spiqa-hist", [path, "-q"]), ("spiqa-quantize", [path, "-q", "--bits", "3", "-o", "/dev/null"])]
      for (name, args) in runs {
        let r = try Hostile.run(name, args)
        #expect(r.status == 65 && r.stderr.contains("\(path): record 2: \(message)"), "\(name) \(meta): \(r.stderr)")
      }
    }
    // 4.0 is the number 4 for both.
    let path = dir.appendingPathComponent("ok.npy").path
    let w = try RecordWriter(path: path, compression: .none)
    try w.writeHeader(["producer": "RobustnessCLITests"])
    try w.write(meta: ["kind": "attention", "n": .double(4)], array: NPYArray(float32: values, shape: [2, 2, 4, 4]))
    try w.close()
    #expect(try Hostile.run("spiqa-hist", [path, "-q"]).status == 0)
  }

  @Test("an argument that is not UTF-8 is a usage error, not a path under another name")
  func nonUTF8Arguments() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    let tool = try #require(Hostile.tool("spiqa-quantize"))
    let r = try runProcess("/bin/sh", ["-c", "exec \"$0\" \"$1\" -q --bits 3 -o \"$2/$(printf 'o\\377.npy')\"", tool, input,
                                       dir.path])
    #expect(r.status == 64 && r.stderr.contains("argument 6") && r.stderr.contains("is not valid UTF-8"), "\(r.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["in.npy"])
  }

  @Test("flags that do nothing for a task are refused, as --pairs and --data-format are")
  func flagsForOtherTasks() throws {
    for (args, message) in [(["--task", "sst2", "--max-answer-len", "5"], "--max-answer-len applies to"),
                            (["--task", "squad", "--null-threshold=-1"], "--null-threshold applies to"),
                            (["--task", "sst2", "--null-threshold", "0.5"], "--null-threshold applies to")] {
      let r = try Hostile.run("spiqa-eval", ["--model", "x"] + args)
      #expect(r.status == 64 && r.stderr.contains(message), "\(args): \(r.stderr)")
    }
    let r = try Hostile.run("spiqa-hist", ["/dev/null", "--edges", "nonexist"])
    #expect(r.status == 64 && r.stderr.contains("'nonexist' is not a number (nor a file)"), "\(r.stderr)")
  }

  @Test("spiqa-hist: bins × levels and the hidden-state range are bounded before any work")
  func histFlagCombinations() throws {
    let dir = try Hostile.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    try Hostile.stream(input)
    // 4 heads × 32000 × 10000 × 8 bytes: 10 GB of spread tables, over the 1 GiB of a record.
    var r = try Hostile.run("spiqa-hist", [input, "-q", "--bins", "linear:32000", "--levels", "10000"])
    #expect(r.status == 64 && r.stderr.contains("make spread tables of 10240000000 bytes"), "\(r.stderr)")
    r = try Hostile.run("spiqa-hist", [input, "-q", "--bins", "linear:30000", "--levels", "50"])
    #expect(r.status == 0, "\(r.stderr)")
    r = try Hostile.run("spiqa-hist", [input, "-q", "--bins", "linear:100", "--levels", "100"],
                        environment: ["SPIQA_MAX_RECORD_BYTES": "100K"])
    #expect(r.status == 64 && r.stderr.contains("SPIQA_MAX_RECORD_BYTES"), "\(r.stderr)")
    // --edges from a pipe, as --data reads one.
    let hist = try #require(Hostile.tool("spiqa-hist"))
    let piped = try runProcess("/bin/bash", ["-c", "exec \"$0\" \"$1\" -q --edges <(printf '0 0.5 1')", hist, input])
    #expect(piped.status == 0 && piped.text.contains("\t"), "\(piped.stderr)")
    for range in ["-1e308,1e308", "-1e-320,1e-320"] {
      r = try Hostile.run("spiqa-hist", ["--hidden-states", input, "-q", "--hs-range", range])
      #expect(r.status == 64 && r.stderr.contains("too wide or too narrow"), "\(range): \(r.stderr)")
    }
  }
}
