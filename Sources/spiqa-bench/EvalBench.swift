import ArgumentParser
import Foundation
import SpiqaCLI
import SpiqaModel
import SpiqaQuant
import SpiqaTasks

/// `spiqa-bench eval`: SQuAD questions per second of the whole evaluation (featurize, forward, decode, score)
/// with minilm-squad, exact and with the paper's 3-bit log-pruned quantizer on the fly.
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
    let configs: [(String, AttentionTransform)] = [
      ("exact", .identity),
      ("log-pruned 3 bits", AttentionTransform(quantizer: try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3))),
      ("threshold 0.01", AttentionTransform(threshold: 0.01)),
    ]
    for (name, transform) in configs {
      let ev = SquadEvaluator(model: taskModel, tokenizer: tokenizer, transform: transform)
      _ = try ev.evaluate(Array(qs.prefix(1)))  // warm-up
      let t0 = DispatchTime.now().uptimeNanoseconds
      let r = try ev.evaluate(Array(qs.dropFirst()))
      let s = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
      print(
        String(
          format: "eval: squad %@: %d questions (%d features) in %.2f s = %.2f questions/s, %.2f features/s (EM %.2f, F1 %.2f)",
          name, r.n, r.features, s, Double(r.n) / s, Double(r.features) / s, r.em, r.f1))
    }
  }
}
