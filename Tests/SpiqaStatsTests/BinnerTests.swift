import Foundation
import Testing

import SpiqaCore
@testable import SpiqaStats

/// The table-driven binner against the float64 binary search (numpy semantics) and against numpy's edges.
@Suite struct BinnerTests {
  static let presets: [BinEdges] = [.referenceLog(), .referencePlotDist(), .referenceJS(), .linear()]

  @Test(arguments: presets)
  func tableMatchesSearchOnBoundaries(_ edges: BinEdges) {
    let binner = Binner(edges)
    // Every edge, its float32 neighbours, and values whose offset sum lands there.
    for e in edges.edges {
      var f = Float(e)
      for _ in 0..<3 { f = f.nextDown }
      for _ in 0..<7 {
        let v = f - edges.offset
        for x in [f, v, v.nextUp, v.nextDown] where x >= 0 {
          #expect(binner.bin(x) == binner.exactBin(Double(x + edges.offset)), "value \(x) near edge \(e)")
        }
        f = f.nextUp
      }
    }
  }

  @Test(arguments: presets)
  func tableMatchesSearchOnRandomValues(_ edges: BinEdges) {
    let binner = Binner(edges)
    var rng = SplitMix64(seed: 7)
    for _ in 0..<200_000 {
      let bits = UInt32(truncatingIfNeeded: rng.next()) % 0x3F80_0001
      let x = Float(bitPattern: bits)
      #expect(binner.bin(x) == binner.exactBin(Double(x + edges.offset)))
    }
  }

  @Test func specialValues() throws {
    let b = Binner(.referenceLog())
    #expect(b.bin(0) == 0)  // exact zeros land in the first bin (0 + 1e-8 ≥ 9e-9)
    #expect(b.bin(1) == 99)  // 1 + 1e-8 rounds to 1 in float32, inside the closed last bin
    #expect(b.bin(.nan) == -1)
    #expect(b.bin(2) == -1)
    #expect(b.bin(-1) == -1)
    #expect(b.bin(.infinity) == -1)
    let lin = Binner(try BinEdges(parsing: "linear:10"))
    #expect(lin.bin(1) == 9)
    #expect(lin.bin(0) == 0)
    #expect(lin.bin(-0.0) == 0)
    #expect(lin.bin(0.1) == Binner(.linear(bins: 10)).exactBin(Double(Float(0.1))))
    let custom = try BinEdges(parsing: "-1,0,0,0.5,1")
    let cb = Binner(custom)
    #expect(cb.bin(-0.5) == 0)
    #expect(cb.bin(0) == 2)  // equal edges: the empty bin is skipped, as numpy does
    #expect(cb.bin(1) == 3)
  }

  @Test func badEdgesAreRejected() {
    #expect(throws: StatsError.self) { try BinEdges(parsing: "1,0") }
    #expect(throws: StatsError.self) { try BinEdges(parsing: "0,x") }
    #expect(throws: StatsError.self) { try BinEdges(parsing: "0") }
    #expect(throws: StatsError.self) { try BinEdges(parsing: "log:0") }
    #expect(throws: StatsError.self) { try BinEdges(parsing: "0,inf") }
  }

  @Test func thresholdsCompareInFloat32() throws {
    let c = try ThresholdClassifier([1e-4, 0, 1e-8])
    #expect(c.thresholds == [0, 1e-8, 1e-4])
    #expect(c.classify(0) == 0)
    #expect(c.classify(-0.0) == 0)
    #expect(c.classify(Float(1e-8)) == 1)
    #expect(c.classify(Float(1e-8).nextUp) == 2)
    #expect(c.classify(Float(1e-4)) == 2)
    #expect(c.classify(Float(1e-4).nextUp) == 3)
    #expect(c.classify(.nan) == 4)
    #expect(throws: StatsError.self) { try ThresholdClassifier([-1]) }
  }

  /// Edges computed here equal numpy's bit for bit (fixture written by scripts/hist_reference.py edges).
  @Test func edgesEqualNumpy() throws {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/edges", withExtension: "tsv"))
    let text = try String(contentsOf: url, encoding: .utf8)
    var expected: [String: [UInt64]] = [:]
    for line in text.split(separator: "\n") {
      let f = line.split(separator: "\t")
      guard f.count == 2 else { continue }
      expected[String(f[0]), default: []].append(try #require(UInt64(f[1], radix: 16)))
    }
    for e in Self.presets {
      let bits = try #require(expected[e.name], "fixture lacks \(e.name)")
      #expect(e.edges.map(\.bitPattern) == bits, "edges \(e.name)")
    }
  }
}

