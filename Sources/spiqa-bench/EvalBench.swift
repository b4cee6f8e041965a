import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaModel
import SpiqaQuant
import SpiqaTasks

/// `spiqa-bench eval`: SQuAD questions per second of the whole evaluation (featurize, forward, decode, score)
/// with minilm-squad: exact attention, pruning, the paper's log-pruned quantizer at 2/3/4 bits and
/// (unless `--paper-only`) every quantizer, each as a multiple of the exact run's time measured in the same run.
struct EvalBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Measure SQuAD evaluation throughput (questions/s) with exact and quantized attention.")

  @Option(help: "QA checkpoint folder (default: models/minilm-squad in the shared data folder).")
  var model: String?

  @Option(help: "SQuAD v1.1 JSON (default: data/squad/dev-v1.1.json in the shared data folder).")
  var data: String?

  @Option(help: "Questions per measurement (the first N of the dev set, after one warm-up question).")
  var questions = 50

  @Option(help: "Threads for OpenBLAS and the element-wise kernels.")
  var threads = 2

  @Flag(help: "Only exact, pruning and log-pruned 2/3/4 bits (default: also every other quantizer at 3 bits, binarization at 1).")
  var paperOnly = false

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    let dir = model ?? DefaultPaths.sharedFolder() + "/models/minilm-squad"
    let path = try DefaultPaths.dataPath(data, task: "squad")
    guard FileManager.default.fileExists(atPath: dir + "/config.json"), FileManager.default.fileExists(atPath: path)
    else {
      print("eval: skipped (no \(dir) or \(path); set SPIQA_SHARED)")
      return
    }
    let dataset = try SquadDataset(path: path)
    let qs = Array(dataset.questions.prefix(max(1, questions) + 1))
    let tokenizer = try loadTaskTokenizer(directory: dir)
    let taskModel = try EncoderTaskModel(directory: dir, maxBatch: 4, maxSeqLen: 320)
    taskModel.encoder.threads = threads
    print("eval: OpenBLAS \(OpenBLASRuntime.coreName) kernel, \(threads) threads, \(dir)")
    var configs: [(String, AttentionTransform)] = [("exact", .identity), ("threshold 0.01", AttentionTransform(threshold: 0.01))]
    for bits in [2, 3, 4] {
      configs.append(("log-pruned \(bits) bits", AttentionTransform(quantizer: try AttentionQuantizer(method: .linearSlogClampedMidval, bits: bits))))
    }
    if !paperOnly {
      for m in QuantMethod.allCases where m != .linearSlogClampedMidval {
        let bits = m == .binarization ? 1 : 3
        configs.append(("\(m.rawValue) \(bits) bits", AttentionTransform(quantizer: try AttentionQuantizer(method: m, bits: bits))))
      }
    }
    var exactSeconds: Double?
    for (name, transform) in configs {
      let ev = SquadEvaluator(model: taskModel, tokenizer: tokenizer, transform: transform)
      _ = try ev.evaluate(Array(qs.prefix(1)))  // warm-up
      let t0 = DispatchTime.now().uptimeNanoseconds
      let r = try ev.evaluate(Array(qs.dropFirst()))
      let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      if exactSeconds == nil { exactSeconds = s }
      print(
        String(
          format: "eval: squad %@: %d questions (%d features) in %.2f s = %.2f questions/s, %.2fx exact time (EM %.2f, F1 %.2f)",
          name, r.n, r.features, s, Double(r.n) / s, s / (exactSeconds ?? s), r.em, r.f1))
    }
  }
}
