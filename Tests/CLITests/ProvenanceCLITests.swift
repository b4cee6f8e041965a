import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaTestSupport
import Testing

/// Provenance in every result (docs/cli.md, "Result keys"): the build, the checkpoint and the data by content, and
/// for replay what was done to the replayed attention; and the progress line's label.
@Suite(.enabled(if: EvalCLI.canRunModels && EvalCLI.tool("spiqa-extract") != nil && EvalCLI.tool("spiqa-quantize") != nil,
                "needs the built tools and ../shared models/data (SPIQA_SHARED)"))
struct ProvenanceCLITests {
  static let keys: Set<String> = [
    "tool", "version", "commit", "model_path", "model_id", "weights_file", "weights_sha256", "data_path", "data_sha256",
    "compute",
  ]

  /// `compute` names OpenBLAS with its kernel, the C kernels' level and the P·V kernel `auto` resolved to.
  func expectCompute(_ p: JSONObject, kernels: Set<String> = ["avx512", "avx2", "portable"], product: Set<String>) {
    let c = p["compute"]?.objectValue ?? [:]
    #expect(Set(c.keys) == ["blas", "kernels", "attention_product"], "\(c)")
    #expect(c["blas"]?.stringValue?.hasPrefix("OpenBLAS 0.") == true, "\(c)")
    #expect(kernels.contains(c["kernels"]?.stringValue ?? ""), "\(c)")
    #expect(product.contains(c["attention_product"]?.stringValue ?? ""), "\(c)")
    // auto: the row groups with AVX2 or AVX-512, sgemm otherwise.
    #expect((c["kernels"] == "portable") == (c["attention_product"] == "dense"), "\(c)")
  }

  /// The commit `--version` prints: `spiqa-eval 0.1.0 (commit X)`.
  func commit(_ tool: String) throws -> String {
    let v = try EvalCLI.run(tool, ["--version"])
    return String(try #require(v.text.split(separator: " ").last?.dropLast(2)))
  }

  @Test func evalAndExtractNameTheirCheckpointAndDataByContent() throws {
    let model = try #require(EvalCLI.squadModel)
    let data = try #require(EvalCLI.shared("data/squad/dev-v1.1.json"))
    let weightsHash = try #require(FileDigest.ofFile(model + "/model.safetensors", kind: .sha256))
    let dataHash = try #require(FileDigest.ofFile(data, kind: .sha256))
    let r = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    let p = try #require(r.json["provenance"]?.objectValue, "\(r.json)")
    #expect(Set(p.keys) == Self.keys)
    expectCompute(p, product: ["groups", "dense"])
    #expect(p["tool"] == "spiqa-eval")
    #expect(p["commit"]?.stringValue == (try commit("spiqa-eval")))
    #expect(p["weights_file"] == "model.safetensors")
    #expect(p["weights_sha256"]?.stringValue == weightsHash)
    #expect(p["data_sha256"]?.stringValue == dataHash)
    #expect(p["model_id"] == .null)
    #expect(p["model_path"]?.stringValue?.hasPrefix("/") == true)
    #expect(r.json["replayed"] == .null)
    // The progress summary is labelled with the tool's name.
    #expect(r.stderr.contains("spiqa-eval: 2/2 questions"), "\(r.stderr)")

    let stream = EvalCLI.temp(".npy.gz")
    defer { try? FileManager.default.removeItem(atPath: stream) }
    let x = try EvalCLI.run("spiqa-extract", ["--model", model, "--limit", "1", "-o", stream, "-q"])
    #expect(x.status == 0, "\(x.stderr)")
    let header = try #require(try ExtractCLI.read(stream).headers.first)
    let hp = try #require(header["provenance"]?.objectValue)
    #expect(Set(hp.keys) == Self.keys)
    expectCompute(hp, product: ["groups", "dense"])
    #expect(hp["tool"] == "spiqa-extract")
    #expect(hp["weights_sha256"]?.stringValue == weightsHash && hp["data_sha256"]?.stringValue == dataHash)
  }

  /// `SPIQA_MAX_ISA` caps the C kernels' level, and provenance says so; `--attention-product` is recorded as run.
  @Test func computeRecordsTheCappedKernelsAndTheProduct() throws {
    let model = try #require(EvalCLI.squadModel)
    let base = ["--model", model, "--limit", "2", "-q", "-at", "0.01"]
    let portable = try EvalCLI.run("spiqa-eval", base, environment: ["SPIQA_MAX_ISA": "Portable"])
    #expect(portable.status == 0, "\(portable.stderr)")
    expectCompute(try #require(portable.json["provenance"]?.objectValue), kernels: ["portable"], product: ["dense"])
    let sparse = try EvalCLI.run("spiqa-eval", base + ["--attention-product", "sparse"])
    #expect(sparse.status == 0, "\(sparse.stderr)")
    #expect(sparse.json["provenance"]?.objectValue?["compute"]?.objectValue?["attention_product"] == "sparse")
    // The same answers with the portable kernels and sgemm: float rounding only.
    #expect(portable.json["f1"] == sparse.json["f1"] && portable.json["em"] == sparse.json["em"])
    // spiqa-extract records with sgemm when asked for the sparse kernel, and says so.
    let stream = EvalCLI.temp(".npy.gz")
    defer { try? FileManager.default.removeItem(atPath: stream) }
    let x = try EvalCLI.run(
      "spiqa-extract", ["--model", model, "--limit", "1", "-at", "0.01", "--attention-product", "sparse", "-o", stream, "-q"])
    #expect(x.status == 0, "\(x.stderr)")
    let header = try #require(try ExtractCLI.read(stream).headers.first)
    #expect(header["provenance"]?.objectValue?["compute"]?.objectValue?["attention_product"] == "dense")
  }

  @Test func hubSnapshotsAreNamedByIdAndBlob() throws {
    let model = try #require(EvalCLI.squadModel)
    let root = EvalCLI.temp("-hub")
    defer { try? FileManager.default.removeItem(atPath: root) }
    // The cache layout (docs/checkpoints.md): the weights are a symlink to blobs/<sha256>. The blob's name is
    // taken as its hash (the download was verified against it), so a made-up name shows it is not recomputed.
    let blob = String(repeating: "ab", count: 32)
    let commit = String(repeating: "0123456789", count: 4)
    let repo = root + "/models--org--mini"
    let snapshot = repo + "/snapshots/" + commit
    let fm = FileManager.default
    try fm.createDirectory(atPath: repo + "/blobs", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
    try fm.copyItem(atPath: model + "/model.safetensors", toPath: repo + "/blobs/" + blob)
    try fm.createSymbolicLink(atPath: snapshot + "/model.safetensors", withDestinationPath: "../../blobs/" + blob)
    for f in try fm.contentsOfDirectory(atPath: model) where f != "model.safetensors" {
      try fm.copyItem(atPath: model + "/" + f, toPath: snapshot + "/" + f)
    }
    let r = try EvalCLI.run("spiqa-eval", ["--model", snapshot, "--limit", "1", "-q"])
    #expect(r.status == 0, "\(r.stderr)")
    let p = try #require(r.json["provenance"]?.objectValue, "\(r.json)")
    #expect(p["model_id"]?.stringValue == "org/mini@" + commit)
    #expect(p["weights_sha256"]?.stringValue == blob)
  }

  @Test func replayAndQuantizeSayWhatWasDone() throws {
    let model = try #require(EvalCLI.squadModel)
    let stream = EvalCLI.temp(".npy.gz")
    let quantized = EvalCLI.temp("-q.npy.gz")
    let report = EvalCLI.temp(".json")
    defer { for f in [stream, quantized, report] { try? FileManager.default.removeItem(atPath: f) } }
    let x = try EvalCLI.run("spiqa-extract", ["--model", model, "--limit", "2", "-at", "0.01", "-o", stream, "-q"])
    #expect(x.status == 0, "\(x.stderr)")
    let q = try EvalCLI.run("spiqa-quantize", [stream, "--bits", "3", "--dtype", "codes", "-o", quantized, "--report", report])
    #expect(q.status == 0, "\(q.stderr)")
    #expect(q.stderr.contains("spiqa-quantize: "), "\(q.stderr)")
    let rep = try #require(try JSONValue(parsing: Array(FileManager.default.contents(atPath: report) ?? Data())).objectValue)
    #expect(rep["provenance"]?.objectValue?["tool"] == "spiqa-quantize")
    #expect(rep["provenance"]?.objectValue?["input"]?.stringValue?.hasSuffix(".npy.gz") == true)
    let header = try #require(try ExtractCLI.read(quantized).headers.first)
    #expect(header["quantize"]?.objectValue?["provenance"]?.objectValue?["tool"] == "spiqa-quantize")
    #expect(header["provenance"]?.objectValue?["tool"] == "spiqa-extract")  // the run that made the attention

    let r = try EvalCLI.run("spiqa-eval", ["--model", model, "--limit", "2", "--replay", quantized, "-q"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.json["method"] == .null)  // nothing done on the fly
    let replayed = try #require(r.json["replayed"]?.objectValue, "\(r.json)")
    #expect(replayed["method"] == "linear_slog_clamped_midval")
    #expect(replayed["bits"] == .int(3))
    #expect(replayed["upstream"]?.objectValue?["threshold"]?.doubleValue == 0.01)
    // The stream's weights (spiqa-quantize keeps the recording's provenance) are the evaluated ones: no note.
    let weights = r.json["provenance"]?.objectValue?["weights_sha256"]
    #expect(weights != nil && replayed["model"]?.objectValue?["weights_sha256"] == weights)
    #expect(!r.stderr.contains("note:"), "\(r.stderr)")
  }

  /// Attention recorded from one checkpoint replayed into another: allowed, noted on stderr, and said in the result.
  @Test func replayFromOtherWeightsIsNoted() throws {
    let squad = try #require(EvalCLI.squadModel), sst2 = try #require(EvalCLI.sst2Model)
    let data = try #require(TestPaths.shared("data/glue/SST-2/dev.tsv"))
    let stream = EvalCLI.temp(".npy.gz")
    defer { try? FileManager.default.removeItem(atPath: stream) }
    let common = ["--task", "sst2", "--data", data, "--limit", "4", "-q"]
    let x = try EvalCLI.run("spiqa-extract", ["--model", squad, "-o", stream] + common)
    #expect(x.status == 0, "\(x.stderr)")
    let r = try EvalCLI.run("spiqa-eval", ["--model", sst2, "--replay", stream] + common)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("spiqa-eval: note: the replayed stream was recorded with other weights"), "\(r.stderr)")
    let recorded = r.json["replayed"]?.objectValue?["model"]?.objectValue?["weights_sha256"]?.stringValue
    let running = r.json["provenance"]?.objectValue?["weights_sha256"]?.stringValue
    #expect(recorded != nil && running != nil && recorded != running)
  }
}
