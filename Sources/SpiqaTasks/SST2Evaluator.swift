import Foundation
import SpiqaQuant

/// The outcome of one SST-2 sentence.
public struct SST2Prediction: Sendable, Equatable {
  public var index: Int
  public var label: Int
  public var prediction: Int
  /// [labels] logits.
  public var logits: [Float]
}

/// Accuracy over a set of SST-2 sentences.
public struct SST2Evaluation: Sendable {
  public var n: Int
  public var correct: Int
  public var accuracy: Double { n > 0 ? Double(correct) / Double(n) : 0 }
  public var sparsity: SparsityCounter
  public var seconds: Double
}

/// SST-2 evaluation as the reference (§3.8): batches of `batchSize` sentences in the given order, each
/// `[CLS] s [SEP]` (RoBERTa `<s> s </s>`) truncated to `maxLength`, padded to the longest in the batch; argmax.
public final class SST2Evaluator {
  public let model: TaskModel
  public let tokenizer: TaskTokenizer
  public var batchSize = 20
  public var maxLength = 512
  /// How P·V runs under the transform (`AttentionHooks.productKernel`).
  public var productKernel: AttentionProductKernel = .auto
  /// What happens to attention and hidden states in every layer (statistics over the whole batch by default).
  public let transform: AttentionTransform
  public let replay: ReplayStore?

  public init(
    model: TaskModel, tokenizer: TaskTokenizer, transform: AttentionTransform = .identity,
    replay: ReplayStore? = nil, batchSize: Int = 20, maxLength: Int = 512
  ) {
    self.model = model
    self.tokenizer = tokenizer
    self.transform = transform
    self.replay = replay
    self.batchSize = batchSize
    self.maxLength = maxLength
  }

  /// `[CLS] ids [SEP]` with the sentence cut so the whole fits `maxLength` (HF `truncation=True`).
  public func encode(_ sentence: String) -> [Int] {
    let ids = tokenizer.ids(sentence).prefix(max(0, maxLength - 2))
    return [tokenizer.clsId] + ids + [tokenizer.sepId]
  }

  /// Index of the first maximum (`np.argmax`).
  public static func argmax(_ v: [Float]) -> Int {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return best
  }

  /// Evaluate `examples` in the given order, `batchSize` at a time.
  public func evaluate(
    _ examples: [SST2Example], progress: ((Int, Int) -> Void)? = nil,
    perExample: ((SST2Prediction) throws -> Void)? = nil
  ) throws -> SST2Evaluation {
    guard batchSize > 0 else { throw TasksError.usage("batch size must be ≥ 1") }
    guard maxLength >= 2, maxLength <= model.maxPositions else {
      throw TasksError.usage("max length \(maxLength) must be in 2...\(model.maxPositions)")
    }
    let started = Date()
    let pipeline = AttentionHooks(evaluating: model, transform: transform, replay: replay, productKernel: productKernel)
    var correct = 0
    var done = 0
    for start in stride(from: 0, to: examples.count, by: batchSize) {
      let chunk = Array(examples[start..<min(examples.count, start + batchSize)])
      let encoded = chunk.map { encode($0.sentence) }
      let t = encoded.map(\.count).max() ?? 0
      let ids = encoded.map { $0 + Array(repeating: tokenizer.padId, count: t - $0.count) }
      let batch = TaskBatch(
        inputIds: ids, tokenTypeIds: tokenizer.layout == .bert ? ids.map { _ in Array(repeating: 0, count: t) } : nil,
        lengths: encoded.map(\.count))
      let keys = chunk.map { RecordKey(exampleId: "sst2-\($0.index)", exampleIndex: $0.index, feature: 0) }
      let hooks = try pipeline.hooks(keys: keys, inputIds: ids)
      let logits = try model.classify(batch, hooks: hooks)
      for (ex, lg) in zip(chunk, logits) {
        let p = Self.argmax(lg)
        if p == ex.label { correct += 1 }
        try perExample?(SST2Prediction(index: ex.index, label: ex.label, prediction: p, logits: lg))
      }
      done += chunk.count
      progress?(done, examples.count)
    }
    return SST2Evaluation(
      n: examples.count, correct: correct, sparsity: pipeline.sparsity, seconds: Date().timeIntervalSince(started))
  }
}
