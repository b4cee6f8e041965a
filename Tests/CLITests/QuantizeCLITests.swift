import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

/// Runs the built spiqa-quantize binary (found next to the test bundle, in .build/<config>/).
private enum QuantizeTool {
  static var binary: String? { TestPaths.tool("spiqa-quantize") }

  static func run(_ args: [String]) throws -> ProcessResult {
    guard let binary else { throw CLIError("spiqa-quantize binary not found next to the test bundle") }
    return try runProcess(binary, args)
  }

  /// Runs a python3 script (`-c`) with arguments.
  static func python(_ script: String, _ args: [String]) throws -> ProcessResult {
    try runProcess(try #require(TestPython.executable, "python3 not found"), ["-c", script] + args)
  }

  static func tempDir() throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-quantize-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
  }

  /// Writes a small attention stream: example q1 with two features, q2 with one; [2 layers, 3 heads, n, n].
  static func writeInput(_ path: String) throws -> [[Float]] {
    let w = try RecordWriter(path: path, compression: .fast)
    try w.writeHeader(["producer": "QuantizeCLITests"])
    var tensors: [[Float]] = []
    var seed: UInt64 = 42
    for (ex, feats) in [("q1", 2), ("q2", 1)] {
      for f in 0..<feats {
        let n = 5 + f
        var x = [Float]()
        for _ in 0..<(2 * 3 * n) {
          var row = (0..<n).map { _ -> Double in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(seed >> 11) / Double(1 << 53) * 8
          }
          let m = row.max() ?? 0
          row = row.map { exp($0 - m) }
          let s = row.reduce(0, +)
          x += row.map { Float($0 / s) }
        }
        tensors.append(x)
        let meta: JSONObject = ["kind": "attention", "example_id": .string(ex), "feature": .int(f), "n": .int(n),
                                "layers": [0, 1], "heads": [0, 1, 2]]
        try w.write(meta: meta, array: NPYArray(float32: x, shape: [2, 3, n, n]))
      }
    }
    try w.close()
    return tensors
  }
}

private struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// Reads a stream with numpy and prints, per attention record, its dtype, shape, method/bits and decoded values.
private let readBack = """
  import sys, gzip, json, numpy as np
  f = gzip.open(sys.argv[1])
  out = []
  while True:
      try:
          a = np.load(f)
      except EOFError:
          break
      if a.dtype == np.uint8 and a.ndim == 1:
          meta = json.loads(a.tobytes())
          continue
      if meta.get("encoding") == "codes":
          vals = np.asarray(meta["levels"], np.float32)[a]
      else:
          vals = a.astype(np.float32)
      out.append({"dtype": str(a.dtype), "shape": list(a.shape), "method": meta.get("method"),
                  "bits": meta.get("bits"), "threshold": meta.get("threshold"), "scope": meta.get("scope"),
                  "bits_hex": vals.view(np.uint32).ravel().tolist()})
  print(json.dumps(out))
  """

@Suite(.serialized) struct QuantizeCLITests {
  @Test func streamReadBackByNumpy() throws {
    try #require(QuantizeTool.binary != nil, "spiqa-quantize not built")
    guard TestPython.hasNumpy else {
      print("skipping streamReadBackByNumpy: python3 with numpy not available")
      return
    }
    let dir = try QuantizeTool.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy.gz").path
    let tensors = try QuantizeTool.writeInput(input)
    for dtype in ["f32", "codes"] {
      let output = dir.appendingPathComponent("out-\(dtype).gz").path
      let r = try QuantizeTool.run([input, "-at", "0.01", "--method", "log-pruned", "-aq", "3.0",
                                    "--output-dtype", dtype, "-o", output, "--report", output + ".json"])
      #expect(r.status == 0, "\(r.stderr)")
      let py = try QuantizeTool.python(readBack, [output])
      #expect(py.status == 0, "\(py.stderr)")
      let records = try #require(try JSONSerialization.jsonObject(with: py.stdout) as? [[String: Any]])
      #expect(records.count == tensors.count)
      for (rec, original) in zip(records, tensors) {
        #expect(rec["method"] as? String == "linear_slog_clamped_midval")
        #expect(rec["bits"] as? Int == 3)
        #expect(rec["dtype"] as? String == (dtype == "codes" ? "uint8" : "float32"))
        let got = try #require(rec["bits_hex"] as? [NSNumber]).map { Float(bitPattern: $0.uint32Value) }
        // Expected: prune p > 0.01, then the library's quantizer (tested bit-exact against PyTorch elsewhere).
        let expected = original.map { x -> Float in x > 0.01 ? x : 0 }
        #expect(got.count == expected.count)
        let levels: Set<Float> = [0, 0.0016378937, 0.004393971, 0.011787689, 0.031622779, 0.08483431, 0.22758466, 0.6105403]
        #expect(got.allSatisfy { levels.contains($0) })
        for (g, e) in zip(got, expected) where e == 0 { #expect(g == 0) }
      }
      let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + ".json"))) as? [String: Any])
      #expect(report["tensors"] as? Int == 3)
      #expect((report["sparsity_after"] as? Double ?? 0) > 0)
    }
  }

  @Test func exampleScopeMatchesJointStatistics() throws {
    try #require(QuantizeTool.binary != nil, "spiqa-quantize not built")
    guard TestPython.hasNumpy else {
      print("skipping exampleScopeMatchesJointStatistics: python3 with numpy not available")
      return
    }
    let dir = try QuantizeTool.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy.gz").path
    _ = try QuantizeTool.writeInput(input)
    var distinct: [String: Int] = [:]
    for scope in ["record", "example"] {
      let output = dir.appendingPathComponent("out-\(scope).gz").path
      let r = try QuantizeTool.run([input, "--method", "uniform_slog_clamped_mean", "--bits", "2", "--scope", scope,
                                    "-o", output, "--report", output + ".json"])
      #expect(r.status == 0, "\(r.stderr)")
      let py = try QuantizeTool.python(readBack, [output])
      #expect(py.status == 0, "\(py.stderr)")
      let records = try #require(try JSONSerialization.jsonObject(with: py.stdout) as? [[String: Any]])
      #expect(records.allSatisfy { $0["scope"] as? String == scope })
      let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + ".json"))) as? [String: Any])
      distinct[scope] = report["distinct_values"] as? Int
    }
    // Per-record statistics give more distinct levels over the stream than per-example ones.
    #expect((distinct["record"] ?? 0) > (distinct["example"] ?? 0))
  }

  @Test func badMethodExits64WithValidNames() throws {
    try #require(QuantizeTool.binary != nil, "spiqa-quantize not built")
    let r = try QuantizeTool.run(["--method", "cubic", "--bits", "3", "/dev/null"])
    #expect(r.status == 64)
    #expect(r.stderr.contains("linear_slog_clamped_midval") && r.stderr.contains("log-pruned"))
    let b = try QuantizeTool.run(["--method", "log", "--bits", "0", "/dev/null"])
    #expect(b.status == 64)
    #expect(b.stderr.contains("bits"))
  }

  @Test func corruptInputExits65AndLeavesNoOutput() throws {
    try #require(QuantizeTool.binary != nil, "spiqa-quantize not built")
    let dir = try QuantizeTool.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy").path
    let w = try RecordWriter(path: input, compression: .none)
    try w.writeHeader(["producer": "QuantizeCLITests"])
    try w.write(meta: ["kind": "attention", "example_id": "x"], array: NPYArray(float32: [Float](repeating: 0.25, count: 64), shape: [1, 1, 8, 8]))
    try w.close()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: input))
    let truncated = dir.appendingPathComponent("trunc.npy")
    try bytes.prefix(bytes.count - 10).write(to: truncated)
    let output = dir.appendingPathComponent("out.gz").path
    let r = try QuantizeTool.run([truncated.path, "--method", "log-pruned", "--bits", "3", "-o", output])
    #expect(r.status == 65, "\(r.stderr)")
    #expect(r.stderr.contains("trunc.npy"))
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("out") }
    #expect(left.isEmpty, "left behind: \(left)")
  }

  @Test func missingInputExits74() throws {
    try #require(QuantizeTool.binary != nil, "spiqa-quantize not built")
    let r = try QuantizeTool.run(["/nonexistent/dir/in.npy", "--method", "log", "--bits", "3"])
    #expect(r.status == 74, "\(r.stderr)")
  }
}
