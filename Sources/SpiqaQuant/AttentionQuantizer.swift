import CQuantKernels

/// One configured attention quantizer: method, bits and variant (reference quirks or corrected).
///
/// Element-wise methods (§2.1–2.7) are evaluated exactly as the reference's float32 PyTorch expression; the fast path
/// is a segment table built from that formula, bit-identical to it on every float32 in [0, 1] (`verifyTable`);
/// inputs outside [0, 1) use the formula. Up to 64 segments (≤ 5 bits) a value is mapped by comparing it with every
/// segment start (`CQuantKernels`, 8 values per AVX2 instruction, ~0.1 ns a value); beyond, by the bucketed table.
/// Data-dependent methods (§2.8–2.11) take their statistics over all buffers given to one `apply` call (the scope).
public struct AttentionQuantizer: Sendable {
  public let method: QuantMethod
  public let bits: Int
  public let variant: QuantVariant
  let formula: ElementwiseFormula
  let table: SegmentTable?
  /// True when `apply` uses the segment table rather than the formula.
  let useTable: Bool

  /// - Throws: `QuantError` (usage) when `bits` is outside 1…16.
  public init(method: QuantMethod, bits: Int, variant: QuantVariant = .reference) throws {
    guard supportedBits.contains(bits) else {
      throw QuantError("bits must be in \(supportedBits.lowerBound)…\(supportedBits.upperBound), got \(bits)", isUsage: true)
    }
    self.method = method
    self.bits = bits
    self.variant = variant
    let f = ElementwiseFormula(method: method, bits: bits, corrected: variant == .corrected)
    self.formula = f
    if method.isElementwise {
      self.table = SegmentTable { f($0) }
      // The lookup costs ~2 ns per value whatever the data; the formulas cost 3–10 ns (log2, or unpredictable
      // branches around floor for values below 1e-3).
      useTable = true
    } else {
      self.table = nil
      self.useTable = false
    }
  }

  /// The reference expression for one value (element-wise methods only; data-dependent methods return `x`).
  @inline(__always)
  public func quantize(_ x: Float) -> Float { formula(x) }

  /// The fast path for one value: table lookup on [0, 1), formula elsewhere. Same result as `quantize`.
  @inline(__always)
  func lookup(_ x: Float, _ starts: UnsafePointer<UInt32>, _ values: UnsafePointer<Float>,
              _ bucket: UnsafePointer<UInt32>) -> Float
  {
    let u = x.bitPattern
    if u < SegmentTable.one {
      var j = Int(bucket[Int(u >> SegmentTable.shift)])
      while starts[j + 1] <= u { j += 1 }
      return values[j]
    }
    return formula(x)
  }

  /// All output values the method can produce for inputs in [0, 1] (0 included), sorted ascending.
  /// Element-wise methods only; `nil` for data-dependent ones (see `QuantStatistics.levels`).
  public var levels: [Float]? {
    guard let table else { return nil }
    var set = Set(table.values)
    set.insert(formula(1.0))
    set.insert(0)
    return set.sorted()
  }

  /// Quantize one buffer in place (one scope). See `apply(_:rowLength:)`.
  @discardableResult
  public func apply(_ x: UnsafeMutableBufferPointer<Float>, rowLength: Int? = nil) throws -> QuantStatistics? {
    try apply([x], rowLength: rowLength)
  }

  /// Quantize in place. Data-dependent methods take statistics over ALL the given buffers together (the scope).
  /// - Parameters:
  ///   - rowLength: length of one attention row; needed only by binarization's corrected variant.
  ///   - countedZeros: +0.0 values the scope holds beyond `parts` (uniform_slog_mean's statistics count them: the
  ///     reference's padding, trimmed away; the other methods ignore it).
  /// - Returns: the statistics of a data-dependent method, `nil` for element-wise methods.
  /// - Throws: `QuantError` when the reference itself would fail (too few values for a data-dependent method).
  @discardableResult
  public func apply(_ parts: [UnsafeMutableBufferPointer<Float>], rowLength: Int? = nil, countedZeros: Int = 0) throws
    -> QuantStatistics?
  {
    switch method {
    case .binarization:
      return try applyBinarization(parts, corrected: variant == .corrected, rowLength: rowLength)
    case .uniformSlinearClampedMean, .uniformSlogClampedMean, .uniformSlogMean:
      let stats = try dataDependentStatistics(method: method, bits: bits, parts: parts, countedZeros: countedZeros)
      applyCascade(parts, stats: stats, method: method, corrected: variant == .corrected)
      return stats
    default:
      for p in parts { applyElementwise(p) }
      return nil
    }
  }

  /// Element-wise methods: in place, fast path.
  func applyElementwise(_ p: UnsafeMutableBufferPointer<Float>) {
    guard let base = p.baseAddress else { return }
    applyElementwise(base, rows: 1, columns: p.count, stride: p.count)
  }

  /// Element-wise methods on the `[rows, columns]` corner of a row-major matrix of row stride `stride`: the compare
  /// kernel up to SPIQA_QUANT_STEPS_MAX segments, the bucketed table beyond.
  func applyElementwise(_ base: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, stride: Int) {
    let f = formula
    if useTable, let table, table.segmentCount <= Int(SPIQA_QUANT_STEPS_MAX) {
      applySteps(base, rows: rows, columns: n, stride: stride, starts: table.starts, values: table.values) { f($0) }
    } else if useTable, let table {
      table.starts.withUnsafeBufferPointer { s in
        table.values.withUnsafeBufferPointer { v in
          table.bucket.withUnsafeBufferPointer { b in
            let sp = s.baseAddress!, vp = v.baseAddress!, bp = b.baseAddress!
            for r in 0..<rows {
              let row = base + r * stride
              for i in 0..<n { row[i] = lookup(row[i], sp, vp, bp) }
            }
          }
        }
      }
    } else {
      for r in 0..<rows {
        let row = base + r * stride
        for i in 0..<n { row[i] = f(row[i]) }
      }
    }
  }

  /// Quantize an array in place (convenience for tests and small inputs).
  @discardableResult
  public func apply(_ x: inout [Float], rowLength: Int? = nil) throws -> QuantStatistics? {
    try x.withUnsafeMutableBufferPointer { try apply($0, rowLength: rowLength) }
  }

  /// Checks that the fast path equals the formula for every float32 bit pattern in `range` (default: all of
  /// [0, 1], 1,065,353,217 values). Returns the first mismatching input, or nil. Element-wise methods only.
  public func verifyTable(range: ClosedRange<UInt32> = 0...0x3F80_0000) -> Float? {
    guard let table else { return nil }
    return table.starts.withUnsafeBufferPointer { s in
      table.values.withUnsafeBufferPointer { v in
        table.bucket.withUnsafeBufferPointer { b in
          let sp = s.baseAddress!, vp = v.baseAddress!, bp = b.baseAddress!
          for u in range {
            let x = Float(bitPattern: u)
            if lookup(x, sp, vp, bp).bitPattern != formula(x).bitPattern { return x }
          }
          return nil
        }
      }
    }
  }

  /// Segment boundaries on [0, 1): the first input (bit pattern) of each new output value, and the outputs
  /// (`values.count == starts.count`, `starts[0] == 0`). Element-wise methods only.
  public var segments: (starts: [UInt32], values: [Float])? {
    guard let table else { return nil }
    return (Array(table.starts.dropLast()), table.values)
  }
}
