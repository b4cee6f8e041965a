/// A DEFLATE (RFC 1951) encoder that writes literal-only blocks: the output of zlib's Huffman-only strategy,
/// several times faster.
///
/// Attention probabilities are float32 bits that almost never repeat, so LZ77 matching buys nothing (zlib level 1
/// compresses them to a ratio of 1.077, Huffman-only to 1.082) while zlib's per-byte bookkeeping caps Huffman-only
/// at about 100 MB/s per core. Here every block of up to 512 KiB gets its own code from its byte histogram and is
/// written through a 64-bit bit buffer, four literals per store; a block whose code would not beat storing it is
/// stored. Any inflater reads the result (zlib, gzip, Python); `Tests/SpiqaIOTests/HuffmanDeflateTests` checks it
/// against zlib's inflate.
enum HuffmanDeflate {
  /// Most input bytes per block (≈ 512 KiB; the input is cut into equal blocks of at most this). Large, so that
  /// the per-block work (the code header, the inflater's table build, its fast loop stopping at the end of the
  /// block) stays small next to the literals: spiqa's literal inflater runs about 1.5× as fast on these blocks
  /// as on 64 KiB ones, and the output is within 0.01 % of the size (docs/stream-format.md). A multiple of the
  /// stored-block size, so a block that does not pay Huffman coding is stored as at most 8 stored blocks.
  static let blockSize = 8 * storedBlockSize
  /// The most a stored block holds (LEN is 16 bits).
  static let storedBlockSize = 65535
  /// Longest code: four codes (4 · 14 bits) plus 7 pending bits fit one 64-bit store.
  static let maxCodeLength = 14

  /// Largest output for `n` input bytes: everything stored, 5 header bytes per stored block (at most 8 per block
  /// of at most `blockSize`, so at most n / 65535 + 8 of them), plus room for the 8-byte stores of the bit writer.
  static func bound(_ n: Int) -> Int { n + 5 * (n / storedBlockSize + 8) + 16 }

  /// Compresses `input` as a complete raw DEFLATE stream into `out`, which must hold `bound(input.count)` bytes.
  /// - Returns: the number of bytes written.
  static func compress(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer) -> Int {
    var w = BitWriter(out.assumingMemoryBound(to: UInt8.self))
    guard let base = input.baseAddress, input.count > 0 else {
      // An empty final block with the fixed code: BFINAL=1, BTYPE=01, end-of-block (7 zero bits).
      w.put(0b011, 3)
      w.put(0, 7)
      return w.finish() - out.assumingMemoryBound(to: UInt8.self)
    }
    let bytes = base.assumingMemoryBound(to: UInt8.self)
    // Equal blocks (sizes differ by at most one byte): no short last block paying a whole header.
    let blocks = (input.count + blockSize - 1) / blockSize
    var start = 0
    for b in 0..<blocks {
      let end = input.count * (b + 1) / blocks
      writeBlock(bytes + start, count: end - start, final: b == blocks - 1, to: &w)
      start = end
    }
    return w.finish() - out.assumingMemoryBound(to: UInt8.self)
  }

  /// One block: dynamic Huffman (BTYPE=10) with literals only, or stored (BTYPE=00) when that is smaller.
  private static func writeBlock(_ p: UnsafePointer<UInt8>, count n: Int, final: Bool, to w: inout BitWriter) {
    var freqs = histogram(p, count: n)
    freqs.append(1)  // 256: end of block
    let lengths = codeLengths(freqs, limit: maxCodeLength)
    let header = DynamicHeader(literalLengths: lengths)
    var bits = 3 + header.bitCount
    for s in 0..<257 { bits += freqs[s] * Int(lengths[s]) }
    // Stored, per stored block: 3 header bits, padding to a byte (at most 7), LEN and NLEN, the bytes.
    let storedBlocks = (n + storedBlockSize - 1) / storedBlockSize
    if bits >= storedBlocks * (3 + 7 + 32) + 8 * n {
      var start = 0
      while start < n {
        let m = min(storedBlockSize, n - start)
        w.put(final && start + m == n ? 1 : 0, 3)
        w.alignToByte()
        w.put(UInt64(m), 16)
        w.put(UInt64(~m & 0xFFFF), 16)
        w.copy(p + start, count: m)
        start += m
      }
      return
    }
    w.put(final ? 0b101 : 0b100, 3)
    header.write(to: &w)
    let codes = canonicalCodes(lengths)
    // (length << 16) | bit-reversed code, per byte value.
    var table = [UInt32](repeating: 0, count: 256)
    for s in 0..<256 { table[s] = UInt32(lengths[s]) << 16 | codes[s] }
    table.withUnsafeBufferPointer { t in w.putLiterals(p, count: n, table: t.baseAddress!) }
    w.put(UInt64(codes[256]), Int(lengths[256]))
  }

  /// Byte counts of `p[0..<n]` (four interleaved tables, so repeated bytes do not serialise on one counter).
  static func histogram(_ p: UnsafePointer<UInt8>, count n: Int) -> [Int] {
    var counts = [UInt32](repeating: 0, count: 4 * 256)
    counts.withUnsafeMutableBufferPointer { c in
      let c = c.baseAddress!
      var i = 0
      while i + 4 <= n {
        c[Int(p[i])] &+= 1
        c[256 + Int(p[i + 1])] &+= 1
        c[512 + Int(p[i + 2])] &+= 1
        c[768 + Int(p[i + 3])] &+= 1
        i += 4
      }
      while i < n {
        c[Int(p[i])] &+= 1
        i += 1
      }
    }
    var total = [Int](repeating: 0, count: 256)
    for k in 0..<1024 { total[k & 255] += Int(counts[k]) }
    return total
  }

  /// Huffman code lengths for `freqs` (0 = symbol unused), none longer than `limit`. At least two symbols get
  /// a code, so the code is complete (inflaters reject a lone 1-bit code). When the optimal code is too deep,
  /// the frequencies are flattened (halved, kept ≥ 1) and the code rebuilt: near-optimal, and it always ends,
  /// since equal frequencies give a balanced tree.
  static func codeLengths(_ freqs: [Int], limit: Int) -> [UInt8] {
    var f = freqs
    var s = 0
    while f.lazy.filter({ $0 > 0 }).count < 2 {
      if f[s] == 0 { f[s] = 1 }
      s += 1
    }
    let used = f.indices.filter { f[$0] > 0 }
    precondition(used.count <= 1 << limit, "\(used.count) symbols cannot have codes of at most \(limit) bits")
    while true {
      let lengths = huffmanLengths(f, symbols: used)
      if lengths.max()! <= UInt8(limit) { return lengths }
      for s in used { f[s] = (f[s] + 1) / 2 }
    }
  }

  /// Optimal (unlimited) code lengths of `symbols` (each with `freqs[s] > 0`, at least two), by the two-queue
  /// method over the leaves sorted by frequency.
  private static func huffmanLengths(_ freqs: [Int], symbols: [Int]) -> [UInt8] {
    let leaves = symbols.sorted { (freqs[$0], $0) < (freqs[$1], $1) }
    let m = leaves.count
    // Nodes 0..<m are the leaves in order, m..<2m-1 the internal nodes in creation order.
    var weight = leaves.map { freqs[$0] } + [Int](repeating: 0, count: m - 1)
    var parent = [Int](repeating: -1, count: 2 * m - 1)
    var nextLeaf = 0, nextInner = m
    func takeSmallest(_ created: Int) -> Int {
      if nextLeaf < m && (nextInner >= created || weight[nextLeaf] <= weight[nextInner]) {
        nextLeaf += 1
        return nextLeaf - 1
      }
      nextInner += 1
      return nextInner - 1
    }
    for node in m..<(2 * m - 1) {
      let a = takeSmallest(node), b = takeSmallest(node)
      weight[node] = weight[a] + weight[b]
      parent[a] = node
      parent[b] = node
    }
    // Depths top-down: the root is the last node, and parents come after their children.
    var depth = [Int](repeating: 0, count: 2 * m - 1)
    for node in stride(from: 2 * m - 3, through: 0, by: -1) { depth[node] = depth[parent[node]] + 1 }
    var lengths = [UInt8](repeating: 0, count: freqs.count)
    for (i, s) in leaves.enumerated() { lengths[s] = UInt8(depth[i]) }
    return lengths
  }

  /// Canonical codes for `lengths` (RFC 1951 §3.2.2), bit-reversed because DEFLATE sends Huffman codes
  /// most-significant bit first into an LSB-first bit stream.
  static func canonicalCodes(_ lengths: [UInt8]) -> [UInt32] {
    var countPerLength = [UInt32](repeating: 0, count: 16)
    for l in lengths where l > 0 { countPerLength[Int(l)] += 1 }
    var next = [UInt32](repeating: 0, count: 16)
    var code: UInt32 = 0
    for bits in 1..<16 {
      code = (code + countPerLength[bits - 1]) << 1
      next[bits] = code
    }
    return lengths.map { l in
      guard l > 0 else { return 0 }
      let c = next[Int(l)]
      next[Int(l)] += 1
      var r: UInt32 = 0
      for i in 0..<Int(l) where c & (1 << i) != 0 { r |= 1 << (Int(l) - 1 - i) }
      return r
    }
  }

  /// The header of a dynamic block whose literal/length code is `literalLengths` (257 entries) and whose
  /// distance code is two unused 1-bit codes (zlib does the same: some inflaters want at least one).
  struct DynamicHeader {
    /// The 257 + 2 code lengths run-length coded: (code-length symbol 0...18, extra bits value, extra bit count).
    private var runs: [(symbol: Int, extra: Int, extraBits: Int)] = []
    private var clLengths: [UInt8] = []
    private var clCodes: [UInt32] = []
    /// Code-length code lengths are sent in this order (RFC 1951 §3.2.7).
    private static let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    private var hclen = 0
    /// Bits the header takes (after the 3 block-header bits).
    private(set) var bitCount = 0

    init(literalLengths: [UInt8]) {
      let all = literalLengths.map(Int.init) + [1, 1]
      var i = 0
      while i < all.count {
        let v = all[i]
        var run = 1
        while i + run < all.count && all[i + run] == v { run += 1 }
        i += run
        if v == 0 {
          while run >= 11 { let r = min(run, 138); runs.append((18, r - 11, 7)); run -= r }
          if run >= 3 { runs.append((17, run - 3, 3)); run = 0 }
          for _ in 0..<run { runs.append((0, 0, 0)) }
        } else {
          runs.append((v, 0, 0))
          run -= 1
          while run >= 3 { let r = min(run, 6); runs.append((16, r - 3, 2)); run -= r }
          for _ in 0..<run { runs.append((v, 0, 0)) }
        }
      }
      var freqs = [Int](repeating: 0, count: 19)
      for r in runs { freqs[r.symbol] += 1 }
      clLengths = HuffmanDeflate.codeLengths(freqs, limit: 7)
      clCodes = HuffmanDeflate.canonicalCodes(clLengths)
      hclen = 19
      while hclen > 4 && clLengths[Self.order[hclen - 1]] == 0 { hclen -= 1 }
      bitCount = 5 + 5 + 4 + 3 * hclen
      for r in runs { bitCount += Int(clLengths[r.symbol]) + r.extraBits }
    }

    func write(to w: inout BitWriter) {
      w.put(0, 5)  // HLIT: 257 literal/length codes
      w.put(1, 5)  // HDIST: 2 distance codes
      w.put(UInt64(hclen - 4), 4)
      for k in 0..<hclen { w.put(UInt64(clLengths[Self.order[k]]), 3) }
      for r in runs {
        w.put(UInt64(clCodes[r.symbol]), Int(clLengths[r.symbol]))
        if r.extraBits > 0 { w.put(UInt64(r.extra), r.extraBits) }
      }
    }
  }

  /// An LSB-first bit writer that stores 8 bytes at a time (the output needs 8 bytes of slack).
  struct BitWriter {
    private var out: UnsafeMutablePointer<UInt8>
    private var bits: UInt64 = 0
    /// Pending bits in `bits`, always < 8 between calls.
    private var pending = 0

    init(_ out: UnsafeMutablePointer<UInt8>) { self.out = out }

    /// Appends the low `count` (≤ 56) bits of `value`.
    @inline(__always)
    mutating func put(_ value: UInt64, _ count: Int) {
      bits |= value &<< UInt64(pending)
      pending += count
      store()
    }

    @inline(__always)
    private mutating func store() {
      UnsafeMutableRawPointer(out).storeBytes(of: bits.littleEndian, as: UInt64.self)
      out += pending >> 3
      bits = bits &>> UInt64(pending & ~7)
      pending &= 7
    }

    /// Appends `n` literals through `table` (`length << 16 | reversed code`, codes ≤ 14 bits).
    mutating func putLiterals(_ p: UnsafePointer<UInt8>, count n: Int, table: UnsafePointer<UInt32>) {
      var bits = self.bits, pending = UInt64(self.pending), out = self.out
      var i = 0
      while i + 4 <= n {
        let e0 = table[Int(p[i])], e1 = table[Int(p[i + 1])], e2 = table[Int(p[i + 2])], e3 = table[Int(p[i + 3])]
        bits |= UInt64(e0 & 0xFFFF) &<< pending
        pending &+= UInt64(e0 >> 16)
        bits |= UInt64(e1 & 0xFFFF) &<< pending
        pending &+= UInt64(e1 >> 16)
        bits |= UInt64(e2 & 0xFFFF) &<< pending
        pending &+= UInt64(e2 >> 16)
        bits |= UInt64(e3 & 0xFFFF) &<< pending
        pending &+= UInt64(e3 >> 16)
        UnsafeMutableRawPointer(out).storeBytes(of: bits.littleEndian, as: UInt64.self)
        out += Int(pending &>> 3)
        bits = bits &>> (pending & ~7)
        pending &= 7
        i += 4
      }
      self.bits = bits
      self.pending = Int(pending)
      self.out = out
      while i < n {
        let e = table[Int(p[i])]
        put(UInt64(e & 0xFFFF), Int(e >> 16))
        i += 1
      }
    }

    /// Pads with zero bits to a byte boundary.
    mutating func alignToByte() {
      if pending > 0 { pending = 8; store() }
    }

    /// Appends raw bytes (call `alignToByte` first).
    mutating func copy(_ p: UnsafePointer<UInt8>, count n: Int) {
      out.update(from: p, count: n)
      out += n
    }

    /// Flushes the last partial byte; returns the end of the output.
    mutating func finish() -> UnsafeMutablePointer<UInt8> {
      alignToByte()
      return out
    }
  }
}
