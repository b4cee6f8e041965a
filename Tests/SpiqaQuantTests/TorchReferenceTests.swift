import SpiqaCore
import Foundation
import Testing
import SpiqaQuant

/// Bit-level agreement with the reference functions evaluated by PyTorch in float32 (scripts/make_quant_fixtures.py).
@Suite struct TorchReferenceTests {
  struct Case: CustomTestStringConvertible, Sendable {
    let method: QuantMethod
    let bits: Int
    var testDescription: String { "\(method.rawValue)/\(bits)" }
  }

  static let elementwiseCases: [Case] = QuantMethod.allCases.filter(\.isElementwise).flatMap { m in
    [1, 2, 3, 4, 8].map { Case(method: m, bits: $0) }
  }

  /// Every input in [0, 1) where PyTorch's output changes, and the output after it: the same inputs (exactly) and
  /// the same values (bit-identical; log methods ≤1 ulp where exp2 implementations differ). Together with the
  /// exhaustive table check this means identical bins for every float32 in [0, 1).
  @Test(arguments: elementwiseCases)
  func segmentsMatchPyTorch(_ c: Case) throws {
    let fx = try Fixture.json("segments")
    let methods = try #require(fx["methods"] as? [String: Any])
    let byBits = try #require(methods[c.method.rawValue] as? [String: Any])
    let entry = try #require(byBits[String(c.bits)] as? [String: Any])
    let starts = try #require(entry["starts"] as? [NSNumber]).map { $0.uint32Value }
    let values = try #require(entry["values"] as? [NSNumber]).map { Float(bitPattern: $0.uint32Value) }
    let q = try AttentionQuantizer(method: c.method, bits: c.bits)
    let mine = try #require(q.segments)
    #expect(mine.starts == starts, "bin edges differ from PyTorch")
    #expect(mine.values.count == values.count)
    for (a, b) in zip(mine.values, values) {
      #expect(agrees(a, b, method: c.method), "level \(a) vs torch \(b)")
    }
  }

  static let randomCases: [Case] = QuantMethod.allCases.flatMap { m in [2, 3, 4].map { Case(method: m, bits: $0) } }

  /// A (2,4,20,20) softmax tensor with padding and one-hot rows, whole tensor = one scope (the reference's batch).
  @Test(arguments: randomCases)
  func randomTensorMatchesPyTorch(_ c: Case) throws {
    let fx = try Fixture.json("random")
    let input = try Fixture.floats(fx["input"])
    let outputs = try #require(fx["outputs"] as? [String: Any])
    let expected = try Fixture.floats(outputs["\(c.method.rawValue)/\(c.bits)"])
    let q = try AttentionQuantizer(method: c.method, bits: c.bits)
    var x = input
    let stats = try q.apply(&x)
    var mismatches = 0
    for i in x.indices where !agrees(x[i], expected[i], method: c.method) {
      mismatches += 1
      if mismatches <= 3 { Issue.record("[\(i)] in \(input[i]): \(x[i]) vs torch \(expected[i])") }
    }
    #expect(mismatches == 0)
    if !c.method.isElementwise {
      let allStats = try #require(fx["stats"] as? [String: Any])
      let s = try #require(allStats["\(c.method.rawValue)/\(c.bits)"] as? [String: Any])
      let st = try #require(stats)
      #expect(st.thresholds == (try Fixture.doubles(s["thresholds"])))
      #expect(st.values == (try Fixture.doubles(s["values"])))
    }
  }

  /// The reference's data-dependent example (§2.14): dirichlet tensor, b = 2.
  @Test(arguments: [QuantMethod.uniformSlinearClampedMean, .uniformSlogClampedMean, .uniformSlogMean])
  func dirichletExample(method: QuantMethod) throws {
    let fx = try Fixture.json("dirichlet")
    var x = try Fixture.floats(fx["input"])
    let methods = try #require(fx["methods"] as? [String: Any])
    let m = try #require(methods[method.rawValue] as? [String: Any])
    let stats = try #require(try AttentionQuantizer(method: method, bits: 2).apply(&x))
    #expect(stats.thresholds == (try Fixture.doubles(m["thresholds"])))
    #expect(stats.values == (try Fixture.doubles(m["values"])))
    let expected = try Fixture.floats(m["output"])
    #expect(x.map(\.bitPattern) == expected.map(\.bitPattern))
    // The figures printed in the reference document (6 significant digits).
    let doc: [QuantMethod: ([Double], [Double])] = [
      .uniformSlinearClampedMean: ([0.01347, 0.063331, 0.443963], [0.007235, 0.0384005, 0.253647]),
      .uniformSlogClampedMean: ([0.039049, 0.082046, 0.18035], [0.0112815, 0.0554215, 0.1122467]),
      .uniformSlogMean: ([0.024724, 0.068658, 0.18035, 0.245305], [0.0049887, 0.0447658, 0.1015351, 0.1840778]),
    ]
    let (t, v) = try #require(doc[method])
    #expect(zip(stats.thresholds, t).allSatisfy { abs($0 - $1) <= 1e-6 } && stats.thresholds.count == t.count)
    #expect(zip(stats.values, v).allSatisfy { abs($0 - $1) <= 1e-6 } && stats.values.count == v.count)
  }

  @Test(arguments: ["fixed/7", "fixed/8", "fixed/12", "linear/2", "linear/4", "linear/8", "log/2", "log/4", "log/8"])
  func hiddenStates(_ key: String) throws {
    let fx = try Fixture.json("hidden")
    let input = try Fixture.floats(fx["input"])
    let outputs = try #require(fx["outputs"] as? [String: Any])
    let expected = try Fixture.floats(outputs[key])
    let parts = key.split(separator: "/")
    let bits = try #require(Int(parts[1]))
    var x = input
    try x.withUnsafeMutableBufferPointer { p in
      switch parts[0] {
      case "fixed": try HiddenStateQuantizer.fixed(p, bits: bits)
      case "linear": try HiddenStateQuantizer.linear(p, bits: bits)
      default: try HiddenStateQuantizer.log(p, bits: bits)
      }
    }
    for i in x.indices {
      let ok = x[i].bitPattern == expected[i].bitPattern
        || (parts[0] == "log" && x[i].sign == expected[i].sign && ulps(abs(x[i]), abs(expected[i])) <= 1)
      #expect(ok, "\(key)[\(i)] in \(input[i]): \(x[i]) vs torch \(expected[i])")
    }
  }
}

/// The analyzer's `-qv` Jensen–Shannon distance: per-row log histograms and scipy's `jensenshannon`.
@Suite struct JensenShannonTests {
  @Test func matchesScipyPerRow() throws {
    let fx = try Fixture.json("js")
    let original = try Fixture.floats(fx["original"])
    let quantized = try Fixture.floats(fx["quantized"])
    let n = try #require(fx["row_length"] as? Int)
    let expected = try #require(fx["distance"] as? [NSNumber]).map(\.doubleValue)
    var hp = [Double](), hq = [Double]()
    for (r, e) in expected.enumerated() {
      original[(r * n)..<((r + 1) * n)].withUnsafeBufferPointer { JensenShannon.histogram($0, into: &hp) }
      quantized[(r * n)..<((r + 1) * n)].withUnsafeBufferPointer { JensenShannon.histogram($0, into: &hq) }
      let d = try #require(JensenShannon.distance(hp, hq))
      #expect(abs(d - e) <= 1e-12, "row \(r): \(d) vs scipy \(e)")
    }
  }

  /// The histogram's bit-pattern lookup bins every float32 as np.histogram does with the float64 edges: floats on
  /// and beside every edge (±3 ulps), 0, 1, the ends, values outside [1e-10, 1], NaN, and random floats in [0, 1].
  @Test func histogramBinsEqualASearchOfTheEdges() {
    func plainBin(_ x: Float) -> Int? {
      let v = Double(x + Float(1e-10))
      guard v >= JensenShannon.edges[0], v <= 1 else { return nil }
      return min(99, JensenShannon.edges.lastIndex { $0 <= v }!)
    }
    var values: [Float] = [0, -0.0, 1, 1.0000001, 2, -1e-12, .nan, .infinity, 1e-12, 9e-11, 1e-10]
    for e in JensenShannon.edges {
      var f = Float(e)
      for _ in 0..<3 { f = f.nextDown }
      for _ in 0..<7 { values.append(f); f = f.nextUp }
    }
    var rng = SplitMix64(seed: 3)
    for _ in 0..<20_000 {
      let u = Double(rng.next() >> 11) / Double(1 << 53)
      values.append(Float(pow(10, -11 * u)))
    }
    var expected = [Double](repeating: 0, count: 100)
    for x in values { if let k = plainBin(x) { expected[k] += 1 } }
    var counts = [Double]()
    values.withUnsafeBufferPointer { JensenShannon.histogram($0, into: &counts) }
    #expect(counts == expected)
    for x in values {
      [x].withUnsafeBufferPointer { JensenShannon.histogram($0, into: &counts) }
      #expect(counts.firstIndex(of: 1) == plainBin(x), "\(x) (bits \(String(x.bitPattern, radix: 16)))")
    }
  }

  @Test func reportAggregatesMeanOverRows() throws {
    var report = QuantReport()
    let a: [Float] = [0.5, 0.5, 0, 0, 1, 0, 0, 0]
    let b: [Float] = [0.5, 0.5, 0, 0, 0.98, 0, 0, 0]
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in report.add(original: pa, quantized: pb, rowLength: 4, js: true) }
    }
    #expect(report.jsRows == 2)
    #expect(report.meanJS == 0)            // 1.0 and 0.98 share the last bin [10^-0.1, 1]
    #expect(report.sparsityBefore == 5.0 / 8.0)
    #expect(abs(report.maxAbsError - 0.02) < 1e-6)
  }
}
