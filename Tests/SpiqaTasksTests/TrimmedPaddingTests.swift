import Foundation
import SpiqaCore
import SpiqaModel
import SpiqaQuant
import Testing

@testable import SpiqaTasks

/// SQuAD features run padded to their question's longest, one question per pass or several (what spiqa-eval does
/// with exact attention, and with `--trim-padding` under pruning and the quantizers that leave padding 0; their
/// statistics stay per question) against the reference's padding to max_seq_len. Exact attention: the same
/// predictions and EM/F1, span scores within float rounding. Pruning and quantizers keep max_seq_len by default
/// (bit-identical results); trimmed, the float rounding can move a value into another bin, so at most 1% of the
/// predictions may change. uniform_slog_mean, whose statistics count the padding's zeros, trims only questions whose
/// padding is most of the scope (counted as the reference's). The first SPIQA_TRIM_QUESTIONS questions of the dev set (default 20; docs/evaluation.md gives
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
      ("uniform_slog_mean 2 bits, record scope",
       AttentionTransform(quantizer: try AttentionQuantizer(method: .uniformSlogMean, bits: 2), scope: .record)),
    ]
    /// One run's predictions and sparsity, and the widths the model saw.
    func run(_ transform: AttentionTransform, trim: Bool, quantized: Bool, featureBatch: Int = 1) throws
      -> (preds: [SquadPrediction], sparsity: Double, widths: [Int])
    {
      model.widths = []
      let ev = SquadEvaluator(model: model, tokenizer: tokenizer, transform: transform)
      ev.trimsPadding = trim
      ev.trimsQuantized = quantized
      ev.featureBatch = featureBatch
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
      // Asked to (--trim-padding): every transform trims; uniform_slog_mean only questions whose padding is most of
      // the scope, the others keep 320.
      let asked = trimsByDefault ? byDefault : try run(transform, trim: true, quantized: true)
      let trimsWhenAsked = TaskSettings.evaluationTrimsPadding(transform, replaying: false, quantized: true)
      #expect(asked.widths.contains { $0 < 320 } == trimsWhenAsked, "\(name): trimmed with --trim-padding?")
      if TaskSettings.countsPadding(transform) {
        // One pass per question: 320 exactly where its padding is not most of the scope.
        let expected = try qs.map { q in
          let ex = try SquadFeaturizer().featurize(question: q.question, context: q.context, tokenizer: tokenizer)
          let lengths = ex.features.map(\.length)
          return TaskSettings.evaluationTrimsQuestion(transform, lengths: lengths, maxSeqLen: 320) ? lengths.max() ?? 0 : 320
        }
        #expect(asked.widths == expected, "\(name): widths with --trim-padding")
      }
      // And with several questions per pass (spiqa-eval's default --batch-size), statistics per question.
      let batched = try run(transform, trim: true, quantized: true, featureBatch: 20)
      #expect((batched.widths.count < qs.count) == trimsWhenAsked, "\(name): batched with --trim-padding?")
      for (label, other) in [("by default", byDefault), ("with --trim-padding", asked),
                             ("with --trim-padding, 20 features per pass", batched)] {
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
          // Bin moves change the count by hundreds to thousands of values in ~1e8: 1e-6 of it with OpenBLAS's
          // Cooperlake kernels, 7e-6 with its Zen kernels. Counting padding, or losing one question's blocks,
          // moves it by more than 1e-4.
          #expect(abs(other.sparsity - reference.sparsity) <= 1e-4, "\(name) \(label): sparsity")
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

  @Test func passesKeepUnitsWhole() {
    // Questions of 3, 1, 2 and 2 features: 3 + 1, then 2 + 2 (never 3 + 1 + part of the next).
    #expect(FeatureBuckets.passes(lengths: [320, 300, 200, 100], sizes: [3, 1, 2, 2], batchSize: 4) == [0..<2, 2..<4])
    // A question of more features than --batch-size runs alone.
    #expect(FeatureBuckets.passes(lengths: [300, 200, 100], sizes: [5, 1, 1], batchSize: 4) == [0..<1, 1..<3])
    // The budget counts features: 2 × 384² fits, a third 384-token feature does not.
    #expect(FeatureBuckets.passes(lengths: [384, 384], sizes: [2, 1], batchSize: 8, budget: 2 * 384 * 384)
      == [0..<1, 1..<2])
  }

  /// With `keepsGroupsWhole` (statistics per question) every question's features share a pass, questions sorted by
  /// their longest feature; without it features are sorted one by one and a question may span passes. Either way
  /// each feature gets its own row's logits back.
  @Test func runKeepsQuestionsWholeWhenAsked() throws {
    // Question q0: features of 9 and 3 tokens; q1: 7; q2: 8 and 2; q3: 5.
    let lengths = [[9, 3], [7], [8, 2], [5]]
    let groups = lengths.enumerated().map { q, ls in
      TaskGroup(
        sequences: ExtractionGroup(sequences: ls.enumerated().map { f, n in
          ExtractionSequence(exampleId: "q\(q)", exampleIndex: q, feature: f, ids: Array(repeating: 10 + q, count: n))
        }), examples: 1)
    }
    for whole in [false, true] {
      let model = EchoQA()
      var passes: [[String]] = []
      let buckets = FeatureBuckets(batchSize: 3, padId: 0, keepsGroupsWhole: whole)
      let out = try buckets.run(groups, model: model) { seqs, _ in
        passes.append(seqs.map { "\($0.exampleId)/\($0.feature)" })
        return ForwardHooks()
      }
      if whole {
        #expect(passes == [["q0/0", "q0/1"], ["q2/0", "q2/1", "q1/0"], ["q3/0"]], "\(passes)")
        for q in 0..<4 {
          #expect(passes.filter { $0.contains { $0.hasPrefix("q\(q)/") } }.count == 1, "q\(q) in one pass: \(passes)")
        }
      } else {
        #expect(passes == [["q0/0", "q2/0", "q1/0"], ["q3/0", "q0/1", "q2/1"]], "\(passes)")
      }
      // Each feature's start logits are its own token ids, cut to its length.
      for (q, ls) in lengths.enumerated() {
        for (f, n) in ls.enumerated() { #expect(out[q][f].start == Array(repeating: Float(10 + q), count: n)) }
      }
    }
  }
}

/// Answers with each row's token ids as its start and end logits.
final class EchoQA: TaskModel {
  var layerCount: Int { 1 }
  var headCount: Int { 1 }
  var maxPositions: Int { 512 }
  func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]]) {
    let rows = batch.inputIds.map { $0.map(Float.init) }
    return (rows, rows)
  }
  func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] { [] }
}
