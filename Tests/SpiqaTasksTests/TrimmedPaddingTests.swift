import Foundation
import SpiqaCore
import SpiqaModel
import SpiqaQuant
import Testing

@testable import SpiqaTasks

/// SQuAD features run padded to their question's longest (what spiqa-eval does with exact attention) give the
/// predictions and EM/F1 of the reference's padding to max_seq_len, and span scores within float rounding; with a
/// quantizer (whose bins those last bits would move) nothing is trimmed. The first SPIQA_TRIM_QUESTIONS questions
/// of the dev set (default 20; docs/evaluation.md gives the 1,000-question run), or with SPIQA_TRIM_QUESTIONS=paper
/// the paper's sample (`-sa 100`, seed 123).
@Suite(.enabled(if: Heavy.squadReady, "needs ../shared models and data (SPIQA_SHARED)"))
struct TrimmedPaddingTests {
  @Test func trimmedEqualsMaxSeqLenPadding() throws {
    let dir = try #require(Heavy.squadModel)
    let data = try SquadDataset(path: try #require(Heavy.squadData))
    let setting = ProcessInfo.processInfo.environment["SPIQA_TRIM_QUESTIONS"] ?? ""
    let qs = setting == "paper"
      ? try Selection.sample(count: 100, seed: 123).indices(count: data.questions.count).map { data.questions[$0] }
      : Array(data.questions.prefix(Int(setting) ?? 20))
    let tokenizer = try loadTaskTokenizer(directory: dir)
    let model = WidthSpy(try EncoderTaskModel(directory: dir, maxBatch: 4, maxSeqLen: 320))
    let transforms: [(String, AttentionTransform)] = [
      ("exact", .identity),
      ("log-pruned 3 bits", AttentionTransform(quantizer: try AttentionQuantizer(method: .linearSlogClampedMidval, bits: 3))),
      ("uniform_slog_clamped_mean 3 bits",
       AttentionTransform(quantizer: try AttentionQuantizer(method: .uniformSlogClampedMean, bits: 3))),
    ]
    for (name, transform) in transforms {
      var results: [[SquadPrediction]] = []
      var sparsity: [Double] = []
      for trim in [false, true] {
        model.widths = []
        defer { if !trim { #expect(model.widths.allSatisfy { $0 == 320 }, "\(name): untrimmed run") } }
        let ev = SquadEvaluator(model: model, tokenizer: tokenizer, transform: transform)
        ev.trimsPadding = trim
        var preds: [SquadPrediction] = []
        let r = try ev.evaluate(qs, perExample: { preds.append($0) })
        results.append(preds)
        sparsity.append(r.sparsity.overall)
      }
      #expect(results[0].count == qs.count && results[1].count == qs.count)
      var worst: Float = 0
      for (a, b) in zip(results[0], results[1]) {
        #expect(a.prediction == b.prediction && a.em == b.em && a.f1 == b.f1, "\(name) \(a.id): \(a.prediction) vs \(b.prediction)")
        #expect(a.span?.start == b.span?.start && a.span?.end == b.span?.end && a.span?.feature == b.span?.feature)
        if let x = a.span?.score, let y = b.span?.score { worst = max(worst, abs(x - y) / max(abs(x), 1e-12)) }
      }
      if transform.isIdentity {
        #expect(worst <= 1e-4, "\(name): span scores differ by \(worst) (relative)")
        #expect(model.widths.contains { $0 < 320 }, "\(name): the padding was not trimmed")
      } else {
        #expect(worst == 0, "\(name): a quantized run must keep the reference's shapes")
        #expect(model.widths.allSatisfy { $0 == 320 }, "\(name): a quantized run must keep the reference's shapes")
      }
      #expect(sparsity[0] == sparsity[1], "\(name): sparsity \(sparsity)")
      let em = results[1].reduce(0) { $0 + $1.em } / Double(max(1, qs.count)) * 100
      let f1 = results[1].reduce(0) { $0 + $1.f1 } / Double(max(1, qs.count)) * 100
      print("trim \(name): \(qs.count) questions, identical predictions (EM \(em), F1 \(f1)); span scores within \(worst) relative")
    }
  }
}

/// spiqa-eval's length-sorted batches of several questions' features (`FeatureBuckets`, exact attention) give the
/// per-question run's predictions, EM/F1, sparsity and span scores within float rounding. The same questions as
/// above (SPIQA_TRIM_QUESTIONS: a count or `paper`).
@Suite(.enabled(if: Heavy.squadReady, "needs ../shared models and data (SPIQA_SHARED)"))
struct FeatureBucketTests {
  @Test func bucketedFeaturesEqualOneQuestionPerPass() throws {
    let setting = ProcessInfo.processInfo.environment["SPIQA_TRIM_QUESTIONS"] ?? ""
    var runs: [(result: JSONObject, lines: [JSONObject])] = []
    for batchSize in [1, 20] {
      var r = EvalRequest(
        task: "squad", modelDirectory: try #require(Heavy.squadModel), dataPath: try #require(Heavy.squadData))
      r.selection = setting == "paper" ? .sample(count: 100, seed: 123) : .slice(offset: 0, count: Int(setting) ?? 20)
      r.settings.batchSize = batchSize
      var lines: [JSONObject] = []
      let result = try EvalRunner.run(r, perExample: { lines.append($0) })
      runs.append((result, lines))
    }
    let (one, bucketed) = (runs[0], runs[1])
    #expect(one.lines.count == bucketed.lines.count && !one.lines.isEmpty)
    for key in ["n", "em", "f1", "features", "sparsity"] {
      #expect(one.result[key] == bucketed.result[key], "\(key)")
    }
    var worst = 0.0
    for (a, b) in zip(one.lines, bucketed.lines) {
      for key in ["index", "prediction", "em", "f1", "feature", "start", "end"] {
        #expect(a[key] == b[key], "\(a["id"]?.stringValue ?? "?"): \(key)")
      }
      if let x = a["score"]?.doubleValue, let y = b["score"]?.doubleValue {
        worst = max(worst, abs(x - y) / max(abs(x), 1e-12))
      }
    }
    #expect(worst <= 1e-4, "span scores differ by \(worst) (relative)")
    let em = bucketed.result["em"]?.doubleValue ?? 0
    print("buckets: \(one.lines.count) questions, identical predictions (EM \(em)); span scores within \(worst) relative")
  }
}

/// Passes everything to the model and keeps the padded width T of every question-answering batch.
final class WidthSpy: TaskModel {
  let inner: TaskModel
  var widths: [Int] = []
  init(_ inner: TaskModel) { self.inner = inner }
  var layerCount: Int { inner.layerCount }
  var headCount: Int { inner.headCount }
  var maxPositions: Int { inner.maxPositions }
  func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]]) {
    widths.append(batch.seqLen)
    return try inner.questionAnswering(batch, hooks: hooks)
  }
  func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] { try inner.classify(batch, hooks: hooks) }
}

/// The passes of a bucketed run: at most `--batch-size` features, cut earlier where count × longest² would pass the
/// position budget, never empty, covering every feature once in order.
@Suite struct FeatureBucketPassTests {
  @Test func passesRespectBatchSizeAndBudget() {
    let lengths = [384, 384, 300, 200, 200, 120, 64, 64, 64, 10]
    #expect(FeatureBuckets.passes(lengths: lengths, batchSize: 4) == [0..<4, 4..<8, 8..<10])
    // Budget of two 384-token features (294,912): 2 × 384², then 3 × 300² (not 4), then four short ones.
    let budget = 2 * 384 * 384
    #expect(FeatureBuckets.passes(lengths: lengths, batchSize: 4, budget: budget) == [0..<2, 2..<5, 5..<9, 9..<10])
    // A feature alone above the budget still gets its pass.
    #expect(FeatureBuckets.passes(lengths: [512, 512], batchSize: 8, budget: 100) == [0..<1, 1..<2])
    #expect(FeatureBuckets.passes(lengths: [], batchSize: 8).isEmpty)
    // --batch-size 1024 of 384-token features: 64 per pass.
    let many = FeatureBuckets.passes(lengths: Array(repeating: 384, count: 1024), batchSize: 1024)
    #expect(many.count == 16 && many.allSatisfy { $0.count == 64 })
  }
}
