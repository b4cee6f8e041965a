import Foundation
import SpiqaCore
import SpiqaQuant
import Testing

import SpiqaTasks

/// The tasks of `TaskRegistry` against transformers on small fixtures (scripts/make_task_fixtures.py: tiny random
/// BERT checkpoints, GLUE-layout TSVs, a SQuAD v2.0 file; metrics from scikit-learn and SciPy).
@Suite struct TaskReferenceTests {
  static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path + "/tasks"
  static let references: [String: JSONValue] = {
    let data = try! Data(contentsOf: URL(fileURLWithPath: folder + "/references.json"))
    return try! JSONValue(parsing: [UInt8](data)).objectValue!
  }()
  /// GLUE task → fixture file.
  static let files = [
    "cola": "CoLA", "sst2": "SST-2", "mrpc": "MRPC", "qqp": "QQP", "stsb": "STS-B", "mnli": "MNLI-m",
    "mnli_mismatched": "MNLI-mm", "qnli": "QNLI", "rte": "RTE", "wnli": "WNLI",
  ]

  /// Runs `task` through `EvalRunner` with the fixtures' batching.
  static func evaluate(
    _ task: String, model: String, data: String, transform: AttentionTransform = .identity,
    configure: (inout EvalRequest) -> Void = { _ in }
  ) throws -> (result: JSONObject, lines: [JSONObject]) {
    var r = EvalRequest(task: task, modelDirectory: folder + "/" + model, dataPath: data)
    r.settings.batchSize = 4
    r.settings.maxLength = 32
    r.transform = transform
    configure(&r)
    var lines: [JSONObject] = []
    let result = try EvalRunner.run(r, perExample: { lines.append($0) })
    return (result, lines)
  }

  /// Predictions, logits and metrics equal the reference (logits within 1e-4: f32 kernels vs PyTorch).
  /// The metrics the task's result line reports: the registry's (what figures and docs rely on), plus the count of
  /// correct predictions of the classification tasks.
  static func reportedMetrics(_ task: String) -> [String] {
    let t = try! TaskRegistry.task(named: task)
    return (task == "stsb" ? [] : ["correct"]) + t.metrics.map(\.key)
  }

  /// Logits, predictions and every metric the task reports against transformers: a metric missing from the line
  /// or from the reference fails, it is not skipped.
  static func check(
    _ name: String, task: String, _ got: (result: JSONObject, lines: [JSONObject]), _ ref: [String: JSONValue]
  ) {
    let logits = ref["logits"]?.arrayValue ?? []
    let preds = ref["predictions"]?.arrayValue ?? []
    #expect(!preds.isEmpty && got.lines.count == preds.count && logits.count == preds.count, "\(name)")
    #expect(got.result["n"]?.intValue == ref["n"]?.intValue, "\(name)")
    for (i, line) in got.lines.enumerated() where i < preds.count {
      let mine = line["logits"]?.arrayValue?.compactMap(\.doubleValue) ?? []
      let theirs = logits[i].arrayValue?.compactMap(\.doubleValue) ?? []
      #expect(
        !mine.isEmpty && mine.count == theirs.count && zip(mine, theirs).allSatisfy { abs($0 - $1) < 1e-4 },
        "\(name) \(i)")
      if let k = preds[i].intValue, ref["pearson"] == nil {
        #expect(line["prediction"]?.intValue == k, "\(name) \(i)")
      }
    }
    for key in reportedMetrics(task) {
      guard let want = ref[key]?.doubleValue, let have = got.result[key]?.doubleValue else {
        Issue.record("\(name): \(key) missing from the result line or the reference")
        continue
      }
      #expect(abs(have - want) < (key == "pearson" || key == "spearmanr" ? 1e-5 : 1e-12), "\(name) \(key)")
    }
  }

  @Test(arguments: ["cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "mnli_mismatched", "qnli", "rte", "wnli"])
  func glueMatchesTransformers(task: String) throws {
    let ref = try #require(Self.references["glue"]?.objectValue?[task]?.objectValue)
    let model = String(try #require(ref["model"]?.stringValue).dropFirst("tiny-".count))
    let got = try Self.evaluate(task, model: "tiny-" + model, data: Self.folder + "/glue/\(Self.files[task]!).tsv")
    #expect(got.result["task"] == .string(task))
    Self.check(task, task: task, got, ref)
  }

  @Test func robertaPairsHaveNoTokenTypes() throws {
    let ref = try #require(Self.references["roberta_rte"]?.objectValue)
    let got = try Self.evaluate("rte", model: "tiny-roberta-nli2", data: Self.folder + "/glue/RTE.tsv")
    Self.check("rte roberta", task: "rte", got, ref)
  }

  @Test func pruningAppliesToPairs() throws {
    let ref = try #require(Self.references["mnli_pruned"]?.objectValue)
    let got = try Self.evaluate(
      "mnli", model: "tiny-nli3", data: Self.folder + "/glue/MNLI-m.tsv", transform: AttentionTransform(threshold: 0.1))
    Self.check("mnli pruned", task: "mnli", got, ref)
    #expect((got.result["sparsity"]?.doubleValue ?? 0) > 0.1)
  }

  @Test(arguments: ["rte.csv", "rte.jsonl"])
  func classifyEqualsRTE(file: String) throws {
    let ref = try #require(Self.references["glue"]?.objectValue?["rte"]?.objectValue)
    let got = try Self.evaluate("classify", model: "tiny-nli2", data: Self.folder + "/" + file) {
      $0.settings.textColumn = "premise"
      $0.settings.pairColumn = "hypothesis"
      $0.settings.labelColumn = "gold"
    }
    // classify predicts the checkpoint's own label indices (0 not_entailment, 1 entailment): the RTE reference in
    // the GLUE order is the other way round, so compare accuracy and logits.
    #expect(got.result["accuracy"]?.doubleValue == ref["accuracy"]?.doubleValue)
    let logits = ref["logits"]?.arrayValue ?? []
    #expect(!logits.isEmpty && got.lines.count == logits.count)
    for (i, line) in got.lines.enumerated() where i < logits.count {
      let mine = line["logits"]?.arrayValue?.compactMap(\.doubleValue) ?? []
      let theirs = logits[i].arrayValue?.compactMap(\.doubleValue) ?? []
      #expect(!mine.isEmpty && mine.count == theirs.count && zip(mine, theirs).allSatisfy { abs($0 - $1) < 1e-4 })
    }
  }

  @Test func classifyLabelsByNameOrIndex() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-classify-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let good = dir.appendingPathComponent("good.tsv").path, bad = dir.appendingPathComponent("bad.tsv").path
    try Data("text\tlabel\nthe cat sat\tNot-Entailment\nbirds sing\t1\na dog\tentailment\n".utf8)
      .write(to: URL(fileURLWithPath: good))
    try Data("text\tlabel\nthe cat sat\tentailment\nbirds sing\tmaybe\n".utf8).write(to: URL(fileURLWithPath: bad))
    let configure = { (r: inout EvalRequest) in
      r.settings.textColumn = "text"
      r.settings.labelColumn = "label"
    }
    let got = try Self.evaluate("classify", model: "tiny-nli2", data: good, configure: configure)
    #expect(got.lines.compactMap { $0["label"]?.intValue } == [0, 1, 1])
    #expect(got.result["n"]?.intValue == 3)
    #expect {
      _ = try Self.evaluate("classify", model: "tiny-nli2", data: bad, configure: configure)
    } throws: { e in
      (e as? TasksError)?.kind == .badData && "\(e)".hasPrefix("\(bad): line 3: label 'maybe'")
    }
  }

  @Test(arguments: ["squad_v2", "squad_v2_threshold"])
  func squadV2MatchesRunQA(name: String) throws {
    let ref = try #require(Self.references[name]?.objectValue)
    let settings = try #require(ref["settings"]?.objectValue)
    let got = try Self.evaluate("squad_v2", model: "tiny-qa", data: Self.folder + "/squad-v2.json") {
      $0.settings.squad = SquadFeaturizer(
        maxSeqLen: settings["max_seq_len"]!.intValue!, docStride: settings["doc_stride"]!.intValue!,
        maxQueryLen: settings["max_query_len"]!.intValue!)
      $0.settings.maxAnswerLen = settings["max_answer_len"]!.intValue!
      $0.settings.nullScoreThreshold = settings["null_threshold"]!.doubleValue!
    }
    let preds = ref["predictions"]?.arrayValue ?? []
    #expect(got.lines.count == preds.count)
    for (line, p) in zip(got.lines, preds) {
      let p = p.objectValue!
      #expect(line["id"] == p["id"])
      #expect(line["prediction"] == p["prediction"], "\(p["id"]!)")
      #expect(abs((line["score_diff"]?.doubleValue ?? 0) - p["score_diff"]!.doubleValue!) < 1e-4)
      #expect(line["features"]?.intValue == p["features"]?.intValue)
    }
    for key in ["n", "em", "f1", "has_ans_n", "has_ans_em", "has_ans_f1", "no_ans_n", "no_ans_em", "no_ans_f1",
                "best_em", "best_f1"] {
      #expect(got.result[key]?.doubleValue == ref[key]?.doubleValue, "\(name) \(key)")
    }
    #expect(got.result["no_ans_n"]?.intValue == 3)
  }

  /// SQuAD v1.1 with exact attention runs several questions' features per forward pass (`FeatureBuckets`, sorted by
  /// length, padded to each batch's longest): the same predictions and metrics as one question per pass, span scores
  /// within float rounding. (The v2 file read as v1.1: questions of 1 to 3 features.)
  @Test func bucketedFeaturesEqualOneQuestionPerPass() throws {
    func run(_ batchSize: Int) throws -> (result: JSONObject, lines: [JSONObject]) {
      try Self.evaluate("squad", model: "tiny-qa", data: Self.folder + "/squad-v2.json") {
        $0.settings.squad = SquadFeaturizer(maxSeqLen: 48, docStride: 16, maxQueryLen: 12)
        $0.settings.batchSize = batchSize
      }
    }
    let one = try run(1), bucketed = try run(3)
    #expect(one.result["features"]?.intValue ?? 0 > one.result["n"]?.intValue ?? 0, "some question has 2+ features")
    for key in ["n", "em", "f1", "features"] { #expect(one.result[key] == bucketed.result[key], "\(key)") }
    #expect(one.lines.count == bucketed.lines.count)
    for (a, b) in zip(one.lines, bucketed.lines) {
      for key in ["id", "prediction", "feature", "start", "end"] { #expect(a[key] == b[key], "\(key)") }
      let x = a["score"]?.doubleValue ?? 0, y = b["score"]?.doubleValue ?? 0
      #expect(abs(x - y) <= 1e-4 * max(abs(x), 1e-12), "\(a["id"]?.stringValue ?? "?"): \(x) vs \(y)")
    }
  }

  /// With `trimPadding` a quantizer that leaves padding 0 trims it and batches questions like exact attention
  /// (statistics per question), with the predictions and metrics of the reference's shapes (here, on the tiny
  /// model's few questions); uniform_slog_mean, whose statistics count the padding's zeros, trims the questions whose
  /// padding is most of the scope and counts that padding's zeros as the reference's.
  @Test func quantizersTrimWhereThePaddingCannotMatter() throws {
    func run(_ transform: AttentionTransform, trim: Bool) throws -> (result: JSONObject, lines: [JSONObject]) {
      try Self.evaluate("squad", model: "tiny-qa", data: Self.folder + "/squad-v2.json", transform: transform) {
        $0.settings.squad = SquadFeaturizer(maxSeqLen: 48, docStride: 16, maxQueryLen: 12)
        $0.settings.batchSize = 3
        $0.trimPadding = trim
      }
    }
    func padsToMax(_ t: AttentionTransform, trim: Bool) -> Bool {
      var r = EvalRequest(task: "squad", modelDirectory: "", dataPath: "")
      r.transform = t
      r.trimPadding = trim
      return EvalRunner.settings(of: r).padQuestionsToMax
    }
    for (method, bits, trims) in [(QuantMethod.linearSlogClampedMidval, 3, true), (.uniformSlogClampedMean, 3, true),
                                  (.binarization, 1, true), (.uniformSlogMean, 2, true)] {
      let t = AttentionTransform(threshold: 0.001, quantizer: try AttentionQuantizer(method: method, bits: bits))
      let reference = try run(t, trim: false), trimmed = try run(t, trim: true)
      #expect(padsToMax(t, trim: false), "\(method.rawValue)")
      #expect(padsToMax(t, trim: true) == !trims, "\(method.rawValue)")
      for key in ["n", "em", "f1", "features"] {
        #expect(reference.result[key] == trimmed.result[key], "\(method.rawValue) \(key)")
      }
      for (a, b) in zip(reference.lines, trimmed.lines) {
        for key in ["id", "prediction", "feature", "start", "end"] { #expect(a[key] == b[key], "\(method.rawValue) \(key)") }
        let x = a["score"]?.doubleValue ?? 0, y = b["score"]?.doubleValue ?? 0
        #expect(abs(x - y) <= 1e-4 * max(abs(x), 1e-12), "\(method.rawValue) \(a["id"]?.stringValue ?? "?"): \(x) vs \(y)")
      }
    }
  }

  /// v2's decoder takes the top 20 logits over all positions, padding included: its features always run padded to
  /// max_seq_len, even with exact attention (v1.1 trims).
  @Test func squadV2NeverTrimsPadding() {
    let exact = AttentionTransform()
    #expect(TaskSettings.evaluationTrimsPadding(task: "squad", exact, replaying: false))
    #expect(!TaskSettings.evaluationTrimsPadding(task: "squad_v2", exact, replaying: false))
    #expect(!TaskSettings.evaluationTrimsPadding(task: "squad", exact, replaying: true))
  }

  /// Which transforms trim SQuAD v1.1's padding and batch several questions' features, and which keep each
  /// question's features in one pass: exact attention by default; with `quantized` (spiqa-eval --trim-padding) every
  /// transform that does not depend on padding, whole questions where statistics span one (`--scope batch|example`).
  @Test func transformsThatTrimAndBatch() throws {
    func q(_ m: QuantMethod, _ bits: Int, scope: QuantScope = .batch) throws -> AttentionTransform {
      AttentionTransform(quantizer: try AttentionQuantizer(method: m, bits: bits), scope: scope)
    }
    let cases: [(AttentionTransform, trims: Bool, whole: Bool)] = [
      (AttentionTransform(), true, false),
      (AttentionTransform(threshold: 0.01), true, false),
      (try q(.linearSlogClampedMidval, 3), true, false),
      (try q(.uniformSlogClampedMean, 3), true, true),
      (try q(.uniformSlogClampedMean, 3, scope: .record), true, false),
      (try q(.uniformSlogClampedMean, 3, scope: .example), true, true),
      (try q(.binarization, 1), true, true),
      (try q(.uniformSlogMean, 3), true, true),
      (try q(.uniformSlogMean, 3, scope: .record), true, true),
      (AttentionTransform(threshold: 0.01, hsThreshold: 0.5, hsBits: 16), true, false),
    ]
    for (t, trims, whole) in cases {
      #expect(TaskSettings.evaluationTrimsPadding(task: "squad", t, replaying: false, quantized: true) == trims, "\(t)")
      #expect(TaskSettings.evaluationKeepsQuestionsWhole(t) == whole, "\(t)")
      #expect(TaskSettings.evaluationTrimsPadding(task: "squad", t, replaying: false) == t.isIdentity, "\(t)")
      #expect(!TaskSettings.evaluationTrimsPadding(task: "squad_v2", t, replaying: false, quantized: true))
      #expect(!TaskSettings.evaluationTrimsPadding(task: "squad", t, replaying: true, quantized: true))
    }
  }

  /// uniform_slog_mean trims a question only when its padding to max_seq_len alone is more than half of each scope
  /// (the question's features, or each feature at `--scope record`); every other transform trims any question.
  @Test func slogMeanTrimsWherePaddingIsMostOfTheScope() throws {
    func q(_ m: QuantMethod, scope: QuantScope = .batch) throws -> AttentionTransform {
      AttentionTransform(quantizer: try AttentionQuantizer(method: m, bits: m == .binarization ? 1 : 3), scope: scope)
    }
    let slog = try q(.uniformSlogMean), perRecord = try q(.uniformSlogMean, scope: .record)
    // 2·(320² − 226²) = 102,648 > 320² = 102,400; 2·(320² − 227²) = 101,742 is not.
    for (lengths, batch, record) in [([226], true, true), ([227], false, false), ([200, 100], true, true),
                                     ([320, 100], false, false), ([300, 10], true, false), ([12], true, true)] {
      #expect(TaskSettings.evaluationTrimsQuestion(slog, lengths: lengths, maxSeqLen: 320) == batch, "\(lengths)")
      #expect(TaskSettings.evaluationTrimsQuestion(perRecord, lengths: lengths, maxSeqLen: 320) == record, "\(lengths)")
      for other in [AttentionTransform(), AttentionTransform(threshold: 0.01), try q(.uniformSlogClampedMean),
                    try q(.binarization)] {
        #expect(TaskSettings.evaluationTrimsQuestion(other, lengths: lengths, maxSeqLen: 320))
      }
    }
    // Ablation zeroes everything, so nothing is counted.
    var ablated = slog
    ablated.ablate = true
    #expect(TaskSettings.evaluationTrimsQuestion(ablated, lengths: [320], maxSeqLen: 320))
  }

  @Test func labelsThatDoNotFitAreRefused() throws {
    // A binary NLI checkpoint (not_entailment/entailment) cannot score MRPC (0/1, not_equivalent/equivalent), and a
    // two-output one cannot score MNLI's three labels or STS-B's regression.
    for (task, file) in [("mrpc", "MRPC"), ("mnli", "MNLI-m"), ("stsb", "STS-B")] {
      #expect {
        _ = try Self.evaluate(task, model: "tiny-nli2", data: Self.folder + "/glue/\(file).tsv")
      } throws: { e in
        (e as? TasksError)?.kind == .usage && "\(e)".contains("tiny-nli2") && "\(e)".contains(task)
      }
    }
  }

  @Test func registryListsEveryTask() throws {
    let names = TaskRegistry.names
    for n in ["squad", "squad_v2", "sst2", "cola", "mrpc", "qqp", "stsb", "mnli", "mnli_mismatched", "qnli", "rte",
              "wnli", "classify", "text"] {
      #expect(names.contains(n))
      #expect(TaskRegistry.helpText.contains(n))
    }
    #expect(Set(names).count == names.count)
    #expect(throws: TasksError.self) { try TaskRegistry.task(named: "nope") }
  }
}
