import SpiqaModel

/// SQuAD evaluation with trimmed padding runs the features of several consecutive questions together: sorted by
/// length and cut into batches of up to `batchSize` features, each padded to its own longest (the attention mask
/// hides the padding), so the dense layers see few padded rows and work on bigger matrices. Each question is then
/// scored as before, from its own features' logits (`PrecomputedAnswers`), in question order.
///
/// Only without replay, for exact attention or (spiqa-eval `--trim-padding`) a transform that depends on neither
/// padding nor batch (`TaskSettings.evaluationBatchesQuestions`: pruning, the element-wise quantizers, the
/// data-dependent ones at `--scope record`): a feature's attention does not depend on what else is in its batch, so
/// scores agree with one question per forward pass to float rounding (docs/evaluation.md). Statistics over the
/// batch or the example keep one question per pass, as the reference.
struct FeatureBuckets {
  /// Features per forward pass (`--batch-size`).
  let batchSize: Int
  let padId: Int

  /// Query×key positions per head one pass may hold (64 features of 384 tokens: ~450 MB of attention
  /// probabilities for 12 heads): a large `--batch-size` of long features is cut into passes that fit, so memory
  /// does not grow with the flag.
  static let positionBudget = 64 * 384 * 384

  /// The passes over features sorted longest first (`lengths`, descending): at most `batchSize` features, and no
  /// more than `budget` positions (count × longest²) unless a pass would be empty.
  static func passes(lengths: [Int], batchSize: Int, budget: Int = positionBudget) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < lengths.count {
      let longest = lengths[i] * lengths[i]
      var end = i + 1
      while end < lengths.count && end - i < batchSize && (end - i + 1) * longest <= budget { end += 1 }
      out.append(i..<end)
      i = end
    }
    return out
  }

  /// Questions gathered before sorting: enough features for a few full batches of similar lengths.
  var window: Int { max(1, 4 * batchSize) }

  /// The QA logits of every group's features: `[group][feature]` rows, each cut to its feature's length (what the
  /// SQuAD decoders expect of trimmed features; they pad back to `max_seq_len` themselves).
  /// - Parameter hooks: the attention hooks of one forward pass, from its sequences' keys and token ids.
  func run(
    _ groups: [TaskGroup], model: TaskModel, hooks: ([ExtractionSequence], TaskBatch) throws -> ForwardHooks
  ) throws -> [[(start: [Float], end: [Float])]] {
    // (group, feature) of every sequence, longest first; a stable sort keeps run order among equal lengths.
    var slots: [(group: Int, feature: Int, length: Int)] = []
    for (g, group) in groups.enumerated() {
      for (f, s) in group.sequences.sequences.enumerated() { slots.append((g, f, s.count)) }
    }
    slots = slots.enumerated().sorted { a, b in
      a.element.length != b.element.length ? a.element.length > b.element.length : a.offset < b.offset
    }.map(\.element)
    var out = groups.map { [(start: [Float], end: [Float])](repeating: ([], []), count: $0.sequences.sequences.count) }
    for pass in Self.passes(lengths: slots.map(\.length), batchSize: batchSize) {
      let part = slots[pass]
      let seqs = part.map { groups[$0.group].sequences.sequences[$0.feature] }
      let batch = TaskGroup(sequences: ExtractionGroup(sequences: seqs), examples: 0).batch(padId: padId)
      let logits = try model.questionAnswering(batch, hooks: try hooks(seqs, batch))
      for (row, slot) in part.enumerated() {
        out[slot.group][slot.feature] = (Array(logits.start[row].prefix(slot.length)),
                                         Array(logits.end[row].prefix(slot.length)))
      }
    }
    return out
  }
}

/// A `TaskModel` that answers one question's `questionAnswering` call with logits computed beforehand (in a
/// `FeatureBuckets` batch), so the scorers stay as they are.
final class PrecomputedAnswers: TaskModel {
  private let model: TaskModel
  private let rows: [(start: [Float], end: [Float])]

  init(_ model: TaskModel, rows: [(start: [Float], end: [Float])]) {
    self.model = model
    self.rows = rows
  }

  var layerCount: Int { model.layerCount }
  var headCount: Int { model.headCount }
  var maxPositions: Int { model.maxPositions }
  var name: String { model.name }

  func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]]) {
    guard batch.count == rows.count else {
      throw TasksError.usage("internal: \(batch.count) features asked, \(rows.count) computed")
    }
    return (rows.map(\.start), rows.map(\.end))
  }

  func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] {
    throw TasksError.usage("internal: precomputed answers have no classifier")
  }
}
