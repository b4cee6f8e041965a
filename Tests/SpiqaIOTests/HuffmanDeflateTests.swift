import CZlib
import Foundation
import Testing

@testable import SpiqaIO

/// `HuffmanDeflate` must produce DEFLATE that zlib inflates back to the input, for any bytes.
@Suite("Huffman-only DEFLATE encoder")
struct HuffmanDeflateTests {
  /// Runs one zlib call (`inflate` or `deflate`) over all of `input` into `out`; returns its result.
  static func run(
    _ zs: inout z_stream, _ input: [UInt8], _ out: inout [UInt8], _ call: (UnsafeMutablePointer<z_stream>) -> Int32
  ) -> Int32 {
    var input = input
    return input.withUnsafeMutableBufferPointer { i in
      out.withUnsafeMutableBufferPointer { o in
        zs.next_in = i.baseAddress
        zs.avail_in = uInt(i.count)
        zs.next_out = o.baseAddress
        zs.avail_out = uInt(o.count)
        return call(&zs)
      }
    }
  }

  /// Raw-inflates `data` with zlib (windowBits −15); nil when zlib reports an error or leaves input unread.
  static func inflate(_ data: [UInt8], expected: Int) -> [UInt8]? {
    var zs = z_stream()
    guard spiqa_inflateInit2(&zs, -15) == Z_OK else { return nil }
    defer { inflateEnd(&zs) }
    var out = [UInt8](repeating: 0, count: expected + 64)
    let ret = run(&zs, data, &out) { CZlib.inflate($0, Z_FINISH) }
    guard ret == Z_STREAM_END, zs.avail_in == 0 else { return nil }
    return Array(out[0..<Int(zs.total_out)])
  }

  /// Raw-deflates `bytes` with zlib (windowBits −15, memLevel 8) at `level` with `strategy`.
  static func zlibDeflate(_ bytes: [UInt8], level: Int32, strategy: Int32) -> [UInt8] {
    var zs = z_stream()
    #expect(spiqa_deflateInit2(&zs, level, -15, 8, strategy) == Z_OK)
    defer { deflateEnd(&zs) }
    var out = [UInt8](repeating: 0, count: bytes.count + bytes.count / 8 + 1024)
    let ret = run(&zs, bytes, &out) { deflate($0, Z_FINISH) }
    #expect(ret == Z_STREAM_END)
    return Array(out[0..<Int(zs.total_out)])
  }

  static func compress(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: HuffmanDeflate.bound(bytes.count))
    let n = bytes.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in HuffmanDeflate.compress(i, into: o.baseAddress!) } }
    #expect(n <= HuffmanDeflate.bound(bytes.count) - 8, "wrote past the documented bound")
    return Array(out[0..<n])
  }

  /// Softmax-like float32 rows: what the encoder exists for.
  static func floatRows(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = XorShift(seed)
    var floats = [Float](repeating: 0, count: count)
    var i = 0
    while i < count {
      let n = min(64, count - i)
      var sum: Float = 0
      for j in 0..<n {
        floats[i + j] = Float(Foundation.exp(Double(rng.next() % 2000) / 100 - 10))
        sum += floats[i + j]
      }
      for j in 0..<n { floats[i + j] /= sum }
      i += n
    }
    return floats.withUnsafeBytes { Array($0) }
  }

  static let cases: [(String, [UInt8])] = {
    var rng = XorShift(7)
    let random = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    // Three blocks, each stored as several stored blocks (the largest output for its size).
    let randomBlocks = (0..<(2 * HuffmanDeflate.blockSize + 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let skewed = (0..<150_000).map { i in UInt8(truncatingIfNeeded: i % 97 == 0 ? rng.next() : rng.next() % 3) }
    // Fibonacci-like counts force an optimal code deeper than 14 bits, so the length limit must act.
    var deep: [UInt8] = []
    var (a, b) = (1, 1)
    for s in 0..<24 {
      deep += [UInt8](repeating: UInt8(s), count: a)
      (a, b) = (b, a + b)
    }
    return [
      ("empty", []), ("one byte", [42]), ("two equal bytes", [7, 7]), ("one value repeated", [UInt8](repeating: 0, count: 70_000)),
      ("two values", (0..<1000).map { UInt8($0 % 2) * 255 }), ("all 256 values", (0..<256).map { UInt8($0) }),
      ("uniform random (stored)", random), ("skewed", skewed), ("deep code", deep),
      ("block boundary", [UInt8](repeating: 1, count: HuffmanDeflate.blockSize) + [2]),
      ("uniform random, three stored blocks", randomBlocks),
      ("float32 softmax rows", floatRows(300_000, seed: 3)),
    ]
  }()

  @Test("zlib inflates the output back to the input", arguments: cases.indices)
  func roundTrip(index: Int) throws {
    let (name, bytes) = Self.cases[index]
    let packed = Self.compress(bytes)
    let back = Self.inflate(packed, expected: bytes.count)
    #expect(back == bytes, "\(name): \(bytes.count) bytes → \(packed.count) did not inflate back")
  }

  @Test("float32 attention compresses about as well as zlib's Huffman-only")
  func ratioAgainstZlib() throws {
    let bytes = Self.floatRows(1 << 20, seed: 11)
    let ours = Self.compress(bytes).count
    let zlib = Self.zlibDeflate(bytes, level: 1, strategy: Z_HUFFMAN_ONLY).count
    // Both code bytes alone; ours adapts per block of up to 512 KiB, zlib per 16 Ki literals.
    #expect(Double(ours) < Double(zlib) * 1.01, "ours \(ours) bytes, zlib Huffman-only \(zlib)")
    #expect(ours < bytes.count, "float rows should compress at all")
  }

  @Test("code lengths respect the limit and stay complete")
  func codeLengths() {
    var rng = XorShift(5)
    for trial in 0..<200 {
      let n = 2 + Int(rng.next() % (trial % 2 == 0 ? 19 : 286))
      let freqs = (0..<n).map { _ in rng.next() % 3 == 0 ? 0 : Int(1 << (rng.next() % 30)) }
      // A 7-bit limit (the code-length code's) only applies to alphabets of ≤ 2⁷ symbols.
      for limit in n <= 128 ? [7, 14, 15] : [14, 15] {
        let lengths = HuffmanDeflate.codeLengths(freqs, limit: limit)
        #expect(lengths.allSatisfy { $0 <= UInt8(limit) }, "trial \(trial)")
        #expect(lengths.filter { $0 > 0 }.count >= 2)
        // Kraft sum exactly 1: a complete prefix code.
        let kraft = lengths.filter { $0 > 0 }.reduce(0.0) { $0 + pow(2, -Double($1)) }
        #expect(abs(kraft - 1) < 1e-12, "trial \(trial) limit \(limit): Kraft sum \(kraft)")
        for (s, f) in freqs.enumerated() where f > 0 { #expect(lengths[s] > 0) }
      }
    }
  }
}

/// xorshift64: a tiny deterministic generator for test data.
struct XorShift {
  var state: UInt64
  init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
  mutating func next() -> UInt64 {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }
}
