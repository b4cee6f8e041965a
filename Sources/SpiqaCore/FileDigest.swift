import CDigestKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 and SHA-1 (FIPS 180-4) over a stream of bytes: to check a download against the hash the Hub
/// announces (the sha256 of an LFS file, `X-Linked-Etag`; the git blob sha1 of any other file, `ETag`), and for
/// the content hashes of checkpoints and data files in result provenance (docs/cli.md, "Result keys").
/// Written here because Foundation on Linux has no digests and the tools link nothing else. SHA-256's compression is
/// C (`CDigestKernels`), on the CPU's SHA instructions where it has them: 1.3–1.4 GB/s here against about 250 MB/s
/// without (`spiqa-bench io`), which matters for the weights hashed on every spiqa-eval and spiqa-extract run.
public struct FileDigest {
  public enum Kind: Sendable { case sha256, sha1 }

  public let kind: Kind
  private var state: [UInt32]
  private var block = [UInt8](repeating: 0, count: 64)
  private var blockFill = 0
  private var length: UInt64 = 0
  /// SHA-256 blocks on the CPU's SHA instructions (true where it has them); set it to false for the portable
  /// compression (the tests and `spiqa-bench io` compare the two). Same digest either way.
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
    if kind == .sha256 && n >= 64 {
      let blocks = n / 64, hardware: Int32 = usesHardware ? 1 : 0
      state.withUnsafeMutableBufferPointer { spiqa_sha256_blocks($0.baseAddress!, p, blocks, hardware) }
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

  @inline(__always) private static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }

  /// One 64-byte block into `state`.
  private mutating func compress(_ p: UnsafePointer<UInt8>) {
    if kind == .sha256 {
      let hardware: Int32 = usesHardware ? 1 : 0
      state.withUnsafeMutableBufferPointer { spiqa_sha256_blocks($0.baseAddress!, p, 1, hardware) }
      return
    }
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
      for i in 0..<16 {
        w[i] = UInt32(p[4 * i]) << 24 | UInt32(p[4 * i + 1]) << 16 | UInt32(p[4 * i + 2]) << 8 | UInt32(p[4 * i + 3])
      }
      compress1(w)
    }
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
