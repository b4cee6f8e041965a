import CDigestKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 and SHA-1 (FIPS 180-4) over a stream of bytes: to check a download against the hash the Hub
/// announces (the sha256 of an LFS file, `X-Linked-Etag`; the git blob sha1 of any other file, `ETag`), and for
/// the content hashes of checkpoints and data files in result provenance (docs/cli.md, "Result keys").
/// Written here because Foundation on Linux has no digests and the tools link nothing else. SHA-256 runs on the
/// CPU's SHA instructions where it has them (`CDigestKernels`; 1.37 GB/s here against 254 MB/s in Swift,
/// `spiqa-bench io`), which matters for the weights hashed on every spiqa-eval and spiqa-extract run.
public struct FileDigest {
  public enum Kind: Sendable { case sha256, sha1 }

  public let kind: Kind
  private var state: [UInt32]
  private var block = [UInt8](repeating: 0, count: 64)
  private var blockFill = 0
  private var length: UInt64 = 0
  /// SHA-256 blocks by `spiqa_sha256_blocks` (true where the CPU has the SHA instructions); set it to false to
  /// compress in Swift (the tests and `spiqa-bench io` compare the two). Same digest either way.
  public var usesHardware: Bool {
    didSet { usesHardware = usesHardware && kind == .sha256 && spiqa_sha256_has_hardware() != 0 }
  }

  public init(_ kind: Kind) {
    self.kind = kind
    usesHardware = kind == .sha256 && spiqa_sha256_has_hardware() != 0
    switch kind {
    case .sha256:
      state = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
      ]
    case .sha1:
      state = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]
    }
  }

  /// The kind of hash an ETag is: 64 hex digits sha256, 40 sha1 (a git blob id), else none we can check.
  public static func kind(ofETag etag: String) -> Kind? {
    guard etag.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
    return etag.count == 64 ? .sha256 : etag.count == 40 ? .sha1 : nil
  }

  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
    var n = bytes.count
    length &+= UInt64(n)
    if blockFill > 0 {
      let take = min(64 - blockFill, n)
      for i in 0..<take { block[blockFill + i] = p[i] }
      blockFill += take
      p += take
      n -= take
      guard blockFill == 64 else { return }  // still a partial block
      let full = block
      full.withUnsafeBufferPointer { compress($0.baseAddress!) }
      blockFill = 0
    }
    if usesHardware && n >= 64 {
      let blocks = n / 64
      state.withUnsafeMutableBufferPointer { spiqa_sha256_blocks($0.baseAddress!, p, blocks) }
      p += 64 * blocks
      n -= 64 * blocks
    }
    while n >= 64 {
      compress(p)
      p += 64
      n -= 64
    }
    for i in 0..<n { block[i] = p[i] }
    blockFill = n
  }

  public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

  /// The digest as lower-case hex; the value is spent afterwards.
  public mutating func finish() -> String {
    let bits = length &* 8
    var pad: [UInt8] = [0x80]
    pad += [UInt8](repeating: 0, count: (55 &- blockFill) & 63)
    for i in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
    let saved = length
    update(pad)
    length = saved
    return state.map { word in
      let hex = String(word, radix: 16)
      return String(repeating: "0", count: 8 - hex.count) + hex
    }.joined()
  }

  private static let k256: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
  @inline(__always) private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }

  /// One 64-byte block into `state`.
  private mutating func compress(_ p: UnsafePointer<UInt8>) {
    if usesHardware {
      state.withUnsafeMutableBufferPointer { spiqa_sha256_blocks($0.baseAddress!, p, 1) }
      return
    }
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
      for i in 0..<16 {
        w[i] = UInt32(p[4 * i]) << 24 | UInt32(p[4 * i + 1]) << 16 | UInt32(p[4 * i + 2]) << 8 | UInt32(p[4 * i + 3])
      }
      switch kind {
      case .sha256: compress256(w)
      case .sha1: compress1(w)
      }
    }
  }

  private mutating func compress256(_ w: UnsafeMutableBufferPointer<UInt32>) {
    for i in 16..<64 {
      let s0 = Self.rotr(w[i - 15], 7) ^ Self.rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
      let s1 = Self.rotr(w[i - 2], 17) ^ Self.rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
      w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
    }
    var (a, b, c, d, e, f, g, h) = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
    Self.k256.withUnsafeBufferPointer { k in
      for i in 0..<64 {
        let s1 = Self.rotr(e, 6) ^ Self.rotr(e, 11) ^ Self.rotr(e, 25)
        let t1 = h &+ s1 &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
        let s0 = Self.rotr(a, 2) ^ Self.rotr(a, 13) ^ Self.rotr(a, 22)
        let t2 = s0 &+ ((a & b) ^ (a & c) ^ (b & c))
        (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
      }
    }
    state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d
    state[4] &+= e; state[5] &+= f; state[6] &+= g; state[7] &+= h
  }

  private mutating func compress1(_ w: UnsafeMutableBufferPointer<UInt32>) {
    for i in 16..<80 { w[i] = Self.rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
    var (a, b, c, d, e) = (state[0], state[1], state[2], state[3], state[4])
    for i in 0..<80 {
      let f: UInt32, k: UInt32
      switch i {
      case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5a82_7999)
      case 20..<40: (f, k) = (b ^ c ^ d, 0x6ed9_eba1)
      case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc)
      default: (f, k) = (b ^ c ^ d, 0xca62_c1d6)
      }
      let t = Self.rotl(a, 5) &+ f &+ e &+ k &+ w[i]
      (e, d, c, b, a) = (d, c, Self.rotl(b, 30), a, t)
    }
    state[0] &+= a; state[1] &+= b; state[2] &+= c; state[3] &+= d; state[4] &+= e
  }

  /// The hash of the file at `path` as the Hub names it: sha256 of the bytes, or for sha1 the git blob id
  /// (`sha1("blob <size>\0" + bytes)`). Nil when the file cannot be read.
  public static func ofFile(_ path: String, kind: Kind) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var digest = FileDigest(kind)
    if kind == .sha1 {
      var st = stat()
      guard fstat(fd, &st) == 0 else { return nil }
      digest.update(Array("blob \(st.st_size)\0".utf8))
    }
    let chunk = 4 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    while true {
      let n = read(fd, buffer, chunk)
      if n < 0 {
        if errno == EINTR { continue }
        return nil
      }
      if n == 0 { break }
      digest.update(UnsafeRawBufferPointer(start: buffer, count: n))
    }
    return digest.finish()
  }
}
