/// A piecewise-constant description of an element-wise quantizer on [0, 1): the output is `values[j]` for inputs
/// whose bit pattern lies in `[starts[j], starts[j+1])`. Built by bisection over float32 bit patterns from the
/// exact formula (non-negative floats order like their bit patterns, and every method is monotone on [0, 1]),
/// so the lookup is bit-identical to the formula; `AttentionQuantizer.verifyTable` checks that exhaustively.
struct SegmentTable: Sendable {
  /// Bit pattern of the first input of each segment; `starts[0] == 0`, followed by a `UInt32.max` sentinel.
  let starts: [UInt32]
  /// Output of each segment.
  let values: [Float]
  /// For each bucket of 2^16 consecutive bit patterns, the segment containing the bucket's first input.
  let bucket: [UInt32]

  /// Bit pattern of 1.0; inputs at or above it (and negative or NaN inputs) use the formula.
  static let one: UInt32 = 0x3F80_0000
  static let shift: UInt32 = 16

  init(_ f: (Float) -> Float) {
    var starts: [UInt32] = [0]
    var values: [Float] = [f(0)]
    // Iterative bisection: find every u where f(u) differs from f(u-1).
    var stack: [(lo: UInt32, hi: UInt32, vlo: UInt32, vhi: UInt32)] = []
    let last = SegmentTable.one - 1
    stack.append((0, last, f(0).bitPattern, f(Float(bitPattern: last)).bitPattern))
    // Process left halves first so segments come out in order.
    while let (lo, hi, vlo, vhi) = stack.popLast() {
      if vlo == vhi { continue }
      if hi == lo + 1 {
        starts.append(hi)
        values.append(Float(bitPattern: vhi))
        continue
      }
      let mid = lo + (hi - lo) / 2
      let vmid = f(Float(bitPattern: mid)).bitPattern
      stack.append((mid, hi, vmid, vhi))
      stack.append((lo, mid, vlo, vmid))
    }
    starts.append(UInt32.max)
    let count = Int(SegmentTable.one >> SegmentTable.shift)
    var bucket = [UInt32](repeating: 0, count: count)
    var j = 0
    for i in 0..<count {
      let u = UInt32(i) << SegmentTable.shift
      while starts[j + 1] <= u { j += 1 }
      bucket[i] = UInt32(j)
    }
    self.starts = starts
    self.values = values
    self.bucket = bucket
  }

  /// Number of segments on [0, 1).
  var segmentCount: Int { values.count }
}
