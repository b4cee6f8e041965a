import SpiqaCore
import Foundation
import SpiqaIO
import SpiqaTestSupport
import Testing

/// `spiqa-extract` end to end: the built binary against transformers fixtures, numpy, errors and pipes.
@Suite(.enabled(if: ExtractCLI.binary != nil, "spiqa-extract is not built next to the test bundle"))
struct ExtractCLITests {
  /// The model-running tests (small: 5 sentences, 2 questions).
  @Suite(.enabled(if: ExtractCLI.canRunModel, "needs all-MiniLM-L6-v2 (make setup / SPIQA_MODEL) and ../shared data (SPIQA_SHARED)"))
  struct WithModel {
    let model = ExtractCLI.model ?? ""

    @Test func sst2AttentionTokensAndHiddenStatesMatchTransformers() throws {
      let dir = try ExtractCLI.tempDir()
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let out = dir + "/sst2.npy"
      let r = try ExtractCLI.run([
        "--model", model, "--task", "sst2", "--data", ExtractCLI.sst2 ?? "", "--limit", "5", "--tokens",
        "--hidden-states", "--no-gzip", "-q", "--output", out,
      ])
      #expect(r.status == 0, "\(r.stderr)")
      let fx = try ExtractCLIFixture("sst2")
      let stream = try ExtractCLI.read(out)
      #expect(stream.headers.count == 1)
      let h = try #require(stream.headers.first)
      #expect(h["producer"] == "spiqa-extract")
      #expect(h["task"] == "sst2")
      #expect(h["model"]?.objectValue?["layers"] == 6)
      let attention = stream.tensors.filter { $0.meta["kind"] == "attention" }
      let hidden = stream.tensors.filter { $0.meta["kind"] == "hidden_states" }
      #expect(attention.count == 5 && hidden.count == 5)
      // Each hidden-state record follows the attention record of the same sentence.
      for i in stride(from: 0, to: stream.tensors.count - 1, by: 2) {
        #expect(stream.tensors[i].meta["kind"] == "attention")
        #expect(stream.tensors[i + 1].meta["example_id"] == stream.tensors[i].meta["example_id"])
      }
      var err: Float = 0
      #expect(fx.records.count == attention.count)
      for (rec, t) in zip(fx.records, attention) {
        let n = try #require(rec["n"] as? Int)
        #expect(t.meta["example_id"]?.stringValue == rec["example_id"] as? String)
        #expect(t.meta["n"]?.intValue == n)
        #expect(t.meta["shape"]?.intArray == [6, 12, n, n])
        #expect(t.meta["token_ids"]?.intArray == rec["ids"] as? [Int], "tokenizer differs from transformers")
        #expect(t.meta["tokens"]?.stringArray?.first == "[CLS]")
        #expect(t.meta["threshold"] == 0.0 && t.meta["method"] == .null && t.meta["bits"] == .null)
        err = max(err, try fx.maxError(record: rec, values: t.values))
      }
      #expect(err <= 1e-5, "max abs attention error \(err)")
      #expect(hidden.count == fx.records.count)
      for (rec, t) in zip(fx.records, hidden) where rec["hidden"] as? Bool == true {
        let ref = try fx.array(try #require(rec["key"] as? String) + ".hidden")
        #expect(t.shape == [7, try #require(rec["n"] as? Int), 384])
        var e: Float = 0
        for i in ref.indices { e = max(e, abs(ref[i] - t.values[i]) / max(1, abs(ref[i]))) }
        #expect(e <= 1e-4, "hidden states: max relative error \(e)")
      }
    }

    @Test func squadFeaturesMatchTransformers() throws {
      let fx = try ExtractCLIFixture("squad")
      var err: Float = 0
      var seen = 0
      for index in Set(fx.records.compactMap { $0["example_index"] as? Int }).sorted() {
        let r = try ExtractCLI.run([
          "--model", model, "--task", "squad", "--data", ExtractCLI.squad ?? "", "--offset", "\(index)", "--limit", "1",
          "-q",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let stream = RecordReader(bytes: [UInt8](r.stdout), source: "stdout")
        while let rec = try stream.next() {
          guard case .tensor(let meta, let array) = rec else { continue }
          let ref = try #require(fx.records.first {
            $0["example_index"] as? Int == index && $0["feature"] as? Int == meta["feature"]?.intValue
          })
          #expect(meta["example_id"]?.stringValue == ref["example_id"] as? String)
          err = max(err, try fx.maxError(record: ref, values: try array.floats()))
          seen += 1
        }
      }
      #expect(seen == fx.records.count)
      #expect(err <= 1e-5, "max abs attention error \(err)")
    }

    @Test func pruningAndQuantizationAreAppliedOnTheFly() throws {
      let r = try ExtractCLI.run([
        "--model", model, "--task", "sst2", "--data", ExtractCLI.sst2 ?? "", "--limit", "5", "-at", "0.05", "-aq", "3",
        "--dtype", "f16", "-q",
      ])
      #expect(r.status == 0, "\(r.stderr)")
      let fx = try ExtractCLIFixture("sst2-pruned")
      let stream = RecordReader(bytes: [UInt8](r.stdout), source: "stdout")
      var err: Float = 0
      var i = 0
      while let rec = try stream.next() {
        guard case .tensor(let meta, let array) = rec else { continue }
        #expect(array.dtype == .float16)
        #expect(meta["dtype"] == "f2" && meta["threshold"] == 0.05 && meta["bits"] == 3)
        #expect(meta["method"] == "linear_slog_clamped_midval")
        err = max(err, try fx.maxError(record: fx.records[i], values: try array.floats()))
        i += 1
      }
      #expect(i == 5)
      // f16 payload: quantized levels are rounded to half precision (relative 2^-11).
      #expect(err <= 5e-4, "max abs error \(err)")
    }

    /// `--trim-padding` runs a question under binarization, a clamped mean or uniform_slog_mean (whose statistics
    /// then count the padding's zeros without it: these questions' padding is most of the scope) padded to its
    /// longest feature, not 320: the same records (ids, shapes) with values moved by float rounding only, which now
    /// and then moves one into another bin; the header says so. Exact attention trims anyway. uniform_slog_mean keeps
    /// 320 where the padding is not most of the scope: there the flag changes no bit.
    @Test func trimPaddingKeepsTheRecordsOfQuantizedQuestions() throws {
      // The first 4 questions: one feature each, 168–171 tokens (a question of several features has one of 320).
      func extract(_ args: [String], questions: [String] = ["--limit", "4"]) throws
        -> (header: JSONObject, tensors: [(meta: JSONObject, values: [Float], shape: [Int])])
      {
        let dir = try ExtractCLI.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try ExtractCLI.run([
          "--model", model, "--data", ExtractCLI.squad ?? "", "--layers", "0,5", "-q", "-o", dir + "/s.npy.gz",
        ] + questions + args)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        let s = try ExtractCLI.read(dir + "/s.npy.gz")
        return (try #require(s.headers.first), s.tensors)
      }
      func featurization(_ h: JSONObject) -> JSONObject { h["featurization"]?.objectValue ?? [:] }
      for method in [
        ["--method", "uniform_slog_clamped_mean", "--bits", "3"], ["--method", "binarization"],
        ["--method", "uniform_slog_mean", "--bits", "3"],
      ] {
        let padded = try extract(method), trimmed = try extract(method + ["--trim-padding"])
        #expect(featurization(padded.header)["padding"] == "max_seq_len")
        let padding: JSONValue = method[1] == "uniform_slog_mean" ? "longest_or_max_seq_len" : "longest"
        #expect(featurization(trimmed.header)["padding"] == padding && featurization(trimmed.header)["trim_padding"] == true)
        #expect(padded.tensors.count == 4 && trimmed.tensors.count == 4, "\(method)")
        var moved = 0, total = 0
        for (a, b) in zip(padded.tensors, trimmed.tensors) {
          for key in ["example_id", "feature", "shape", "method", "bits"] { #expect(a.meta[key] == b.meta[key], "\(method) \(key)") }
          #expect(a.shape == b.shape)
          total += a.values.count
          moved += zip(a.values, b.values).filter { abs($0 - $1) > 1e-4 }.count
        }
        #expect(total > 0 && moved * 100 <= total, "\(method): \(moved) of \(total) values moved by more than 1e-4")
      }
      let plain = try extract([]), asked = try extract(["--trim-padding"])
      #expect(featurization(plain.header) == featurization(asked.header))
      #expect(plain.tensors.map(\.values) == asked.tensors.map(\.values))
      // Question 249 (one feature of 259 tokens: its padding to 320 is 35% of the scope) and 250 (two features, 320
      // and 298): uniform_slog_mean runs them at 320 with or without the flag, per question and per feature.
      for scope in ["batch", "record"] {
        let method = ["--method", "uniform_slog_mean", "--bits", "3", "--scope", scope]
        let kept = try extract(method, questions: ["--offset", "249", "--limit", "2"])
        let asked = try extract(method + ["--trim-padding"], questions: ["--offset", "249", "--limit", "2"])
        #expect(kept.tensors.count == 3 && kept.tensors.map(\.values) == asked.tensors.map(\.values), "\(scope)")
      }
    }

    @Test(.enabled(if: TestPython.hasNumpy, "python3 with numpy is not available"))
    func numpyReadsTheGzipStream() throws {
      let python = try #require(TestPython.executable)
      let dir = try ExtractCLI.tempDir()
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let out = dir + "/s.npy.gz"
      let r = try ExtractCLI.run([
        "--model", model, "--task", "sst2", "--data", ExtractCLI.sst2 ?? "", "--limit", "3", "--layers", "0,5",
        "--heads", "1-2", "-q", "-o", out,
      ])
      #expect(r.status == 0, "\(r.stderr)")
      let script = """
        import gzip, json, sys, numpy as np
        f = gzip.open(sys.argv[1]); out = []
        while True:
            try: a = np.load(f)
            except EOFError: break
            out.append(a)
        h = json.loads(out[0].tobytes()); assert h["kind"] == "stream", h
        for m, t in zip(out[1::2], out[2::2]):
            m = json.loads(m.tobytes())
            assert m["kind"] == "attention" and list(t.shape) == m["shape"] and t.dtype == np.float32, (m, t.shape)
            assert t.shape[:2] == (2, 2) and m["layers"] == [0, 5] and m["heads"] == [1, 2]
            assert np.all(t >= 0) and np.allclose(t.sum(-1), 1, atol=1e-5)
        print(len(out))
        """
      let py = try runProcess(python, ["-c", script, out])
      #expect(py.status == 0, "\(py.stderr)")
      #expect(py.text.trimmingCharacters(in: .whitespacesAndNewlines) == "7")
    }

    @Test func brokenPipeExitsQuietly() throws {
      let r = try ExtractCLI.run(
        ["--model", model, "--task", "sst2", "--data", ExtractCLI.sst2 ?? "", "--limit", "60", "--no-gzip"],
        readLimit: 1000)
      #expect(r.stdout.count == 1000)
      #expect((r.signaled && r.status == SIGPIPE) || (!r.signaled && (r.status == 0 || r.status == 141)))
      #expect(!r.stderr.contains("spiqa-extract: "), "stderr: \(r.stderr)")
      #expect(!r.stderr.contains("rror"), "stderr: \(r.stderr)")
    }
  }

  @Test(.enabled(if: ExtractCLI.squad != nil && ExtractCLI.model != nil, "needs ../shared SQuAD dev and the model"))
  func samples100AreThePapersQuestions() throws {
    let fx = try ExtractCLIFixture("squad")
    let expected = try #require(fx.meta["sample100"] as? [Int])
    let r = try ExtractCLI.run(["--model", ExtractCLI.model ?? "", "--data", ExtractCLI.squad ?? "", "--samples", "100", "--list"])
    #expect(r.status == 0, "\(r.stderr)")
    let rows = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").dropFirst()
    var order: [Int] = []
    for row in rows {
      let index = try #require(Int(row.split(separator: "\t")[0]))
      if order.last != index { order.append(index) }
    }
    #expect(order == expected)
    #expect(Array(expected.prefix(3)) == [857, 4385, 1428])
  }

  @Test func unwritableOutputFailsBeforeAnyWork() throws {
    // A model path that does not exist: the output must be rejected first (exit 74 naming the output).
    let r = try ExtractCLI.run(["--model", "/nonexistent/model", "--output", "/nonexistent/dir/out.npy.gz"])
    #expect(r.status == 74)
    #expect(r.stderr.contains("/nonexistent/dir/out.npy.gz"), "\(r.stderr)")
    #expect(!r.stderr.contains("/nonexistent/model"))
  }

  @Test func missingModelIsAnIOError() throws {
    let dir = try ExtractCLI.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try ExtractCLI.run(["--model", dir, "--list"])
    #expect(r.status == 74)
    #expect(r.stderr.hasPrefix("spiqa-extract: "), "\(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1)
  }

  @Test(arguments: [
    ["--dtype", "f8"], ["--task", "wiki"], ["--method", "log", "--bits", "0"], ["--method", "log-pruned"], ["--method", "nope", "--bits", "3"],
    ["--layers", "3-1"], ["--samples", "5", "--limit", "2"], ["--threshold", "1.5"], ["--scope", "row"],
    ["--hs-bits", "3"],
  ])
  func badFlagValuesAreUsageErrors(_ args: [String]) throws {
    let r = try ExtractCLI.run(args + ["--list"])
    #expect(r.status == 64, "\(args): \(r.stderr)")
  }
}
