import Foundation
import SpiqaCore
import SpiqaQuant

/// Loads the JSON fixtures written by scripts/make_quant_fixtures.py (PyTorch float32 reference outputs).
enum Fixture {
  static func json(_ name: String) throws -> [String: Any] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
      throw FixtureError("missing fixture \(name).json")
    }
    let data = try Data(contentsOf: url)
    guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw FixtureError("\(name).json is not an object")
    }
    return obj
  }

  /// Hex float32 bit patterns → Floats.
  static func floats(_ any: Any?) throws -> [Float] {
    guard let strings = any as? [String] else { throw FixtureError("expected hex strings") }
    return try strings.map {
      guard let u = UInt32($0, radix: 16) else { throw FixtureError("bad hex \($0)") }
      return Float(bitPattern: u)
    }
  }

  /// Hex float64 bit patterns → Doubles.
  static func doubles(_ any: Any?) throws -> [Double] {
    guard let strings = any as? [String] else { throw FixtureError("expected hex strings") }
    return try strings.map {
      guard let u = UInt64($0, radix: 16) else { throw FixtureError("bad hex \($0)") }
      return Double(bitPattern: u)
    }
  }
}

struct FixtureError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// Distance in units in the last place between two non-negative finite floats (bit-pattern difference).
func ulps(_ a: Float, _ b: Float) -> UInt32 {
  let x = a.bitPattern, y = b.bitPattern
  return x > y ? x - y : y - x
}

/// Whether two outputs agree: bit-identical, or (log methods, whose levels go through exp2) within 1 ulp.
func agrees(_ a: Float, _ b: Float, method: QuantMethod) -> Bool {
  if a.bitPattern == b.bitPattern { return true }
  let logMethod = method == .linearSlog || method == .linearSlogMidval || method == .linearSlogClampedMidval
  return logMethod && a > 0 && b > 0 && ulps(a, b) <= 1
}

/// Deterministic softmax rows (SplitMix64 + Box–Muller), [rows, n] row-major; `scale` spreads the logits.
func randomSoftmax(rows: Int, n: Int, seed: UInt64, scale: Double = 3) -> [Float] {
  var rng = SplitMix64(seed: seed)
  func next() -> Double { (Double(rng.next() >> 11) + 0.5) / Double(1 << 53) }
  var out = [Float](repeating: 0, count: rows * n)
  for r in 0..<rows {
    var logits = (0..<n).map { _ in scale * sqrt(-2 * log(next())) * cos(2 * Double.pi * next()) }
    if r % 17 == 0 { logits[r % n] += 200 }    // a one-hot row: exact 1.0
    let m = logits.max() ?? 0
    let e = logits.map { Float(exp($0 - m)) }
    let s = e.reduce(0, +)
    for c in 0..<n { out[r * n + c] = e[c] / s }
    if r % 11 == 5 { for c in (n / 2)..<n { out[r * n + c] = 0 } }   // padding-like zeros
  }
  return out
}
