import Foundation
import Testing
import SpiqaQuant

/// §2.14 test vectors (b = 3): PyTorch float32 outputs (fixture) bit for bit, and the reference document's float64
/// table to its printed precision.
@Suite struct VectorTests {
  static let inputs: [Float] = [0, 5e-4, 1e-3, 0.003, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0]
  /// The table of reference §2.14, columns in the order of `QuantMethod.allCases` (element-wise ones).
  static let table: [QuantMethod: [Double]] = [
    .linearSlinear: [0, 0, 0, 0, 0, 0, 0.142857, 0.142857, 0.571429, 0.857143, 1],
    .linearSlinearMidval: [0, 0, 0, 0, 0, 0, 0, 0.1875, 0.5625, 0.9375, 1.0625],
    .linearSlinearClamped: [0, 0, 0, 0, 0, 0, 0.143714, 0.143714, 0.429143, 0.857286, 1],
    .linearSlinearClampedMidval: [0, 0, 0, 0, 0, 0, 0, 0.188312, 0.438062, 0.937563, 1.06244],
    .linearSlog: [0, 0, 0, 0.0026827, 0.00719686, 0.0517947, 0.13895, 0.13895, 0.372759, 1, 1],
    .linearSlogMidval: [0, 7.49894e-4, 7.49894e-4, 7.49894e-4, 0.0133352, 0.0133352, 0.237137, 0.237137, 0.237137,
                        0.237137, 4.21697],
    .linearSlogClampedMidval: [0, 0, 0.00163789, 0.00439397, 0.0117877, 0.0316228, 0.0848343, 0.227585, 0.61054,
                               0.61054, 0.61054],
  ]

  @Test(arguments: QuantMethod.allCases.filter(\.isElementwise))
  func referenceTable(method: QuantMethod) throws {
    let q = try AttentionQuantizer(method: method, bits: 3)
    var expected = try #require(Self.table[method])
    if method == .linearSlinear {
      // Float32, as the reference runs: 0.5 / f32(1/7) = 3.4999998, + 0.5 floors to 3 -> 3/7, not the float64
      // table's 4/7 (PyTorch gives 0.42857146 too; see the pytorchFloat32 test).
      expected[8] = 0.428571
    }
    #expect(expected.count == Self.inputs.count, "\(method.rawValue): table length")
    for (x, e) in zip(Self.inputs, expected) {
      let got = Double(q.quantize(x))
      #expect(abs(got - e) <= max(5e-6 * e, 1e-12), "\(method.rawValue)(\(x)) = \(got), table \(e)")
    }
  }

  @Test(arguments: QuantMethod.allCases.filter(\.isElementwise))
  func pytorchFloat32(method: QuantMethod) throws {
    let fx = try Fixture.json("vectors")
    let inputs = try Fixture.floats(fx["inputs"])
    let outputs = try #require(fx["outputs"] as? [String: Any])
    let expected = try Fixture.floats(outputs[method.rawValue])
    let q = try AttentionQuantizer(method: method, bits: 3)
    var fast = inputs
    try q.apply(&fast)
    for i in inputs.indices {
      let got = q.quantize(inputs[i])
      #expect(agrees(got, expected[i], method: method), "\(method.rawValue)(\(inputs[i])): \(got) vs torch \(expected[i])")
      #expect(fast[i].bitPattern == got.bitPattern, "fast path differs at \(inputs[i])")
    }
  }

  @Test func midvalAtOneCorrected() throws {
    for method in QuantMethod.allCases where method.exceedsOneAtOne {
      let ref = try AttentionQuantizer(method: method, bits: 3)
      let fixed = try AttentionQuantizer(method: method, bits: 3, variant: .corrected)
      #expect(ref.quantize(1.0) > 1, "\(method.rawValue) reference should exceed 1 at 1.0")
      #expect(fixed.quantize(1.0) <= 1)
      #expect(fixed.quantize(1.0) == fixed.quantize(Float(1).nextDown))
      #expect(try #require(fixed.levels).allSatisfy { $0 <= 1 })
    }
  }
}
