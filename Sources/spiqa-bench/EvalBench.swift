import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaModel
import SpiqaQuant
import SpiqaTasks

/// `spiqa-bench eval`: SQuAD questions per second of the whole evaluation (featurize, forward, decode, score)
/// with minilm-squad: exact attention, pruning, the paper's log-pruned quantizer at 2/3/4 bits and
/// (unless `--paper-only`) every quantizer, each as a multiple of the exact run's time measured in the same run —
/// at the reference's shapes (every feature padded to max_seq_len), and as `spiqa-eval --trim-padding` runs it
/// (padding trimmed and questions batched where the transform allows) against exact attention as spiqa-eval runs it.
struct EvalBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Measure SQuAD evaluation throughput (questions/s) with exact and quantized attention.")

  @Option(help: "QA checkpoint folder (default: models/minilm-squad in the shared data folder).")
  var model: String?

  @Option(help: "SQuAD v1.1 JSON (default: data/squad/dev-v1.1.json in the shared data folder).")
  var data: String?

  @Option(help: "Questions per measurement (the first N of the dev set, after one warm-up question).")
  var questions = 30

  @Option(help: "Threads for OpenBLAS and the element-wise kernels.")
  var threads = 2

  @Option(help: "Only the settings whose name contains this text (exact attention always runs, as the baseline).")
  var only: String?

  @Option(help: "Rounds over all settings; each setting's best time is reported.")
  var rounds = 3

  @Option(help: "Questions per chunk: the settings take turns chunk by chunk (the length-bucketed setting batches within a chunk).")
  var chunk = 5

  @Flag(help: "Only exact, pruning and log-pruned 2/3/4 bits (default: also every other quantizer at 3 bits, binarization at 1).")
  var paperOnly = false

  /// minilm-squad and SQuAD v1.1 dev (or the given ones), nil after a "skipped" line when either is missing.
  static func squadModelAndData(model: String?, data: String?, area: String) throws -> (String, String)? {
    let dir = model ?? DefaultPaths.sharedFolder() + "/models/minilm-squad"
    let path = try DefaultPaths.dataPath(data, task: "squad")
    guard FileManager.default.fileExists(atPath: dir + "/config.json"), FileManager.default.fileExists(atPath: path)
    else {
      print("\(area): skipped (no \(dir) or \(path); set SPIQA_SHARED)")
      return nil
    }
    return (dir, path)
  }

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    guard let (dir, path) = try Self.squadModelAndData(model: model, data: data, area: "eval") else { return }
    let dataset = try SquadDataset(path: path)
    let qs = Array(dataset.questions.prefix(max(1, questions) + 1))
    let tokenizer = try loadTaskTokenizer(directory: dir)
    // Room for the bucketed setting's 20 features (a grown encoder would restart the phase timings).
    let taskModel = try EncoderTaskModel(directory: dir, maxBatch: 20, maxSeqLen: 320)
    taskModel.encoder.threads = threads
    print("eval: OpenBLAS \(OpenBLASRuntime.coreName) kernel, \(ComputeBackend.kernelISA) C kernels, \(threads) threads, \(dir)")
    // The baseline is exact attention at the reference's shapes (every feature padded to max_seq_len, as every
    // quantized setting runs); "exact, padded to the longest" is what spiqa-eval runs for exact attention.
    var configs: [(String, AttentionTransform)] = [
      ("exact", .identity), ("exact, padded to the longest", .identity),
      ("exact, padded to the longest, 20 features per pass", .identity),
      ("threshold 0.01", AttentionTransform(threshold: 0.01)),
      ("threshold 0.01, sgemm P·V", AttentionTransform(threshold: 0.01)),
    ]
    for bits in [2, 3, 4] {
      let t = AttentionTransform(quantizer: try AttentionQuantizer(method: .linearSlogClampedMidval, bits: bits))
      configs.append(("log-pruned \(bits) bits", t))
      configs.append(("log-pruned \(bits) bits, sgemm P·V", t))
    }
    if !paperOnly {
      for m in QuantMethod.allCases where m != .linearSlogClampedMidval {
        let bits = m == .binarization ? 1 : 3
        configs.append(("\(m.rawValue) \(bits) bits", AttentionTransform(quantizer: try AttentionQuantizer(method: m, bits: bits))))
      }
    }
    // Each pruned or quantized setting also as `spiqa-eval --trim-padding` runs it: padding trimmed and several
    // questions' features per pass where the transform allows (`TaskSettings.evaluationTrimsPadding`,
    // `SquadEvalPlan`), against exact attention as spiqa-eval runs it.
    let asEval = ", --trim-padding"
    let evalBaseline = "exact, padded to the longest, 20 features per pass"
    configs += configs.filter { !$0.1.isIdentity && !$0.0.contains("sgemm P·V") }.map { ($0.0 + asEval, $0.1) }
    if let only {
      configs = configs.enumerated().filter {
        $0.offset == 0 || $0.element.0.contains(only) || ($0.element.0 == evalBaseline && only.contains("trim-padding"))
      }.map(\.element)
      if configs.contains(where: { $0.0.hasSuffix(asEval) }) && !configs.contains(where: { $0.0 == evalBaseline }) {
        configs.insert((evalBaseline, .identity), at: 1)
      }
    }
    // The VM's speed drifts by tens of percent from minute to minute, so the settings take turns on small chunks
    // of questions (`--chunk`, 5), each chunk measured `rounds` times per setting; a setting's time is the sum over chunks of
    // its best time on the chunk. Drift then hits every setting alike, and the ratios hold.
    let evaluators = configs.map { config -> SquadEvaluator in
      let ev = SquadEvaluator(model: taskModel, tokenizer: tokenizer, transform: config.1)
      ev.trimsPadding = config.0.contains("longest") || config.0.hasSuffix(asEval)
      ev.trimsQuantized = config.0.hasSuffix(asEval)
      // What spiqa-eval runs for exact attention: several questions' features per pass, sorted by length.
      ev.featureBatch = config.0.contains("features per pass") || config.0.hasSuffix(asEval) ? 20 : 1
      // "sgemm P·V": the transformed block multiplied by sgemm, as the reference; the others run the default
      // (`auto`: the row-groups kernel with AVX-512). Exact attention has no zeros to skip and runs sgemm.
      ev.productKernel = config.0.contains("sgemm P·V") ? .dense : .auto
      return ev
    }
    for ev in evaluators { _ = try ev.evaluate(Array(qs.prefix(1))) }  // warm-up
    let measured = Array(qs.dropFirst())
    var best = [Double](repeating: 0, count: configs.count)
    var bestCPU = [Double](repeating: 0, count: configs.count)
    var em = [Double](repeating: 0, count: configs.count)
    var f1 = [Double](repeating: 0, count: configs.count)
    // Forward-pass phase times summed over every run of a setting: attention (QKᵀ, softmax, the hooks, P·V) vs
    // the rest, to see where a quantizer's cost goes.
    taskModel.encoder.collectTimings = true
    var attentionSeconds = [Double](repeating: 0, count: configs.count)
    var forwardSeconds = [Double](repeating: 0, count: configs.count)
    var forwards = [Int](repeating: 0, count: configs.count)
    var start = 0
    while start < measured.count {
      let chunk = Array(measured[start..<min(start + max(1, self.chunk), measured.count)])
      var wall = [Double](repeating: .infinity, count: configs.count)
      var cpu = [Double](repeating: .infinity, count: configs.count)
      var scores = [(em: Double, f1: Double)](repeating: (0, 0), count: configs.count)
      for _ in 0..<max(1, rounds) {
        for (i, ev) in evaluators.enumerated() {
          let before = taskModel.encoder.timings
          let t0 = DispatchTime.now().uptimeNanoseconds
          let c0 = QuantBench.selfCPU()
          let r = try ev.evaluate(chunk)
          let after = taskModel.encoder.timings
          attentionSeconds[i] += after.attention - before.attention
          forwardSeconds[i] += after.total - before.total
          forwards[i] += after.forwards - before.forwards
          wall[i] = min(wall[i], Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
          cpu[i] = min(cpu[i], QuantBench.selfCPU() - c0)
          scores[i] = (r.em * Double(r.n), r.f1 * Double(r.n))
        }
      }
      for i in configs.indices {
        best[i] += wall[i]
        bestCPU[i] += cpu[i]
        em[i] += scores[i].em
        f1[i] += scores[i].f1
      }
      start += chunk.count
    }
    let n = Double(max(1, measured.count))
    let baseline = configs.firstIndex { $0.0 == evalBaseline }
    for (i, (name, _)) in configs.enumerated() {
      var againstEval = ""
      if let b = baseline, name.hasSuffix(asEval) {
        againstEval = String(
          format: " (%.2fx the wall time, %.2fx the CPU time of exact attention as spiqa-eval runs it)",
          best[i] / best[b], bestCPU[i] / bestCPU[b])
      }
      print(
        String(
          format: "eval: squad %@: %d questions, best of %d per %d-question chunk: %.2f s = %.2f questions/s, %.2fx exact wall time, %.2fx exact CPU time%@; per forward: attention %.1f ms, rest %.1f ms (EM %.2f, F1 %.2f)",
          name, measured.count, max(1, rounds), max(1, chunk), best[i], n / best[i], best[i] / best[0], bestCPU[i] / bestCPU[0],
          againstEval, 1e3 * attentionSeconds[i] / Double(max(1, forwards[i])),
          1e3 * (forwardSeconds[i] - attentionSeconds[i]) / Double(max(1, forwards[i])), em[i] / n, f1[i] / n))
    }
  }
}
