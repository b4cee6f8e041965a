#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The original analyzer's `-qv` comparison (reference §3.6): per-row 100-bin log histograms and scipy's
/// Jensen–Shannon *distance* (natural log) between the original and the quantized row.
public enum JensenShannon {
  /// Bin edges `10 ** numpy.linspace(-10, 0, 101)` (float64; the last edge is exactly 1).
  public static let edges: [Double] = (0...100).map { k in k == 100 ? 1.0 : pow(10.0, Double(k) * 0.1 + -10.0) }

  /// 100-bin histogram of `row + 1e-10` (the addition in float32, as numpy does for a float32 row), like
  /// `np.histogram(row + 1e-10, bins=edges)`: bins are [e_k, e_{k+1}), the last one closed; values outside
  /// [1e-10, 1] (e.g. the reference's >1 mid-point outputs) are not counted.
  public static func histogram(_ row: UnsafeBufferPointer<Float>, into counts: inout [Double]) {
    if counts.count != 100 { counts = [Double](repeating: 0, count: 100) } else {
      for i in 0..<100 { counts[i] = 0 }
    }
    let tiny = Float(1e-10)
    let starts = edgeStarts, first = edgeStarts[0], one = Float(1).bitPattern
    binOfTopBits.withUnsafeBufferPointer { table in
      for x in row {
        // Positive floats order as their bit patterns; negative ones and NaN are above 1's and skipped.
        let bits = (x + tiny).bitPattern
        guard bits >= first, bits <= one else { continue }
        var k = Int(table[Int((bits >> 16) - (first >> 16))])
        if k < 99 && bits >= starts[k + 1] { k += 1 }
        counts[min(k, 99)] += 1
      }
    }
  }

  /// For each edge, the bit pattern of the smallest float32 whose float64 value is at least the edge: a float32 is
  /// in bin k when its bits are in [edgeStarts[k], edgeStarts[k + 1]).
  static let edgeStarts: [UInt32] = edges.map { e in
    var f = Float(e)
    if Double(f) < e { f = f.nextUp }
    while Double(f.nextDown) >= e { f = f.nextDown }
    return f.bitPattern
  }

  /// The bin of the lowest float32 of each run of 2^16 bit patterns (exponent and 7 mantissa bits) from the first
  /// edge's run up to 1's: such a run spans 0.8% in value and a bin 26%, so a float is in that bin or the next.
  static let binOfTopBits: [UInt8] = {
    let starts = edgeStarts
    return (starts[0] >> 16...Float(1).bitPattern >> 16).map { top in
      let lowest = top << 16
      return UInt8(starts.lastIndex { $0 <= lowest } ?? 0)
    }
  }()

  /// `scipy.spatial.distance.jensenshannon(p, q)` (natural log): sqrt of the JS divergence of the normalised
  /// histograms. nil when either histogram is empty (scipy returns nan).
  public static func distance(_ p: [Double], _ q: [Double]) -> Double? {
    let sp = p.reduce(0, +), sq = q.reduce(0, +)
    guard sp > 0, sq > 0, p.count == q.count else { return nil }
    var js = 0.0
    for i in p.indices {
      let a = p[i] / sp, b = q[i] / sq
      let m = (a + b) / 2
      if a > 0 { js += a * log(a / m) }
      if b > 0 { js += b * log(b / m) }
    }
    return (max(js, 0) / 2).squareRoot()
  }
}

/// Running statistics of what pruning and quantization did to a stream (the spiqa-quantize report).
public struct QuantReport: Sendable {
  /// Tensors seen.
  public var tensors = 0
  /// Values seen.
  public var values = 0
  /// Exact zeros before (in the input) and after.
  public var zerosBefore = 0
  public var zerosAfter = 0
  /// Sum and maximum of |output - input| (float64).
  public var absErrorSum = 0.0
  public var maxAbsError = 0.0
  /// Distinct output values (float32 bit patterns) when the caller tracks them; nil when not tracked.
  public var distinct: Set<UInt32>? = []
  /// Jensen–Shannon distance: sum over rows, rows counted, rows skipped (an empty histogram on either side).
  public var jsSum = 0.0
  public var jsRows = 0
  public var jsSkipped = 0

  public init() {}

  /// Adds one tensor: `original` and `quantized` have the same count, rows of `rowLength` values.
  public mutating func add(original: UnsafeBufferPointer<Float>, quantized: UnsafeBufferPointer<Float>,
                           rowLength: Int, js: Bool)
  {
    tensors += 1
    values += original.count
    var zb = 0, za = 0
    var sum = 0.0, mx = maxAbsError
    for i in 0..<original.count {
      let a = original[i], b = quantized[i]
      if a == 0 { zb += 1 }
      if b == 0 { za += 1 }
      let e = abs(Double(b) - Double(a))
      sum += e
      if e > mx { mx = e }
    }
    zerosBefore += zb
    zerosAfter += za
    absErrorSum += sum
    maxAbsError = mx
    guard js, rowLength > 0 else { return }
    var hp = [Double](), hq = [Double]()
    var start = 0
    while start + rowLength <= original.count {
      JensenShannon.histogram(UnsafeBufferPointer(rebasing: original[start..<(start + rowLength)]), into: &hp)
      JensenShannon.histogram(UnsafeBufferPointer(rebasing: quantized[start..<(start + rowLength)]), into: &hq)
      if let d = JensenShannon.distance(hp, hq) { jsSum += d; jsRows += 1 } else { jsSkipped += 1 }
      start += rowLength
    }
  }

  public var sparsityBefore: Double { values > 0 ? Double(zerosBefore) / Double(values) : 0 }
  public var sparsityAfter: Double { values > 0 ? Double(zerosAfter) / Double(values) : 0 }
  public var meanAbsError: Double { values > 0 ? absErrorSum / Double(values) : 0 }
  /// Mean JS distance over all rows of the stream (nil when not computed or no row counted).
  public var meanJS: Double? { jsRows > 0 ? jsSum / Double(jsRows) : nil }
}
