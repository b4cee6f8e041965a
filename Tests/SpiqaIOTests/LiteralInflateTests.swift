import CStreamKernels
import CZlib
import Foundation
import Testing

@testable import SpiqaIO

/// `spiqa_inflate_literals` (CStreamKernels): the interleaved decoder for literal-only DEFLATE, checked against the
/// encoder's inputs and zlib, alone and with up to four streams at once, and on data it must hand back.
@Suite("Literal-only DEFLATE decoder")
struct LiteralInflateTests {
  struct Result {
    var status: Int32
    var inUsed: Int
    var output: [UInt8]
  }

  /// Decodes `inputs` together; `capacities[i]` is stream i's output buffer (default: its expected size).
  static func decode(_ inputs: [[UInt8]], capacities: [Int]) -> [Result] {
    let ins = inputs.map { bytes -> UnsafeMutablePointer<UInt8> in
      let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
      p.initialize(from: bytes, count: bytes.count)
      return p
    }
    // Exact-size buffers (no slack), so reads or writes past the ends are not hidden by padding.
    let outs = capacities.map { UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, $0)) }
    defer {
      ins.forEach { $0.deallocate() }
      outs.forEach { $0.deallocate() }
    }
    var streams = inputs.indices.map { i in
      spiqa_lit_stream(
        in: ins[i], in_size: inputs[i].count, out: outs[i], out_size: capacities[i], in_used: 0, out_made: 0,
        status: -1)
    }
    #expect(spiqa_inflate_literals(&streams, Int32(streams.count)) == 0)
    return streams.indices.map { i in
      let s = streams[i]
      #expect(s.out_made <= capacities[i] && s.in_used <= inputs[i].count, "stream \(i) reports sizes past its buffers")
      return Result(status: s.status, inUsed: s.in_used, output: Array(UnsafeBufferPointer(start: outs[i], count: s.out_made)))
    }
  }

  static let encoded: [(name: String, plain: [UInt8], packed: [UInt8])] = HuffmanDeflateTests.cases.map {
    ($0.0, $0.1, HuffmanDeflateTests.compress($0.1))
  }

  @Test("HuffmanDeflate's output decodes back to its input, alone")
  func alone() {
    for c in Self.encoded {
      let r = Self.decode([c.packed], capacities: [c.plain.count])[0]
      #expect(r.status == Int32(SPIQA_LIT_DONE), "\(c.name): handed back")
      #expect(r.output == c.plain, "\(c.name): wrong bytes")
      #expect(r.inUsed == c.packed.count, "\(c.name): used \(r.inUsed) of \(c.packed.count) bytes")
    }
  }

  @Test("two to four streams at once, of different lengths and codes, decode as they do alone")
  func interleaved() {
    let cases = Self.encoded
    for count in 2...Int(SPIQA_LIT_MAX_STREAMS) {
      for start in cases.indices {
        let group = (0..<count).map { cases[(start + $0 * 3) % cases.count] }
        let results = Self.decode(group.map(\.packed), capacities: group.map(\.plain.count))
        #expect(results.count == group.count)
        for (c, r) in zip(group, results) {
          #expect(r.status == Int32(SPIQA_LIT_DONE) && r.output == c.plain && r.inUsed == c.packed.count,
                  "\(count) streams from \(start): \(c.name)")
        }
      }
    }
  }

  @Test("zlib's Huffman-only output (codes up to 15 bits) decodes; LZ77 output is handed back")
  func zlibStreams() {
    let deep = HuffmanDeflateTests.cases.first { $0.0 == "deep code" }!.1
    let floats = HuffmanDeflateTests.floatRows(400_000, seed: 9)
    for plain in [deep, floats] {
      let packed = HuffmanDeflateTests.zlibDeflate(plain, level: 6, strategy: Z_HUFFMAN_ONLY)
      let r = Self.decode([packed, packed], capacities: [plain.count, plain.count])
      for x in r {
        #expect(x.status == Int32(SPIQA_LIT_DONE) && x.output == plain && x.inUsed == packed.count)
      }
    }
    // Text with repeats: zlib's default strategy writes matches, which this decoder does not take.
    let text = Array(String(repeating: "attention is all you need; ", count: 4000).utf8)
    let lz = HuffmanDeflateTests.zlibDeflate(text, level: 6, strategy: Z_DEFAULT_STRATEGY)
    let huffman = HuffmanDeflateTests.compress(text)
    let r = Self.decode([lz, huffman], capacities: [text.count, text.count])
    #expect(r[0].status == Int32(SPIQA_LIT_OTHER), "matches must go to the general inflater")
    #expect(r[1].status == Int32(SPIQA_LIT_DONE) && r[1].output == text, "the other stream is unaffected")
  }

  @Test("too little output room, truncated input and corrupt bytes are handed back or stay in bounds")
  func badInput() {
    let plain = HuffmanDeflateTests.floatRows(150_000, seed: 4)
    let packed = HuffmanDeflateTests.compress(plain)
    // One byte too little room.
    #expect(Self.decode([packed], capacities: [plain.count - 1])[0].status == Int32(SPIQA_LIT_OTHER))
    // Input cut short anywhere: never DONE with bytes it does not have.
    for cut in [1, 2, 7, 8, 100, packed.count / 2, packed.count - 1] {
      let r = Self.decode([Array(packed[0..<cut])], capacities: [plain.count])[0]
      #expect(r.status == Int32(SPIQA_LIT_OTHER), "cut at \(cut)")
    }
    // Corrupt bytes: OTHER, or DONE with different bytes (the gzip CRC catches those); never out of bounds
    // (checked in `decode`).
    var rng = XorShift(21)
    for _ in 0..<300 {
      var bad = packed
      let at = Int(rng.next() % UInt64(min(bad.count, 4000)))
      bad[at] ^= UInt8(1 << (rng.next() % 8))
      let other = HuffmanDeflateTests.compress(Array(plain[0..<5000]))
      let r = Self.decode([bad, other], capacities: [plain.count, 5000])
      #expect(r[1].status == Int32(SPIQA_LIT_DONE) && r[1].output == Array(plain[0..<5000]))
    }
  }
}
