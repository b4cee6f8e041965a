import Foundation
import SpiqaCore
import SpiqaModel

/// Masked-LM pseudo-perplexity over text lines (the original analyzer's third case study, docs/evaluation.md):
/// each line is tokenized (`[CLS] text [SEP]`, at most `--max-length` tokens), and one copy of it per real token is
/// run with that token replaced by the mask token; the score is exp(mean over all masked tokens of −log p(token)).
///
/// The original masks `int(0.15·n)` positions drawn at random (unseeded, with replacement) and runs all copies of a
/// paragraph as one batch; spiqa masks every position (the deterministic estimator that sampling approximates),
/// and also runs all copies of a line as one batch, so data-dependent quantizers see the same kind of batch.
public struct MaskedLMTask: SpiqaTask {
  public init() {}
  public var name: String { "mlm" }
  public var summary: String {
    "masked-LM pseudo-perplexity over text lines (each token masked in turn); *ForMaskedLM checkpoints"
  }
  public var title: String { "masked LM" }
  public var unit: String { "lines" }
  public var metrics: [TaskMetric] { [TaskMetric("pseudo_perplexity", "pseudo-perplexity", scale: .value, lowerIsBetter: true)] }
  public var defaultDataFile: String? { nil }
  public var dataHint: String { "one text per line (e.g. paragraphs), - for standard input" }

  public func load(_ path: String, settings: TaskSettings) throws -> any TaskData {
    let lines = try TextLines(path: path).lines
    return MaskedLMData(
      source: path, examples: lines.map { SequenceExample(index: $0.line, id: "mlm-\($0.line)", text: $0.text) })
  }

  public func mergingScorer(settings: TaskSettings) throws -> TaskScorer { MaskedLMScorer() }
}

/// The lines of an `mlm` data file; one model batch per line (its masked copies).
public final class MaskedLMData: TaskData {
  public let source: String
  public let examples: [SequenceExample]
  public var count: Int { examples.count }
  public var unit: String { "lines" }
  public func exampleId(_ index: Int) -> String { examples[index].id }

  public init(source: String, examples: [SequenceExample]) {
    self.source = source
    self.examples = examples
  }

  /// Tokens per line, special tokens included: `settings.maskedLMLength` (`--mlm-length`), at most the model's.
  static func maxLength(_ settings: TaskSettings, maxPositions: Int) -> Int {
    min(settings.maskedLMLength, maxPositions)
  }

  public func featurization(_ settings: TaskSettings, maxPositions: Int) -> JSONObject {
    ["max_length": .int(Self.maxLength(settings, maxPositions: maxPositions)), "masking": "every token in turn",
     "batch": "the masked copies of one line"]
  }

  public func capacity(_ settings: TaskSettings, maxPositions: Int) -> (batch: Int, seqLen: Int) {
    let n = min(64, Self.maxLength(settings, maxPositions: maxPositions))
    return (max(1, n - 2), n)
  }

  public func batches(
    _ selected: [Int], tokenizer: TaskTokenizer, settings: TaskSettings, maxPositions: Int
  ) throws -> TaskBatches {
    let maxLength = Self.maxLength(settings, maxPositions: maxPositions)
    guard maxLength >= 3 else {
      throw TasksError.usage("a masked-LM line needs at least 3 tokens (one to mask and two special), got \(maxLength)")
    }
    guard let mask = tokenizer.maskId else {
      throw TasksError.badData("the tokenizer's vocabulary has no mask token ([MASK] / <mask>); task mlm needs one")
    }
    let encoder = SegmentEncoder(maxLength: maxLength)
    let examples = self.examples
    return TaskBatches(count: selected.count, examplesPerBatch: 1) { g in
      let ex = examples[selected[g]]
      let (ids, types) = try encoder.encode(ex.text, pair: nil, tokenizer: tokenizer)
      // Every position but the special tokens at both ends; copy k masks position k + 1.
      let positions = Array(1..<max(1, ids.count - 1))
      let seqs = positions.enumerated().map { k, p in
        var masked = ids
        masked[p] = mask
        return ExtractionSequence(exampleId: ex.id, exampleIndex: ex.index, feature: k, ids: masked, tokenTypes: types)
      }
      let payload = MaskedLine(example: ex, labels: positions.map { ids[$0] }, positions: positions)
      return TaskGroup(sequences: ExtractionGroup(sequences: seqs), examples: 1, payload: payload)
    }
  }

  public func scorer(model: TaskModel, settings: TaskSettings) throws -> TaskScorer {
    guard model.hasMaskedLMHead else {
      throw TasksError.usage("\(model.name): the checkpoint has no masked-LM head; task mlm needs a *ForMaskedLM checkpoint")
    }
    return MaskedLMScorer()
  }
}

/// What the scorer needs of one line: the masked positions and the tokens that were there.
struct MaskedLine {
  var example: SequenceExample
  var labels: [Int]
  var positions: [Int]
}

/// Sums −log p(original token | the rest) over every masked token. Per line: `index`, `id`, `tokens`, `nll` (the
/// sum, natural log) and its `pseudo_perplexity`; result: `pseudo_perplexity` = exp(Σ nll / Σ tokens), `nll_mean`,
/// `tokens`, `n` (lines).
final class MaskedLMScorer: TaskScorer {
  private var nll = 0.0
  private var tokens = 0
  private var lines = 0

  func score(_ group: TaskGroup, batch: TaskBatch, model: TaskModel, hooks: ForwardHooks) throws -> [JSONObject] {
    guard let line = group.payload as? MaskedLine else { throw TasksError.usage("mlm: a batch without its line") }
    var sum = 0.0
    if !line.positions.isEmpty {
      let logits = try model.maskedLM(batch, positions: line.positions, hooks: hooks)
      for (row, label) in zip(logits, line.labels) {
        guard label >= 0, label < row.count else {
          throw TasksError.badData("token id \(label) outside the model's vocabulary of \(row.count)")
        }
        sum += Self.negativeLogSoftmax(row, at: label)
      }
    }
    let o = Self.line(index: line.example.index, id: line.example.id, tokens: line.positions.count, nll: sum)
    try absorb(o)
    return [o]
  }

  static func line(index: Int, id: String, tokens: Int, nll: Double) -> JSONObject {
    [
      "index": .int(index), "id": .string(id), "tokens": .int(tokens), "nll": .double(nll),
      "pseudo_perplexity": tokens > 0 ? .double(exp(nll / Double(tokens))) : .null,
    ]
  }

  /// −log softmax(row)[label], in double: logsumexp(row) − row[label].
  static func negativeLogSoftmax(_ row: [Float], at label: Int) -> Double {
    let m = Double(row.max() ?? 0)
    var s = 0.0
    for v in row { s += Foundation.exp(Double(v) - m) }
    return m + Foundation.log(s) - Double(row[label])
  }

  func result() -> JSONObject {
    [
      "n": .int(lines), "tokens": .int(tokens), "nll_mean": tokens > 0 ? .double(nll / Double(tokens)) : .null,
      "pseudo_perplexity": tokens > 0 ? .double(exp(nll / Double(tokens))) : .null,
    ]
  }

  func absorb(_ line: JSONObject) throws {
    guard let t = line["tokens"]?.intValue, let v = line["nll"]?.doubleValue else {
      throw missing("tokens and nll", in: line)
    }
    tokens += t
    nll += v
    lines += 1
  }
}
