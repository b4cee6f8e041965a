import Foundation
import SpiqaCore
import SpiqaModel
import SpiqaQuant
import Testing

@testable import SpiqaTasks

/// SQuAD features run padded to their question's longest (what spiqa-eval does with exact attention, and with
/// `--trim-padding` under pruning and the quantizers that leave padding 0) against the reference's padding to
/// max_seq_len. Exact attention: the same predictions and EM/F1, span scores within float rounding. Pruning and
/// quantizers keep max_seq_len by default (bit-identical results); trimmed, the float rounding can move a value into
/// another bin, so at most 1% of the predictions may change. uniform_slog_mean, whose statistics count the padding's
/// zeros, never trims. The first SPIQA_TRIM_QUESTIONS questions of the dev set (default 20; docs/evaluation.md gives
/// the 1,000-question run), or with SPIQA_TRIM_QUESTIONS=paper the paper's sample (`-sa 100`, seed 123).
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
    func quantizer(_ m: QuantMethod, _ bits: Int) throws -> AttentionTransform {
      AttentionTransform(quantizer: try AttentionQuantizer(method: m, bits: bits))
    }
    let transforms: [(String, AttentionTransform)] = [
      ("exact", .identity),
      ("-at 0.01", AttentionTransform(threshold: 0.01)),
      ("log-pruned 3 bits", try quantizer(.linearSlogClampedMidval, 3)),
      ("uniform_slog_clamped_mean 3 bits", try quantizer(.uniformSlogClampedMean, 3)),
      ("binarization", try quantizer(.binarization, 1)),
      ("hidden states 12 bits, |h| ≤ 0.05 pruned", AttentionTransform(hsThreshold: 0.05, hsBits: 12)),
      ("uniform_slog_mean 3 bits", try quantizer(.uniformSlogMean, 3)),
    ]
    /// One run's predictions and sparsity, and the widths the model saw.
    func run(_ transform: AttentionTransform, trim: Bool, quantized: Bool) throws
      -> (preds: [SquadPrediction], sparsity: Double, widths: [Int])
    {
      model.widths = []
      let ev = SquadEvaluator(model: model, tokenizer: tokenizer, transform: transform)
      ev.trimsPadding = trim
      ev.trimsQuantized = quantized
      var preds: [SquadPrediction] = []
      let r = try ev.evaluate(qs, perExample: { preds.append($0) })
      return (preds, r.sparsity.overall, model.widths)
    }
    for (name, transform) in transforms {
      let reference = try run(transform, trim: false, quantized: false)
      #expect(reference.preds.count == qs.count && reference.widths.allSatisfy { $0 == 320 }, "\(name): untrimmed run")
      // The default: exact attention trims; the others keep the reference's shapes, so the same bits.
      let byDefault = try run(transform, trim: true, quantized: false)
      let trimsByDefault = transform.isIdentity
      #expect(byDefault.widths.contains { $0 < 320 } == trimsByDefault, "\(name): trimmed by default?")
      // Asked to (--trim-padding): every transform but uniform_slog_mean trims.
      let asked = trimsByDefault ? byDefault : try run(transform, trim: true, quantized: true)
      let trimsWhenAsked = transform.independentOfPadding
      #expect(asked.widths.contains { $0 < 320 } == trimsWhenAsked, "\(name): trimmed with --trim-padding?")
      for (label, other) in [("by default", byDefault), ("with --trim-padding", asked)] {
        var differing = 0
        var worst: Float = 0
        for (a, b) in zip(reference.preds, other.preds) {
          if a.prediction != b.prediction || a.em != b.em || a.f1 != b.f1 || a.span?.start != b.span?.start
            || a.span?.end != b.span?.end || a.span?.feature != b.span?.feature
          {
            differing += 1
          } else if let x = a.span?.score, let y = b.span?.score {
            worst = max(worst, abs(x - y) / max(abs(x), 1e-12))
          }
        }
        let trimmed = other.widths.contains { $0 < 320 }
        if !trimmed {
          #expect(differing == 0 && worst == 0, "\(name) \(label): the reference's shapes must give the same bits")
          #expect(other.sparsity == reference.sparsity, "\(name) \(label)")
        } else if transform.isIdentity {
          #expect(differing == 0 && worst <= 1e-4, "\(name) \(label): \(differing) predictions differ, scores by \(worst)")
        } else {
          #expect(differing * 100 <= qs.count, "\(name) \(label): \(differing) of \(qs.count) predictions differ")
          #expect(abs(other.sparsity - reference.sparsity) <= 1e-6, "\(name) \(label): sparsity")
        }
        let em = other.preds.reduce(0) { $0 + $1.em } / Double(max(1, qs.count)) * 100
        print("trim \(name) \(label): \(trimmed ? "trimmed" : "max_seq_len"), \(qs.count) questions, \(differing) predictions differ (EM \(em)); other span scores within \(worst) relative; sparsity \(other.sparsity) vs \(reference.sparsity)")
      }
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
