import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

/// `--transform-layers`, `--transform-heads` and `--ablate`: the same flags and errors in spiqa-eval,
/// spiqa-extract and spiqa-quantize (issue 21, item 3).
@Suite(.serialized) struct TransformSelectionCLITests {
  static func tool(_ name: String) -> String? { TestPaths.tool(name) }
  static var sst2Model: String? {
    TestPaths.shared("models/minilm-sst2/model.safetensors").flatMap { _ in TestPaths.shared("models/minilm-sst2") }
  }
  static var sst2Data: String? { TestPaths.shared("data/glue/SST-2/dev.tsv") }

  static func run(_ name: String, _ args: [String]) throws -> ProcessResult {
    try runProcess(try #require(tool(name), "\(name) not built"), args)
  }

  static func temp(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-sel-\(UUID().uuidString)\(suffix)").path
  }

  /// A stream of one record [2 layers, 2 heads, 3, 3] recorded from model layers 1, 3 and heads 0, 2.
  static func writeInput(_ path: String) throws -> [Float] {
    let w = try RecordWriter(path: path, compression: .none)
    try w.writeHeader(["producer": "TransformSelectionCLITests"])
    var x: [Float] = []
    for i in 0..<(2 * 2 * 3) {
      let row: [Float] = [Float(i % 3 + 1), 2, 3]
      let s = row.reduce(0, +)
      x += row.map { $0 / s }
    }
    try w.write(meta: ["kind": "attention", "example_id": "e", "n": 3, "layers": [1, 3], "heads": [0, 2]],
                array: NPYArray(float32: x, shape: [2, 2, 3, 3]))
    try w.close()
    return x
  }

  static func attention(_ path: String) throws -> [(JSONObject, [Float])] {
    var out: [(JSONObject, [Float])] = []
    try RecordReader(path: path).forEach { r in
      if case .tensor(let m, let a) = r, m["kind"] == "attention" { out.append((m, try a.floats())) }
    }
    return out
  }

  static let badFlags: [[String]] = [
    ["--transform-layers", "3-1"], ["--transform-heads", "x"], ["--transform-layers", ""],
    ["--ablate"], ["--ablate", "--transform-layers", "0", "--threshold", "0.1"],
    ["--ablate", "--transform-heads", "0", "--bits", "3"],
  ]

  @Test func badSelectionsExit64InEveryTool() throws {
    let input = Self.temp(".npy")
    defer { try? FileManager.default.removeItem(atPath: input) }
    _ = try Self.writeInput(input)
    for args in Self.badFlags {
      for (name, base) in [
        ("spiqa-quantize", [input, "-o", Self.temp(".npy")]),
        ("spiqa-eval", ["--model", "/nonexistent-model", "--task", "sst2"]),
        ("spiqa-extract", ["--model", "/nonexistent-model", "--task", "sst2", "-o", Self.temp(".npy")]),
      ] {
        let r = try Self.run(name, base + args)
        #expect(r.status == 64, "\(name) \(args): \(r.stderr)")
        let flag = args.first { $0.hasPrefix("--transform") || $0 == "--ablate" } ?? "?"
        #expect(r.stderr.contains(flag) || r.stderr.contains("--ablate"), "\(name) \(args): \(r.stderr)")
      }
    }
  }

  @Test func quantizeSelectsByModelIndexAndAblates() throws {
    let input = Self.temp(".npy"), output = Self.temp(".npy")
    defer {
      try? FileManager.default.removeItem(atPath: input)
      try? FileManager.default.removeItem(atPath: output)
    }
    let x = try Self.writeInput(input)
    // Model layer 3 = position 1, model head 2 = position 1: only block [1, 1] is zeroed.
    var r = try Self.run("spiqa-quantize", [input, "--transform-layers", "3", "--transform-heads", "2", "--ablate",
                                             "-o", output, "-q"])
    #expect(r.status == 0, "\(r.stderr)")
    let (meta, got) = try #require(try Self.attention(output).first)
    var expected = x
    for i in (3 * 9)..<(4 * 9) { expected[i] = 0 }
    #expect(got == expected)
    #expect(meta["transform_layers"] == [3] && meta["transform_heads"] == [2] && meta["ablate"] == true)
    // Pruning only layer 1 (position 0): layer 3 passes through.
    r = try Self.run("spiqa-quantize", [input, "--transform-layers", "1", "--threshold", "0.3", "-o", output, "-q"])
    #expect(r.status == 0, "\(r.stderr)")
    let pruned = try #require(try Self.attention(output).first).1
    #expect(Array(pruned[18...]) == Array(x[18...]))
    #expect(Array(pruned[..<18]) == x[..<18].map { $0 > 0.3 ? $0 : 0 })
    // Indices the record does not hold.
    for args in [["--transform-layers", "2"], ["--transform-heads", "1"]] {
      r = try Self.run("spiqa-quantize", [input, "--threshold", "0.1", "-o", output] + args)
      #expect(r.status == 64, "\(args): \(r.stderr)")
      #expect(r.stderr.contains(args[0]), "\(r.stderr)")
    }
  }

  static func writeMask(_ values: [UInt8], shape: [Int]) throws -> String {
    let path = temp("-mask.npy")
    try Data(NPY.encode(NPYArray(uint8: values, shape: shape))).write(to: URL(fileURLWithPath: path))
    return path
  }

  @Test func maskFileSelectsPerLayerAndIsChecked() throws {
    let input = Self.temp(".npy"), output = Self.temp(".npy")
    defer {
      try? FileManager.default.removeItem(atPath: input)
      try? FileManager.default.removeItem(atPath: output)
    }
    let x = try Self.writeInput(input)
    // Model layers 0-3, heads 0-2: layer 1 head 0 and layer 3 head 2 (record positions [0, 0] and [1, 1]).
    var m = [UInt8](repeating: 0, count: 12)
    m[1 * 3 + 0] = 1
    m[3 * 3 + 2] = 1
    let mask = try Self.writeMask(m, shape: [4, 3])
    defer { try? FileManager.default.removeItem(atPath: mask) }
    var r = try Self.run("spiqa-quantize", [input, "--transform-mask", mask, "--ablate", "-o", output, "-q"])
    #expect(r.status == 0, "\(r.stderr)")
    let (meta, got) = try #require(try Self.attention(output).first)
    var expected = x
    for i in 0..<9 { expected[i] = 0 }
    for i in 27..<36 { expected[i] = 0 }
    #expect(got == expected)
    #expect(meta["transform_mask"] == [[0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]])
    // Errors: values other than 0/1, a 1-D array, all zeros (64), no file (74), combined with lists, smaller than
    // the record.
    let bad = [(try Self.writeMask([0, 2], shape: [1, 2]), 64), (try Self.writeMask([1, 0], shape: [2]), 64),
               ("/nonexistent/mask.npy", 74), (try Self.writeMask([0, 0], shape: [1, 2]), 64)]
    defer { for (path, _) in bad { try? FileManager.default.removeItem(atPath: path) } }
    for (path, status) in bad {
      r = try Self.run("spiqa-quantize", [input, "--transform-mask", path, "--ablate", "-o", output])
      #expect(r.status == Int32(status), "\(path): \(r.stderr)")
      #expect(r.stderr.contains("--transform-mask"), "\(r.stderr)")
    }
    r = try Self.run("spiqa-quantize", [input, "--transform-mask", mask, "--transform-layers", "1", "-o", output])
    #expect(r.status == 64, "\(r.stderr)")
    let small = try Self.writeMask([1, 1], shape: [1, 2])
    defer { try? FileManager.default.removeItem(atPath: small) }
    r = try Self.run("spiqa-quantize", [input, "--transform-mask", small, "--threshold", "0.1", "-o", output])
    #expect(r.status == 64, "\(r.stderr)")
    #expect(r.stderr.contains("--transform-mask"), "\(r.stderr)")
    // eval: a mask of the wrong shape for the model (6 layers, 12 heads).
    if let model = Self.sst2Model, let data = Self.sst2Data {
      let e = try Self.run("spiqa-eval", ["--model", model, "--task", "sst2", "--data", data, "--limit", "2", "--quiet",
                                          "--transform-mask", mask, "--ablate"])
      #expect(e.status == 64, "\(e.stderr)")
      #expect(e.stderr.contains("--transform-mask"), "\(e.stderr)")
    }
  }

  @Test func evalAndExtractCheckTheModelAndRecordTheSelection() throws {
    let model = try #require(Self.sst2Model), data = try #require(Self.sst2Data)
    let base = ["--model", model, "--task", "sst2", "--data", data, "--limit", "4", "--quiet"]
    for args in [["--transform-layers", "6"], ["--transform-heads", "12"]] {
      let e = try Self.run("spiqa-eval", base + args + ["--threshold", "0.01"])
      #expect(e.status == 64, "\(args): \(e.stderr)")
      #expect(e.stderr.contains(args[0]), "\(e.stderr)")
      let x = try Self.run("spiqa-extract", base + args + ["--threshold", "0.01", "-o", Self.temp(".npy")])
      #expect(x.status == 64, "\(args): \(x.stderr)")
      #expect(x.stderr.contains(args[0]), "\(x.stderr)")
    }
    let e = try Self.run("spiqa-eval", base + ["--transform-layers", "0-5", "--transform-heads", "0-11", "--ablate"])
    #expect(e.status == 0, "\(e.stderr)")
    let line = try #require(try JSONValue(parsing: Array(e.stdout)).objectValue)
    #expect(line["transform_layers"] == [0, 1, 2, 3, 4, 5] && line["ablate"] == true)
    #expect(line["sparsity"]?.doubleValue == 1)  // every head of every layer is zero
    let plain = try Self.run("spiqa-eval", base)
    let plainLine = try #require(try JSONValue(parsing: Array(plain.stdout)).objectValue)
    #expect(plainLine["transform_layers"] == nil && plainLine["ablate"] == nil)

    let out = Self.temp(".npy")
    defer { try? FileManager.default.removeItem(atPath: out) }
    let x = try Self.run("spiqa-extract", base + ["--transform-layers", "1", "--transform-heads", "0,2", "--ablate",
                                                  "--layers", "1", "-o", out])
    #expect(x.status == 0, "\(x.stderr)")
    let (meta, values) = try #require(try Self.attention(out).first)
    #expect(meta["transform_layers"] == [1] && meta["transform_heads"] == [0, 2] && meta["ablate"] == true)
    let n = try #require(meta["n"]?.intValue)
    let tt = values.count / 12
    for h in 0..<12 {
      let block = values[(h * tt)..<((h + 1) * tt)]
      #expect(block.allSatisfy { $0 == 0 } == (h == 0 || h == 2), "head \(h), n \(n)")
    }
  }
}
