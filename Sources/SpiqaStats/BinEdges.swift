import Foundation
import SpiqaCore

/// Bin edges and the value offset of a histogram, built exactly as the reference's numpy code builds them.
///
/// Values are binned as numpy does: `np.histogram(x + offset, bins=edges)` with `x` float32, so `x + offset` is
/// rounded to float32 first and then compared with the float64 edges; bin `i` is `[E[i], E[i+1])`, the last bin
/// is closed; values outside `[E[0], E[last]]` and NaN are not counted.
public struct BinEdges: Sendable, Equatable {
  /// The edges, non-decreasing, finite; `count = bins + 1`.
  public var edges: [Double]
  /// Added (in float32) to every value before binning (the reference's `+ 1e-8`).
  public var offset: Float
  /// Short name used in outputs (`log`, `log20`, `js`, `linear`, `custom`).
  public var name: String

  /// Number of bins.
  public var bins: Int { edges.count - 1 }

  /// Validates edges: at least 2, finite, non-decreasing, at most 32000 bins.
  public init(edges: [Double], offset: Float = 0, name: String = "custom") throws {
    guard edges.count >= 2 else { throw StatsError("bin edges: need at least 2 edges, got \(edges.count)") }
    guard edges.count <= 32001 else { throw StatsError("bin edges: at most 32000 bins, got \(edges.count - 1)") }
    for (i, e) in edges.enumerated() {
      guard e.isFinite else { throw StatsError("bin edges: edge \(i) is \(e); expected a finite number") }
      if i > 0 && e < edges[i - 1] {
        throw StatsError("bin edges: edge \(i) (\(e)) < edge \(i - 1) (\(edges[i - 1])); expected non-decreasing edges")
      }
    }
    guard offset.isFinite else { throw StatsError("bin edges: offset must be finite") }
    self.edges = edges
    self.offset = offset
    self.name = name
  }

  /// §3.3 per-row bins: `E = 10**linspace(log10(1e-8), log10(1+1e-8), 101)`, `E[0] -= 1e-9`, values `+ 1e-8`.
  public static func referenceLog(bins: Int = 100) -> BinEdges {
    var e = Numpy.linspace(log10(1e-8), log10(1 + 1e-8), count: bins + 1).map { Numpy.power10($0) }
    e[0] -= 1e-9
    if bins == 100 { e = NumpyEdgeTables.log.map(Double.init(bitPattern:)) }
    return BinEdges(unchecked: e, offset: Float(1e-8), name: "log")
  }

  /// §3.4 `plot_dist` bins: `10**linspace(-20, log10(1+1e-20), 101)`, first edge `-= 1e-21`, values `+ 1e-20`.
  public static func referencePlotDist(bins: Int = 100) -> BinEdges {
    var e = Numpy.linspace(-20, log10(1 + 1e-20), count: bins + 1).map { Numpy.power10($0) }
    e[0] -= 1e-21
    if bins == 100 { e = NumpyEdgeTables.log20.map(Double.init(bitPattern:)) }
    return BinEdges(unchecked: e, offset: Float(1e-20), name: "log20")
  }

  /// §3.6 Jensen–Shannon bins: `10**linspace(-10, 0, 101)`, values `+ 1e-10`.
  public static func referenceJS(bins: Int = 100) -> BinEdges {
    var e = Numpy.linspace(-10, 0, count: bins + 1).map { Numpy.power10($0) }
    if bins == 100 { e = NumpyEdgeTables.js.map(Double.init(bitPattern:)) }
    return BinEdges(unchecked: e, offset: Float(1e-10), name: "js")
  }

  /// Linear bins `linspace(lo, hi, bins + 1)`, no offset.
  public static func linear(bins: Int = 100, lo: Double = 0, hi: Double = 1) -> BinEdges {
    BinEdges(unchecked: Numpy.linspace(lo, hi, count: bins + 1), offset: 0, name: "linear")
  }

  private init(unchecked edges: [Double], offset: Float, name: String) {
    self.edges = edges
    self.offset = offset
    self.name = name
  }

  /// Whether `readList` reads `spec` as a file (no comma, and the path exists) rather than as a list.
  public static func namesFile(_ spec: String) -> Bool {
    !spec.contains(",") && FileManager.default.fileExists(atPath: spec)
  }

  /// Edge values from a comma list, or from a file of numbers (separated by commas or whitespace).
  /// - Throws: `StatsError` when the file cannot be read or an item is not a number.
  public static func readList(_ spec: String) throws -> [Double] {
    var text = spec
    let isFile = namesFile(spec)
    if isFile {
      do {
        let limit = try ResourceLimits.value(ResourceLimits.dataBytesVariable, default: ResourceLimits.defaultDataBytes)
        let bytes = try InputFile.readAll(spec, limit: limit, limitVariable: ResourceLimits.dataBytesVariable)
        text = String(decoding: bytes, as: UTF8.self)  // a FIFO or <(…) too
      } catch let e as any SpiqaError {
        throw StatsError(e.description)
      }
    }
    let items = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
    return try items.map { item in
      guard let v = Double(item) else {
        throw StatsError("'\(item.prefix(60))' is not a number\(isFile || spec.contains(",") ? "" : " (nor a file)")")
      }
      return v
    }
  }

  /// Parses a preset name (`log`, `log20`, `js`, `linear`, optionally `name:BINS`) or a comma-separated list of
  /// edges (`0,1e-8,1e-4,1`).
  public init(parsing spec: String, offset: Float? = nil) throws {
    let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
    let name = parts.first ?? ""
    var bins = 100
    if parts.count == 2 {
      guard let b = Int(parts[1]), b >= 1, b <= 32000 else {
        throw StatsError("bins '\(spec)': expected NAME:COUNT with 1 ≤ COUNT ≤ 32000")
      }
      bins = b
    }
    var made: BinEdges
    switch name {
    case "log": made = .referenceLog(bins: bins)
    case "log20": made = .referencePlotDist(bins: bins)
    case "js": made = .referenceJS(bins: bins)
    case "linear": made = .linear(bins: bins)
    default:
      let fields = spec.split(separator: ",", omittingEmptySubsequences: false)
      var edges: [Double] = []
      for f in fields {
        let t = f.trimmingCharacters(in: .whitespaces)
        guard let v = Double(t) else {
          throw StatsError("bins '\(spec)': '\(t)' is not a number; expected log, log20, js, linear[:N] or a list of edges")
        }
        edges.append(v)
      }
      made = try BinEdges(edges: edges, offset: 0, name: "custom")
    }
    if let offset { made.offset = offset }
    self = made
  }
}

/// Bit-exact re-implementations of the numpy functions used to build edges.
public enum Numpy {
  /// `np.linspace(start, stop, count)` in float64: `y[i] = i*step + start`, `y[last] = stop`.
  public static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
    guard count > 0 else { return [] }
    guard count > 1 else { return [start] }
    let div = Double(count - 1)
    let delta = stop - start
    let step = delta / div
    var y = [Double](repeating: 0, count: count)
    for i in 0..<count {
      y[i] = step == 0 ? (Double(i) / div) * delta + start : Double(i) * step + start
    }
    y[count - 1] = stop
    return y
  }

  /// `10.0 ** x` with libm `pow` (numpy's own `power` can differ by 1 ulp; see `NumpyEdgeTables`).
  public static func power10(_ x: Double) -> Double { pow(10.0, x) }
}
