import Testing

import SpiqaCore
@testable import SpiqaStats

/// The merged per-value classification equals the separate binner, threshold, zero and bar checks.
@Suite struct CellTableTests {
  static let cases: [(BinEdges, [Float], Float)] = [
    (.referenceLog(), [1e-8, 1e-4, 1e-3, 1e-2, 1e-1], 1e-8),
    (.referencePlotDist(), [0, 0.25], 0.0005),
    (.linear(bins: 10), [0.5], 0),
    (.referenceJS(), [], -1),
  ]

  @Test(arguments: 0..<4)
  func cellsAgreeWithDirectChecks(_ i: Int) throws {
    let (edges, ts, bar) = Self.cases[i]
    let binner = Binner(edges)
    let th = try ThresholdClassifier(ts)
    let table = CellTable(binner: binner, thresholds: th, bar: bar)
    #expect(table.count <= edges.bins + ts.count + 4)
    func check(_ bits: UInt32) {
      let v = Float(bitPattern: bits)
      let c = table.cells[table.cell(bits)]
      #expect(c.bin == binner.bin(v) && c.thresholdClass == th.classify(v), "value \(v)")
      #expect(c.isZero == (v == 0) && c.atMostBar == (v <= bar), "value \(v)")
    }
    var probes: [UInt32] = [0, 1, 2, BitStepTable.lastBits, BitStepTable.lastBits - 1]
    for e in edges.edges {
      let f = Float(e).bitPattern
      for d in 0..<8 { probes.append(f &- 4 &+ UInt32(d)) }
      let g = Float(e) - edges.offset
      if g > 0 { for d in 0..<8 { probes.append(g.bitPattern &- 4 &+ UInt32(d)) } }
    }
    for t in ts + [bar] where t > 0 { for d in 0..<5 { probes.append(t.bitPattern &- 2 &+ UInt32(d)) } }
    var rng = SplitMix64(seed: UInt64(i) + 11)
    for _ in 0..<100_000 { probes.append(UInt32(truncatingIfNeeded: rng.next()) % (BitStepTable.lastBits + 1)) }
    for b in probes where b <= BitStepTable.lastBits { check(b) }
  }
}
