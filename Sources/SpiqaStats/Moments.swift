/// Running count, mean and sum of squared deviations (population std, numpy's `ddof=0`), mergeable (Chan et al.).
public struct Moments: Sendable, Equatable {
  /// Number of observations.
  public var count: Double = 0
  /// Mean of the observations (0 when empty).
  public var mean: Double = 0
  /// Σ (x − mean)².
  public var m2: Double = 0

  /// Empty moments.
  public init() {}

  /// Moments of a block given its count, mean and Σ(x − mean)².
  public init(count: Double, mean: Double, m2: Double) {
    self.count = count
    self.mean = mean
    self.m2 = m2
  }

  /// Adds one observation (Welford).
  @inline(__always)
  public mutating func add(_ x: Double) {
    count += 1
    let d = x - mean
    mean += d / count
    m2 += d * (x - mean)
  }

  /// Merges another set of observations.
  public mutating func merge(_ o: Moments) {
    guard o.count > 0 else { return }
    guard count > 0 else {
      self = o
      return
    }
    let n = count + o.count
    let d = o.mean - mean
    mean += d * o.count / n
    m2 += o.m2 + d * d * count * o.count / n
    count = n
  }

  /// Population variance (`np.var`, ddof 0); NaN when empty.
  public var variance: Double { count > 0 ? max(m2 / count, 0) : .nan }
  /// Population standard deviation (`np.std`); NaN when empty.
  public var std: Double { variance.squareRoot() }
  /// Mean, NaN when empty.
  public var meanOrNaN: Double { count > 0 ? mean : .nan }
}

/// Minimum, maximum and moments of a per-feature quantity over features (one column of the reference's
/// `get_stat_features` table: min/max/avg/std over instances).
public struct Summary: Sendable, Equatable {
  /// Smallest value seen (+inf when empty).
  public var min: Double = .infinity
  /// Largest value seen (−inf when empty).
  public var max: Double = -.infinity
  /// Mean and std.
  public var moments = Moments()

  /// Empty summary.
  public init() {}

  /// Adds one value.
  public mutating func add(_ x: Double) {
    if x < min { min = x }
    if x > max { max = x }
    moments.add(x)
  }

  /// Merges another summary.
  public mutating func merge(_ o: Summary) {
    min = Swift.min(min, o.min)
    max = Swift.max(max, o.max)
    moments.merge(o.moments)
  }
}
