import CCPU
import CStreamKernels
import Testing

@testable import SpiqaIO

/// `--dtype f16` goes through `spiqa_f32_to_f16` (F16C or per element); it must give Swift's `Float16(x)` bits.
@Suite("f32 → f16 conversion", .serialized)
struct HalfConversionTests {
  static let special: [Float] = [
    0, -0, 1, -1, .infinity, -.infinity, 65504, 65519.99, 65520, -65520, 1e-8, 5.960464477539063e-08,
    2.9802322387695312e-08, 2.98023259e-08, 8.940697e-08, 6.1035156e-05, 6.1035153e-05, 0.333333343, 1 + 1 / 2048,
    1 + 3 / 2048, .greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude,
  ]

  /// Every 4099th bit pattern (all exponents, both signs) plus the special values, in odd-length pieces.
  static let inputs: [Float] = special + stride(from: UInt64(0), to: 1 << 32, by: 4099).map {
    Float(bitPattern: UInt32($0))
  }

  @Test("same bits as Float16(x) at every ISA level, any length and alignment")
  func matchesSwift() {
    let best = spiqa_kernels_best_isa()
    defer { _ = spiqa_kernels_set_isa(best) }
    for isa in Int32(0)...best {
      #expect(spiqa_kernels_set_isa(isa) == 0)
      for (offset, count) in [(0, Self.inputs.count), (1, 7), (3, 17), (5, 1000)] {
        let src = Array(Self.inputs[offset..<(offset + count)])
        var out = [UInt8](repeating: 0xAB, count: 2 * count + 3)
        out.withUnsafeMutableBytes { raw in
          src.withUnsafeBufferPointer { s in
            // Start one byte in: the output needs no alignment.
            convertToHalf(s, into: UnsafeMutableRawBufferPointer(rebasing: raw[1..<(1 + 2 * count)]))
          }
        }
        #expect(out[0] == 0xAB && out[2 * count + 1] == 0xAB, "wrote outside the output (isa \(isa))")
        var mismatches = 0
        for (i, x) in src.enumerated() {
          let got = UInt16(out[1 + 2 * i]) | UInt16(out[2 + 2 * i]) << 8
          let want = Float16(x)
          let same = want.isNaN ? Float16(bitPattern: got).isNaN : got == want.bitPattern
          if !same {
            mismatches += 1
            if mismatches <= 3 { Issue.record("isa \(isa): \(x) → \(got), Float16 gives \(want.bitPattern)") }
          }
        }
        #expect(mismatches == 0, "isa \(isa), \(count) values from \(offset)")
      }
    }
  }
}
