import ArgumentParser
import SpiqaCore
import SpiqaIO

#if canImport(Glibc)
import Glibc
#endif

/// `spiqa-bench io`: write and read a ≥ 1 GB attention-like f32 stream at the default compression and
/// without compression, printing MB/s, ratio and peak RSS (compare with scripts/bench_io.py).
struct IOBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "io",
    abstract: "Measure record-stream write and read speed on attention-like float32 data.",
    discussion: """
      Data: records of [layers, heads, n, n] float32 whose rows are softmax(3·z), z standard normal from a
      counter-based generator (splitmix64 + Box-Muller) that scripts/bench_io.py reproduces (up to libm rounding).
      A pool of distinct records is generated first and cycled until the stream reaches --megabytes.
      MB = 10^6 bytes of uncompressed stream per second; ratio = uncompressed / file size; RSS = peak
      resident set of the process so far (includes the record pool).
      """)

  @Option(help: "Uncompressed stream size to write, in MB (10^6 bytes).")
  var megabytes: Int = 1024
  @Option(help: "Tokens per record: each record is [layers, heads, n, n].")
  var n: Int = 384
  @Option(help: "Layers per record.")
  var layers: Int = 6
  @Option(help: "Heads per record.")
  var heads: Int = 12
  @Option(help: "Distinct records generated and cycled.")
  var pool: Int = 4
  @Option(help: "Folder for the temporary stream files.")
  var dir: String = "/tmp"
  @Option(help: "Compression settings to measure, comma-separated.")
  var compressions: String = "fast,none"
  @Option(help: "Random seed (the same seed in scripts/bench_io.py gives the same data).")
  var seed: UInt64 = 1

  func run() throws {
    let perRecord = layers * heads * n * n
    let records = max(1, (megabytes * 1_000_000 + perRecord * 4 - 1) / (perRecord * 4))
    let t0 = now()
    let data = (0..<pool).map { attentionLike(record: $0, count: perRecord) }
    print("data: \(records) records of [\(layers), \(heads), \(n), \(n)] f32, pool \(pool), generated in \(fmt(now() - t0)) s, peak RSS \(fmt(peakRSSMegabytes())) MB")
    print(pad("setting", 12) + pad("write MB/s", 12) + pad("read MB/s", 12) + pad("ratio", 8) + pad("file MB", 10) + pad("write cpu s", 12) + pad("read cpu s", 12) + "peak RSS MB after write / read")
    for spec in compressions.split(separator: ",") {
      let compression = try StreamCompression(parsing: String(spec))
      let path = "\(dir)/spiqa-bench-io-\(getpid()).\(compression.level == 0 ? "npy" : "npy.gz")"
      defer { unlink(path) }
      // Write.
      let w0 = now()
      let wc0 = cpuSeconds()
      let writer = try RecordWriter(path: path, compression: compression)
      try writer.writeHeader(["producer": "spiqa-bench io"])
      for r in 0..<records {
        try data[r % pool].withUnsafeBufferPointer { buf in
          try writer.write(
            meta: ["kind": "attention", "example_id": .string("bench-\(r)"), "example_index": .int(r), "feature": 0,
                   "n": .int(n)],
            floats: buf, shape: [layers, heads, n, n], dtype: .float32)
        }
      }
      try writer.close()
      let writeSeconds = now() - w0
      let writeCPU = cpuSeconds() - wc0
      let rssAfterWrite = peakRSSMegabytes()
      let uncompressed = writer.byteOffset
      var st = stat()
      stat(path, &st)
      let fileSize = Int(st.st_size)
      // Read.
      let r0 = now()
      let rc0 = cpuSeconds()
      let reader = try RecordReader(path: path)
      var tensors = 0
      var checksum: Float = 0
      while let rec = try reader.next() {
        if case .tensor(_, let a) = rec {
          tensors += 1
          checksum += a.bytes.withUnsafeBytes { $0.load(fromByteOffset: 4 * (tensors % 1000), as: Float.self) }
        }
      }
      let readSeconds = now() - r0
      let readCPU = cpuSeconds() - rc0
      guard tensors == records else { throw ValidationError("read \(tensors) tensors, wrote \(records)") }
      let mb = Double(uncompressed) / 1e6
      print(
        pad(compression.description, 12) + pad(fmt(mb / writeSeconds), 12) + pad(fmt(mb / readSeconds), 12)
          + pad(String(format3: Double(uncompressed) / Double(fileSize)), 8) + pad(fmt(Double(fileSize) / 1e6), 10) + pad(String(format3: writeCPU), 12) + pad(String(format3: readCPU), 12)
          + "\(fmt(rssAfterWrite)) / \(fmt(peakRSSMegabytes()))" + (checksum.isNaN ? " (nan)" : ""))
    }
    hashSpeed(data)
  }

  /// SHA-256 of the records' bytes, as spiqa-eval and spiqa-extract hash the weights and data for provenance: with
  /// the CPU's SHA instructions (where it has them) and in portable C.
  func hashSpeed(_ data: [[Float]]) {
    var line = "sha256 (provenance hashes of weights and data):"
    for hardware in [true, false] {
      var digest = FileDigest(.sha256)
      digest.usesHardware = hardware
      if hardware && !digest.usesHardware { continue }
      let t0 = now()
      var bytes = 0
      for record in data {
        record.withUnsafeBytes { digest.update($0) }
        bytes += record.count * 4
      }
      _ = digest.finish()
      line += " \(hardware ? "SHA instructions" : "portable C") \(fmt(Double(bytes) / 1e6 / (now() - t0))) MB/s"
    }
    print(line)
  }

  /// Softmax rows of 3·z (z ~ N(0,1)), row length `n`, for record `record` of the pool.
  /// z for element i of record r: splitmix64 of (seed, r, i) → two uniforms → Box-Muller (cos branch).
  func attentionLike(record: Int, count: Int) -> [Float] {
    var out = [Float](repeating: 0, count: count)
    let base = UInt64(record) &* UInt64(count)
    for row in 0..<(count / n) {
      var sum = 0.0
      var tmp = [Double](repeating: 0, count: n)
      for c in 0..<n {
        let i = base &+ UInt64(row * n + c)
        let u1 = (Double(splitmix(seed, 2 &* i) >> 11) + 0.5) / 9007199254740992.0
        let u2 = Double(splitmix(seed, 2 &* i &+ 1) >> 11) / 9007199254740992.0
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        let e = exp(3 * z)
        tmp[c] = e
        sum += e
      }
      for c in 0..<n { out[row * n + c] = Float(tmp[c] / sum) }
    }
    return out
  }
}

/// splitmix64 of `seed·φ + x` (the same function in scripts/bench_io.py).
private func splitmix(_ seed: UInt64, _ x: UInt64) -> UInt64 {
  SplitMix64.mix(seed &* 0x9E37_79B9_7F4A_7C15 &+ x &* 0xD1B5_4A32_D192_ED03)
}

private func now() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// User + system CPU time of the process (all threads), in seconds.
private func cpuSeconds() -> Double {
  var u = rusage()
  getrusage(RUSAGE_SELF.rawValue, &u)
  return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
}

private func peakRSSMegabytes() -> Double {
  var u = rusage()
  getrusage(RUSAGE_SELF.rawValue, &u)
  return Double(u.ru_maxrss) / 1024  // Linux: kilobytes
}

private func fmt(_ v: Double) -> String { String(Int(v.rounded())) }
private func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }

extension String {
  fileprivate init(format3 v: Double) {
    let r = (v * 1000).rounded() / 1000
    self = String(r)
  }
}
