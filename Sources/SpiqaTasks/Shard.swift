/// One of N parts of a run (`--shard I/N`): a contiguous run of the selected examples' batches, so that the N shards
/// together are exactly the unsharded run, in its order, each example once (docs/scaling.md).
///
/// The unit of the split is what goes through the model together: a SQuAD question (all its features) or a batch of
/// `batchSize` SST-2 sentences / text lines. Every sequence therefore sees the same batch, padding and batch-scope
/// quantizer statistics as in the unsharded run, and its numbers are the same bits.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
  /// 0-based index of this shard.
  public let index: Int
  /// Number of shards.
  public let count: Int

  /// - Throws: `TasksError.usage` unless 0 ≤ index < count.
  public init(index: Int, count: Int) throws {
    guard count >= 1, index >= 0, index < count else {
      throw TasksError.usage("a shard is I/N with 0 ≤ I < N and N ≥ 1, got \(index)/\(count)")
    }
    self.index = index
    self.count = count
  }

  /// Parses `I/N` (e.g. `0/4`; `$SLURM_ARRAY_TASK_ID/4` in a job array).
  /// - Throws: `TasksError.usage` for anything else.
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
      throw TasksError.usage("a shard is I/N (e.g. 0/4), got '\(text)'")
    }
    try self.init(index: i, count: n)
  }

  /// `I/N`.
  public var description: String { "\(index)/\(count)" }

  /// The units (questions or batches) of `units` that belong to this shard: `[units·I/N, units·(I+1)/N)`.
  /// Shards differ in size by at most one unit; with more shards than units some are empty.
  public func range(of units: Int) -> Range<Int> {
    (units * index / count)..<(units * (index + 1) / count)
  }

  /// The items (in run order) of `items` grouped `batchSize` at a time that belong to this shard: whole batches.
  public func itemRange(of items: Int, batchSize: Int) -> Range<Int> {
    let b = max(1, batchSize)
    let groups = range(of: (items + b - 1) / b)
    return min(items, groups.lowerBound * b)..<min(items, groups.upperBound * b)
  }
}
