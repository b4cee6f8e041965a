import CQuantKernels
import SpiqaIO

/// Output levels for `codes` records: a sorted level list (coded in C, `spiqa_quant_codes`) plus extra values in a
/// dictionary.
struct CodeTable {
  let sorted: [Float]
  private(set) var extras: [UInt32: Int] = [:]
  private(set) var extraList: [Float] = []

  init(sorted: [Float]) { self.sorted = sorted }

  var count: Int { sorted.count + extraList.count }
  /// The level of each code.
  var levels: [Float] { sorted + extraList }

  mutating func addExtra(_ v: Float) {
    extras[v.bitPattern] = count
    extraList.append(v)
  }

  /// The table of `levels` (sorted) plus every value of `values` not among them (NaN, values outside [0, 1]), in
  /// order of appearance, and each value's code; nil beyond 65536 distinct values.
  static func encode(_ values: UnsafeMutableBufferPointer<Float>, levels: [Float]) -> (table: CodeTable, codes: [UInt16])? {
    guard levels.count <= 65536 else { return nil }  // a code is a UInt16
    var table = CodeTable(sorted: levels)
    var codes = [UInt16](repeating: 0, count: values.count)
    let complete = codes.withUnsafeMutableBufferPointer { out in
      guard let x = values.baseAddress, let o = out.baseAddress else { return true }
      var i = 0
      while i < values.count {
        // The kernel codes the levels; it stops at a value that is not one, coded here from the extras.
        if !levels.isEmpty { i += spiqa_quant_codes(x + i, values.count - i, levels, levels.count, o + i) }
        guard i < values.count else { break }
        if let c = table.extras[x[i].bitPattern] {
          o[i] = UInt16(truncatingIfNeeded: c)
        } else {
          if table.count >= 65536 { return false }
          o[i] = UInt16(table.count)
          table.addExtra(x[i])
        }
        i += 1
      }
      return true
    }
    return complete ? (table, codes) : nil
  }

  /// Codes as a u1 (≤ 256 levels) or u2 (little-endian) NPY array of `shape`.
  static func codeArray(_ codes: [UInt16], count: Int, shape: [Int]) -> NPYArray {
    if count <= 256 { return NPYArray(uint8: codes.map { UInt8(truncatingIfNeeded: $0) }, shape: shape) }
    var bytes = [UInt8](repeating: 0, count: codes.count * 2)
    for (i, c) in codes.enumerated() {
      bytes[2 * i] = UInt8(c & 0xFF)
      bytes[2 * i + 1] = UInt8(c >> 8)
    }
    return NPYArray(dtype: .uint16, shape: shape, bytes: bytes)
  }
}
