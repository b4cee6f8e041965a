import ArgumentParser
import Foundation
import SpiqaCore
import SpiqaCLI
import SpiqaIO
import SpiqaModel
import SpiqaTasks

#if canImport(Glibc)
import Glibc
#endif

/// `spiqa-bench extract`: sequences/s of spiqa-extract's pipeline (model + attention hook + record writer) on
/// ~230-token SQuAD features with all-MiniLM-L6-v2, per output setting, and peak RSS of the spiqa-extract binary for
/// few vs many features. scripts/bench_extract.py runs PyTorch on the same inputs and prints the ratios.
struct ExtractBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "extract", abstract: "spiqa-extract throughput (seq/s per compression) and peak RSS (10 vs 1000 features).")

  @Option(help: "Sequences to time per setting.") var sequences = 48
  @Option(help: "Real tokens per sequence: features with n in [tokens-10, tokens+10].") var tokens = 230
  @Option(help: "Compute threads.") var threads = 2
  @Option(help: "Features for the large RSS run (0 = skip the RSS runs).") var rssFeatures = 1000
  @Option(help: "Features for the small RSS run.") var rssSmall = 10

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    let env = ProcessInfo.processInfo.environment
    let out = env["BENCH_OUT"] ?? "bench-out"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let modelPath = try DefaultPaths.resolveModel(env["SPIQA_MODEL"])
    let squadPath = try DefaultPaths.resolveData(nil, task: "squad")
    let tokenizer = try loadTaskTokenizer(directory: modelPath)
    let squad = try SquadDataset(path: squadPath)
    let inputs = try Self.selectFeatures(squad: squad, tokenizer: tokenizer, count: sequences, tokens: tokens)
    let meanN = Double(inputs.map(\.count).reduce(0, +)) / Double(max(1, inputs.count))
    print("extract bench: \(inputs.count) SQuAD features, mean n = \(String(format: "%.1f", meanN)), "
      + "model \(modelPath), \(threads) threads, OpenBLAS kernel \(OpenBLASRuntime.coreName)")
    let checkpoint = try Checkpoint(directory: modelPath)
    var results: [String: JSONValue] = ["sequences": .int(inputs.count), "mean_n": .double(meanN)]
    let settings: [(String, StreamCompression?, NPYDType)] = [
      ("model only (no output)", nil, .float32),
      ("f32 uncompressed (--no-gzip)", StreamCompression.none, .float32),
      ("f32 default (fast: level 1 Huffman)", .fast, .float32),
      ("f32 gzip level 6", try StreamCompression(parsing: "6"), .float32),
      ("f16 default (fast)", .fast, .float16),
    ]
    let keys = ["model_only", "plain", "fast", "gzip6", "f16_fast"]
    print(String(repeating: "-", count: 78))
    print(pad("setting", 40) + pad("seq/s", 10) + pad("MB/s out", 12) + "bytes")
    for ((label, compression, dtype), key) in zip(settings, keys) {
      var options = ExtractionOptions()
      options.dtype = dtype
      let extractor = try AttentionExtractor(checkpoint: checkpoint, options: options, maxBatch: 1, maxSeqLen: 320)
      extractor.threads = threads
      try extractor.run(ExtractionGroup(sequences: [inputs[0]])) { _ in }  // warm-up
      let path = out + "/extract-\(key).npy" + ((compression?.level ?? 0) > 0 ? ".gz" : "")
      let writer = try compression.map { try RecordWriter(path: path, compression: $0) }
      try writer?.writeHeader(["producer": "spiqa-bench extract"])
      var payload = 0
      let t0 = Date()
      for seq in inputs {
        try extractor.run(ExtractionGroup(sequences: [seq])) { f in
          payload += f.attention.count * dtype.itemSize
          try writer?.write(
            meta: extractor.attentionMeta(f, tokens: nil), floats: f.attention, shape: f.attentionShape, dtype: dtype)
        }
      }
      try writer?.close()
      let seconds = Date().timeIntervalSince(t0)
      let attributes = try? FileManager.default.attributesOfItem(atPath: path)
      let bytes = (attributes?[.size] as? Int) ?? 0
      try? FileManager.default.removeItem(atPath: path)
      let rate = Double(inputs.count) / seconds
      print(pad(label, 40) + pad(String(format: "%.2f", rate), 10)
        + pad(String(format: "%.0f", Double(payload) / 1e6 / seconds), 12) + (writer == nil ? "-" : "\(bytes)"))
      results[key] = .double(rate)
    }
    if rssFeatures > 0 {
      // Peak RSS follows the largest record (a 320-token feature holds 29 MB of f32 attention), so the small run
      // starts at the first question with a full-length feature: both runs then hold the same largest record
      // and the ratio shows growth with the number of features alone.
      let featurizer = SquadFeaturizer()
      var offset = 0
      for q in squad.questions.prefix(rssFeatures) {
        let ex = try featurizer.featurize(question: q.question, context: q.context, tokenizer: tokenizer)
        if ex.features.contains(where: { $0.length == featurizer.maxSeqLen }) { offset = q.index; break }
      }
      try measureRSS(modelPath: modelPath, squad: squadPath, smallOffset: offset, into: &results)
    }
    let json = JSONValue.object(results)
    try Data(json.jsonBytes).write(to: URL(fileURLWithPath: out + "/extract-swift.json"))
    print("(numbers saved to \(out)/extract-swift.json; scripts/bench_extract.py prints the PyTorch comparison)")
  }

  /// Peak RSS of `spiqa-extract` (the binary beside this one) over SQuAD slices of `rssSmall` questions from
  /// `smallOffset` and of the first `rssFeatures` questions, written uncompressed to /dev/null.
  private func measureRSS(modelPath: String, squad: String, smallOffset: Int, into results: inout [String: JSONValue])
    throws
  {
    guard let exe = DefaultPaths.executablePath() else { return }
    let tool = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("spiqa-extract").path
    guard FileManager.default.isExecutableFile(atPath: tool) else {
      print("peak RSS: skipped (\(tool) not built)")
      return
    }
    print(String(repeating: "-", count: 78))
    var rss: [Int] = [], anon: [Int] = []
    for (questions, offset) in [(rssSmall, smallOffset), (rssFeatures, 0)] {
      let args = [tool, "--model", modelPath, "--data", squad, "--offset", "\(offset)", "--limit", "\(questions)",
                  "--no-gzip", "-q", "--threads", "\(threads)", "--output", "/dev/null"]
      let t0 = Date()
      let (status, kb, anonKB) = try Self.spawnMeasuringRSS(args)
      let seconds = Date().timeIntervalSince(t0)
      guard status == 0 else {
        print("peak RSS run failed (exit \(status)): \(args.joined(separator: " "))")
        return
      }
      rss.append(kb)
      anon.append(anonKB)
      print("spiqa-extract --offset \(offset) --limit \(questions) (≥ \(questions) features): peak RSS "
        + "\(String(format: "%.1f", Double(kb) / 1024)) MB (anonymous \(String(format: "%.1f", Double(anonKB) / 1024)) MB), "
        + "\(String(format: "%.1f", seconds)) s")
      results["rss_kb_\(questions)"] = .int(kb)
      results["rss_anon_kb_\(questions)"] = .int(anonKB)
    }
    try measureLongLines(tool: tool, modelPath: modelPath, squad: squad, into: &results)
    if rss.count == 2 {
      // The file-backed part is the memory-mapped checkpoint: more questions touch more rows of the embedding
      // table (clean page cache, bounded by the file). Anonymous memory is what the tool allocates.
      print("peak RSS ratio large/small: \(String(format: "%.3f", Double(rss[1]) / Double(rss[0]))) "
        + "(anonymous memory: \(String(format: "%.3f", Double(anon[1]) / Double(max(anon[0], 1)))); the rest is "
        + "the memory-mapped checkpoint's pages, more embedding rows touched by more questions)")
    }
  }

  /// Peak RSS of `spiqa-extract --task text` on the 24 longest SQuAD dev contexts, one line each (cut to the model's
  /// 512 tokens: each record `[6, 12, 512, 512]` f32 is 75 MB, streamed to the writer layer by layer), gzip `fast`
  /// to /dev/null. Target ≤ 200 MB (docs/extract.md: 238 MB when records were assembled in memory, 632 MB before).
  private func measureLongLines(tool: String, modelPath: String, squad: String, into results: inout [String: JSONValue])
    throws
  {
    let dataset = try SquadDataset(path: squad)
    var contexts = Array(Set(dataset.questions.map(\.context)))
    contexts.sort { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    let lines = contexts.prefix(24).map { $0.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ") }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-bench-long-\(getpid()).txt").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let args = [tool, "--model", modelPath, "--task", "text", "--data", path, "-q", "--threads", "\(threads)",
                "--output", "/dev/null"]
    let t0 = Date()
    let (status, kb, anonKB) = try Self.spawnMeasuringRSS(args)
    guard status == 0 else {
      print("long-line peak RSS run failed (exit \(status)): \(args.joined(separator: " "))")
      return
    }
    print("spiqa-extract --task text, the 24 longest SQuAD contexts (512-token records of 75 MB): peak RSS "
      + "\(String(format: "%.1f", Double(kb) / 1024)) MB (anonymous \(String(format: "%.1f", Double(anonKB) / 1024)) MB), "
      + "\(String(format: "%.1f", Date().timeIntervalSince(t0))) s; target ≤ 200 MB, 238 MB with records assembled in memory")
    results["rss_kb_long_lines"] = .int(kb)
  }

  /// Runs `argv` and returns its exit status and peak resident set (KB): the child's `VmHWM` from /proc, polled
  /// every 10 ms until it exits (`wait4`'s ru_maxrss would include this process's own footprint, which Linux carries
  /// across the child's exec).
  static func spawnMeasuringRSS(_ argv: [String]) throws -> (status: Int32, peakKB: Int, peakAnonKB: Int) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    try p.run()
    let status = "/proc/\(p.processIdentifier)/status"
    var peak = 0, peakAnon = 0
    func field(_ text: String, _ name: String) -> Int? {
      guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return nil }
      return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    while p.isRunning {
      if let text = try? String(contentsOfFile: status, encoding: .utf8) {
        peak = max(peak, field(text, "VmHWM:") ?? 0)
        peakAnon = max(peakAnon, field(text, "RssAnon:") ?? 0)
      }
      usleep(10_000)
    }
    p.waitUntilExit()
    return (p.terminationStatus, peak, peakAnon)
  }

  /// The first `count` SQuAD questions (data order) with exactly one feature of `tokens ± 10` real tokens.
  static func selectFeatures(squad: SquadDataset, tokenizer: TaskTokenizer, count: Int, tokens: Int) throws
    -> [ExtractionSequence]
  {
    let featurizer = SquadFeaturizer()
    var out: [ExtractionSequence] = []
    for q in squad.questions where out.count < count {
      let ex = try featurizer.featurize(question: q.question, context: q.context, tokenizer: tokenizer)
      guard ex.features.count == 1, let f = ex.features.first, abs(f.length - tokens) <= 10 else { continue }
      out.append(
        ExtractionSequence(
          exampleId: q.id, exampleIndex: q.index, feature: 0, ids: Array(f.inputIds.prefix(f.length)),
          tokenTypes: tokenizer.layout == .bert ? Array(f.tokenTypeIds.prefix(f.length)) : nil))
    }
    return out
  }
}

private func pad(_ s: String, _ width: Int) -> String {
  s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}
