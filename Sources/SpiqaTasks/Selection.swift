/// Which items of a data set to evaluate: all, a contiguous slice, or the reference's seeded sample.
public enum Selection: Sendable, Equatable {
  /// Every item in data-set order.
  case all
  /// `count` items from `offset` (`nil` count = to the end).
  case slice(offset: Int, count: Int?)
  /// Python `random.seed(seed); random.sample(items, count)`, in the order drawn (the paper: seed 123).
  case sample(count: Int, seed: Int)

  /// Build from a sample size, or a slice's limit and offset; `samples` ≤ 0 means no sampling (the reference's
  /// `-sa -1`).
  /// - Throws: `TasksError.usage` when sampling is combined with a slice or numbers are negative.
  public init(samples: Int?, limit: Int?, offset: Int?, seed: Int = 123) throws {
    if let s = samples, s > 0 {
      if limit != nil || (offset ?? 0) != 0 {
        throw TasksError.usage("a sample cannot be combined with a limit or an offset")
      }
      self = .sample(count: s, seed: seed)
      return
    }
    if let l = limit, l < 0 { throw TasksError.usage("the limit must be ≥ 0, got \(l)") }
    if let o = offset, o < 0 { throw TasksError.usage("the offset must be ≥ 0, got \(o)") }
    if limit == nil && (offset ?? 0) == 0 {
      self = .all
    } else {
      self = .slice(offset: offset ?? 0, count: limit)
    }
  }

  /// The selected indices into a data set of `count` items.
  /// - Throws: `TasksError.usage` when the sample is larger than the data set.
  public func indices(count n: Int) throws -> [Int] {
    switch self {
    case .all:
      return Array(0..<n)
    case .slice(let offset, let count):
      let start = min(offset, n)
      let end = count.map { start + min(n - start, $0) } ?? n  // a limit of Int.max means "to the end"
      return Array(start..<end)
    case .sample(let k, let seed):
      var rng = PythonRandom(seed: seed)
      return try rng.sample(populationSize: n, count: k)
    }
  }
}
