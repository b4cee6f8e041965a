import SpiqaModel

/// SQuAD evaluation with trimmed padding runs the features of several consecutive questions together: sorted by
/// length and cut into batches of up to `batchSize` features, each padded to its own longest (the attention mask
/// hides the padding), so the dense layers see few padded rows and work on bigger matrices. Each question is then
/// scored as before, from its own features' logits (`PrecomputedAnswers`), in question order.
///
/// Only without replay, for exact attention or (spiqa-eval `--trim-padding`) a transform that does not depend on
/// padding (`TaskSettings.evaluationTrimsPadding`): a feature's attention then does not depend on how far it is
/// padded, so scores agree with one question per forward pass to float rounding (docs/evaluation.md). Statistics over
/// the batch or the example (`keepsGroupsWhole`) are taken per question, as the reference ran each question as its
/// own batch (`AttentionHooks.batchScopePerExample`); a question's features then share one pass. Questions padded
/// to a fixed width (uniform_slog_mean where padding may matter: `TaskSettings.evaluationTrimsQuestion`) share
/// passes of that width.
struct FeatureBuckets {
  /// Features per forward pass (`--batch-size`).
  let batchSize: Int
  let padId: Int
  /// Keep each group's (question's) features in one pass, sorting groups by their longest feature: for quantizer
  /// statistics per question.
  var keepsGroupsWhole = false

  /// Query×key positions per head one pass may hold (64 features of 384 tokens: ~450 MB of attention
  /// probabilities for 12 heads): a large `--batch-size` of long features is cut into passes that fit, so memory
  /// does not grow with the flag.
  static let positionBudget = 64 * 384 * 384

  /// The passes over features sorted longest first (`lengths`, descending): at most `batchSize` features, and no
  /// more than `budget` positions (count × longest²) unless a pass would be empty.
  static func passes(lengths: [Int], batchSize: Int, budget: Int = positionBudget) -> [Range<Int>] {
    passes(lengths: lengths, sizes: Array(repeating: 1, count: lengths.count), batchSize: batchSize, budget: budget)
  }

  /// The passes over units (questions) of `sizes[i]` features each, sorted by their longest feature (`lengths`,
  /// descending): whole units, at most `batchSize` features and `budget` positions unless a pass would be empty.
  /// Ranges are of units.
  static func passes(lengths: [Int], sizes: [Int], batchSize: Int, budget: Int = positionBudget) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var i = 0
    while i < lengths.count {
      let longest = lengths[i] * lengths[i]
      var features = sizes[i]
      var end = i + 1
      while end < lengths.count && features + sizes[end] <= batchSize && (features + sizes[end]) * longest <= budget {
        features += sizes[end]
        end += 1
      }
      out.append(i..<end)
      i = end
    }
    return out
  }

  /// Questions gathered before sorting: enough features for a few full batches of similar lengths.
  var window: Int { max(1, 4 * batchSize) }

  /// The QA logits of every group's features: `[group][feature]` rows, each cut to its feature's length (what the
  /// SQuAD decoders expect of trimmed features; they pad back to `max_seq_len` themselves), or a padded group's to
  /// its width.
  /// - Parameter hooks: the attention hooks of one forward pass, from its sequences' keys and token ids.
  func run(
    _ groups: [TaskGroup], model: TaskModel, hooks: ([ExtractionSequence], TaskBatch) throws -> ForwardHooks
  ) throws -> [[(start: [Float], end: [Float])]] {
    // Units of (group, feature, length) slots, longest first; a stable sort keeps run order among equal lengths.
    // A unit is one feature, or with `keepsGroupsWhole` one group's features in order. Groups padded to a fixed
    // width (`ExtractionGroup.padTo`) run whole, in passes of their own at that width.
    typealias Slot = (group: Int, feature: Int, length: Int)
    var units: [[Slot]] = []
    var fixed: [Int: [[Slot]]] = [:]
    var widths: [Int] = []
    for (g, group) in groups.enumerated() {
      let slots = group.sequences.sequences.enumerated().map { (g, $0.offset, $0.element.count) }
      if let width = group.sequences.padTo {
        if fixed[width] == nil { widths.append(width) }
        if !slots.isEmpty { fixed[width, default: []].append(slots) }
      } else if keepsGroupsWhole {
        if !slots.isEmpty { units.append(slots) }
      } else {
        units += slots.map { [$0] }
      }
    }
    let longest = units.map { $0.map(\.length).max() ?? 0 }
    let order = units.indices.sorted { a, b in longest[a] != longest[b] ? longest[a] > longest[b] : a < b }
    var parts: [(slots: [Slot], padTo: Int?)] = []
    for width in widths {
      let same = fixed[width] ?? []
      for pass in Self.passes(lengths: same.map { _ in width }, sizes: same.map(\.count), batchSize: batchSize) {
        parts.append((same[pass].flatMap { $0 }, width))
      }
    }
    let passes = Self.passes(
      lengths: order.map { longest[$0] }, sizes: order.map { units[$0].count }, batchSize: batchSize)
    parts += passes.map { (order[$0].flatMap { units[$0] }, nil) }
    var out = groups.map { [(start: [Float], end: [Float])](repeating: ([], []), count: $0.sequences.sequences.count) }
    for (part, padTo) in parts {
      let seqs = part.map { groups[$0.group].sequences.sequences[$0.feature] }
      let batch = TaskGroup(sequences: ExtractionGroup(sequences: seqs, padTo: padTo), examples: 0).batch(padId: padId)
      let logits = try model.questionAnswering(batch, hooks: try hooks(seqs, batch))
      for (row, slot) in part.enumerated() {
        let width = padTo ?? slot.length  // a padded group's decoder sees the padding's logits, as unbatched
        out[slot.group][slot.feature] = (Array(logits.start[row].prefix(width)), Array(logits.end[row].prefix(width)))
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
