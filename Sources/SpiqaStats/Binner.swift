/// Maps float32 values to histogram bins exactly as `np.histogram(x + offset, bins=edges)` does, with a lookup
/// table on the float's bit pattern instead of a `log10` or a search per value.
public struct Binner: Sendable {
  /// The edges and offset this binner implements.
  public let edges: BinEdges
  private let table: BitStepTable
  private let lastEdge: Double

  /// Builds the lookup table for `edges` (a few milliseconds).
  public init(_ edges: BinEdges) {
    self.edges = edges
    let e = edges.edges
    lastEdge = e[e.count - 1]
    var steps: [(bits: UInt32, value: Int16)] = []
    for i in 0..<(e.count - 1) {
      steps.append((Self.lowestBits(atLeast: e[i]), Int16(i)))
    }
    steps.append((Self.lowestBits(above: lastEdge), -1))
    // The value at +0.0 follows from the steps at bits 0; start "below range".
    table = BitStepTable(initial: -1, steps: steps)
  }

  /// Number of bins.
  public var bins: Int { edges.bins }

  /// The bin of a raw value (the offset is added here, in float32), or -1 if numpy would not count it.
  @inline(__always)
  public func bin(_ value: Float) -> Int {
    let w = value + edges.offset
    let b = w.bitPattern
    if b <= BitStepTable.lastBits { return Int(table(b)) }
    if w.isNaN { return -1 }
    return exactBin(Double(w))
  }

  /// The bin of an already offset value, by binary search over the float64 edges (numpy semantics).
  public func exactBin(_ x: Double) -> Int {
    let e = edges.edges
    if x.isNaN || x < e[0] || x > lastEdge { return -1 }
    if x == lastEdge { return e.count - 2 }
    var lo = 0
    var hi = e.count  // first edge > x
    while lo < hi {
      let mid = (lo + hi) / 2
      if e[mid] <= x { lo = mid + 1 } else { hi = mid }
    }
    return lo - 1
  }

  /// Smallest non-negative float32 bit pattern whose value is ≥ `e` (as float64).
  static func lowestBits(atLeast e: Double) -> UInt32 {
    if e <= 0 { return 0 }
    var f = Float(e)
    if Double(f) < e { f = f.nextUp }
    return f.bitPattern
  }

  /// Smallest non-negative float32 bit pattern whose value is > `e` (as float64).
  static func lowestBits(above e: Double) -> UInt32 {
    if e < 0 { return 0 }
    var f = Float(e)
    if Double(f) <= e { f = f.nextUp }
    return min(f.bitPattern, BitStepTable.lastBits)
  }
}

/// Counts values `≤ t` for a list of float32 thresholds (compared in float32, as numpy and PyTorch compare a
/// float32 array with a Python float).
public struct ThresholdClassifier: Sendable {
  /// Thresholds, ascending, non-negative.
  public let thresholds: [Float]
  private let table: BitStepTable

  /// Validates and sorts the thresholds (non-negative, finite, at most 32000).
  public init(_ thresholds: [Float]) throws {
    for t in thresholds where !(t.isFinite && t >= 0) {
      throw StatsError("threshold \(t): expected a finite number ≥ 0")
    }
    guard thresholds.count < 32000 else { throw StatsError("at most 32000 thresholds") }
    let sorted = thresholds.sorted()
    self.thresholds = sorted
    var steps: [(bits: UInt32, value: Int16)] = []
    for (j, t) in sorted.enumerated() {
      steps.append(((t == 0 ? Float(0) : t).bitPattern + 1, Int16(j + 1)))
    }
    table = BitStepTable(initial: 0, steps: steps)
  }

  /// `#{ j : thresholds[j] < v }` — so `v ≤ thresholds[j]` for every `j ≥ class`. NaN gives `thresholds.count + 1`
  /// (never ≤ anything; caller counts it apart).
  @inline(__always)
  public func classify(_ v: Float) -> Int {
    let b = v.bitPattern
    if b <= BitStepTable.lastBits { return Int(table(b)) }
    if v.isNaN { return thresholds.count + 1 }
    return 0  // negative or -0.0: ≤ every non-negative threshold
  }
}
