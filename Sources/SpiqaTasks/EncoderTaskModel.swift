import SpiqaModel

/// SpiqaModel's `Encoder` as a `TaskModel`. The encoder is rebuilt (same mmapped checkpoint) with a larger batch
/// when a question has more features than the current buffers hold, so a whole question always runs as one batch.
public final class EncoderTaskModel: TaskModel {
  public let checkpoint: Checkpoint
  public private(set) var encoder: Encoder
  private let maxSeqLen: Int
  /// The head the checkpoint carries.
  public let nativeHead: Head

  public var layerCount: Int { checkpoint.config.numLayers }
  public var headCount: Int { checkpoint.config.numHeads }
  public var maxPositions: Int { checkpoint.config.maxSequenceLength }
  public var config: ModelConfig { checkpoint.config }
  public var name: String { checkpoint.directory }
  public var computeThreads: Int { encoder.threads }
  public var classifierLabels: [String]? {
    if case .sequenceClassification(let labels) = nativeHead { return labels }
    return nil
  }
  public var hasMaskedLMHead: Bool { nativeHead == .maskedLM }

  /// Open `directory` for batches of up to `maxBatch` sequences of up to `maxSeqLen` tokens.
  public init(directory: String, maxBatch: Int, maxSeqLen: Int) throws {
    checkpoint = try Checkpoint(directory: directory)
    let seq = min(maxSeqLen, checkpoint.config.maxSequenceLength)
    self.maxSeqLen = seq
    encoder = try Encoder(checkpoint: checkpoint, maxBatch: maxBatch, maxSeqLen: seq)
    nativeHead = encoder.head
  }

  private func forward(_ batch: TaskBatch, hooks: ForwardHooks, head: Head) throws -> EncoderOutput {
    if batch.count > encoder.maxBatch || batch.seqLen > encoder.maxSeqLen {
      let threads = encoder.threads
      encoder = try Encoder(
        checkpoint: checkpoint, maxBatch: max(batch.count, encoder.maxBatch),
        maxSeqLen: min(max(batch.seqLen, encoder.maxSeqLen), checkpoint.config.maxSequenceLength))
      encoder.threads = threads
    }
    encoder.head = head
    return try encoder.forward(
      EncoderBatch(inputIds: batch.inputIds, lengths: batch.lengths, tokenTypeIds: batch.tokenTypeIds), hooks: hooks)
  }

  public func questionAnswering(_ batch: TaskBatch, hooks: ForwardHooks) throws -> (start: [[Float]], end: [[Float]]) {
    guard nativeHead == .questionAnswering else {
      throw TasksError.usage("\(checkpoint.directory): the checkpoint has no question-answering head (qa_outputs)")
    }
    let out = try forward(batch, hooks: hooks, head: .questionAnswering)
    guard let s = out.startLogits, let e = out.endLogits else {
      throw TasksError.badData("\(checkpoint.directory): the checkpoint has no question-answering head (qa_outputs)")
    }
    return (s, e)
  }

  public func classify(_ batch: TaskBatch, hooks: ForwardHooks) throws -> [[Float]] {
    guard case .sequenceClassification(let labels) = nativeHead else {
      throw TasksError.usage("\(checkpoint.directory): the checkpoint has no sequence-classification head")
    }
    let out = try forward(batch, hooks: hooks, head: .sequenceClassification(labels: labels))
    guard let logits = out.logits else {
      throw TasksError.badData("\(checkpoint.directory): the classifier produced no logits")
    }
    return logits
  }

  public func maskedLM(_ batch: TaskBatch, positions: [Int], hooks: ForwardHooks) throws -> [[Float]] {
    guard nativeHead == .maskedLM else {
      throw TasksError.usage(
        "\(checkpoint.directory): the checkpoint has no masked-LM head (cls.predictions / lm_head); task mlm needs a "
          + "*ForMaskedLM checkpoint")
    }
    guard positions.count == batch.count else {
      throw TasksError.usage("\(positions.count) masked positions for a batch of \(batch.count)")
    }
    let out = try forward(batch, hooks: hooks, head: .maskedLM)
    return try encoder.maskedLMLogits(out, rows: positions.enumerated().map { ($0.offset, $0.element) })
  }
}
