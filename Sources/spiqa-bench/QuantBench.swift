import ArgumentParser
import Foundation
import SpiqaCore
import SpiqaIO
import SpiqaQuant

/// `spiqa-bench quantize`: in-memory throughput of every quantizer (GB/s of float32 per core) and the end-to-end
/// stream speed of spiqa-quantize against a plain read+write copy.
struct QuantBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quantize",
    abstract: "Quantizer throughput in memory (GB/s per core) and spiqa-quantize end to end vs a stream copy.")

  @Option(help: "Megabytes of float32 attention per in-memory measurement.")
  var mb: Int = 64

  @Option(help: "Bits for every method.")
  var bits: Int = 3

  @Option(help: "Timed repetitions (the best is reported).")
  var repeats: Int = 3

  @Option(help: "Megabytes of float32 attention in the end-to-end stream (0 = skip).")
  var streamMb: Int = 96

  @Flag(help: "Skip the in-memory measurements.")
  var streamOnly = false

  func run() throws {
    if !streamOnly { try inMemory() }
    if streamMb > 0 { try endToEnd() }
  }

  /// Softmax rows of n = 128 with peaky logits, like real attention.
  static func attentionLike(count: Int, n: Int = 128) -> [Float] {
    var out = [Float](repeating: 0, count: count)
    var state: UInt64 = 0x1234_5678
    var row = [Float](repeating: 0, count: n)
    var i = 0
    while i < count {
      var sum: Float = 0
      for c in 0..<n {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let u = Float(state >> 40) / Float(1 << 24)
        row[c] = Foundation.exp(8 * u * u * u)
        sum += row[c]
      }
      for c in 0..<n where i + c < count { out[i + c] = row[c] / sum }
      i += n
    }
    return out
  }

  static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  /// User + system CPU seconds of finished child processes (all their threads).
  static func childCPU() -> Double {
    var u = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec)
      + Double(u.ru_stime.tv_usec) * 1e-6
  }

  /// User + system CPU seconds of this process (all threads).
  static func selfCPU() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6 + Double(u.ru_stime.tv_sec)
      + Double(u.ru_stime.tv_usec) * 1e-6
  }

  /// CPU time of this thread: per-core throughput that stays meaningful on a loaded machine.
  static func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  func inMemory() throws {
    let count = mb << 18
    let src = QuantBench.attentionLike(count: count)
    var work = src
    print("quantize in memory: \(mb) MB float32 per run, bits \(bits), best of \(repeats), 1 thread, thread CPU time")
    print("method\tGB/s\tns/value\tscope")
    for method in QuantMethod.allCases {
      let q = try AttentionQuantizer(method: method, bits: bits)
      // Data-dependent methods: scopes of 4M values (≈ one layer of a 3-feature SQuAD example at n = 384).
      let scope = method.isElementwise ? count : min(count, 1 << 22)
      var best = Double.infinity
      for _ in 0..<repeats {
        work.withUnsafeMutableBufferPointer { w in
          src.withUnsafeBufferPointer { s in _ = w.initialize(fromContentsOf: s) }
        }
        let t0 = QuantBench.cpuNow()
        try work.withUnsafeMutableBufferPointer { w in
          var start = 0
          while start < count {
            let end = min(start + scope, count)
            try q.apply(UnsafeMutableBufferPointer(rebasing: w[start..<end]), rowLength: 128)
            start = end
          }
        }
        best = min(best, QuantBench.cpuNow() - t0)
      }
      let gbs = Double(count * 4) / best / 1e9
      let scopeText = method.isElementwise ? "-" : "\(scope) values"
      print("\(method.rawValue)\t\(fmt(gbs))\t\(fmt(best / Double(count) * 1e9))\t\(scopeText)")
    }
    // Pruning alone.
    var best = Double.infinity
    for _ in 0..<repeats {
      // Copy into the existing buffer (`work = src` would share storage and copy inside the timed region).
      work.withUnsafeMutableBufferPointer { w in
        src.withUnsafeBufferPointer { s in _ = w.initialize(fromContentsOf: s) }
      }
      let t0 = QuantBench.cpuNow()
      work.withUnsafeMutableBufferPointer { prune($0, threshold: 0.01) }
      best = min(best, QuantBench.cpuNow() - t0)
    }
    print("prune(t=0.01)\t\(fmt(Double(count * 4) / best / 1e9))\t\(fmt(best / Double(count) * 1e9))\t-")
  }

  func fmt(_ x: Double) -> String { String((x * 100).rounded() / 100) }

  /// Writes a gzip stream, then times spiqa-quantize (the built binary next to this one) on it.
  func endToEnd() throws {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("spiqa-quantize")
    guard FileManager.default.isExecutableFile(atPath: exe.path) else {
      print("end to end: skipped (no spiqa-quantize next to \(CommandLine.arguments[0]); build it first)")
      return
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spiqa-quant-bench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.npy.gz").path
    let n = 128, layers = 6, heads = 12
    let perRecord = layers * heads * n * n
    let records = max(1, (streamMb << 18) / perRecord)
    let values = QuantBench.attentionLike(count: perRecord)
    let w = try RecordWriter(path: input, compression: .fast)
    try w.writeHeader(["producer": "spiqa-bench quantize"])
    for r in 0..<records {
      let meta: JSONObject = ["kind": "attention", "example_id": .string("ex\(r / 3)"), "feature": .int(r % 3), "n": .int(n)]
      try values.withUnsafeBufferPointer { try w.write(meta: meta, floats: $0, shape: [layers, heads, n, n], dtype: .float32) }
    }
    try w.close()
    let rawMB = Double(records * perRecord * 4) / 1e6
    print("\nend to end: \(records) records [\(layers),\(heads),\(n),\(n)] f32 = \(fmt(rawMB)) MB raw, gzip fast in and out")
    print("run\twall s\tMB/s wall\tCPU s (user+sys)\tMB per CPU-s")
    let out = dir.appendingPathComponent("out.gz").path
    let runs: [(String, [String])] = [
      ("copy (spiqa-quantize, no method)", []),
      ("prune -at 0.01", ["-at", "0.01"]),
      ("log-pruned b3 f32", ["--method", "log-pruned", "--bits", "3"]),
      ("log-pruned b3 codes", ["--method", "log-pruned", "--bits", "3", "--dtype", "codes"]),
      ("linear b3 f32", ["--method", "linear", "--bits", "3"]),
      ("uniform-log-pruned b3 example", ["--method", "uniform_slog_clamped_mean", "--bits", "3"]),
      ("log-pruned b3 f32 --js", ["--method", "log-pruned", "--bits", "3", "--js"]),
    ]
    for (label, args) in runs {
      var best = Double.infinity
      var bestCPU = Double.infinity
      for _ in 0..<max(1, repeats - 1) {
        let c0 = QuantBench.childCPU()
        let p = Process()
        p.executableURL = exe
        p.arguments = [input, "-o", out, "-q"] + args
        let t0 = QuantBench.now()
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ValidationError("spiqa-quantize \(args) exited \(p.terminationStatus)") }
        best = min(best, QuantBench.now() - t0)
        bestCPU = min(bestCPU, QuantBench.childCPU() - c0)
      }
      print("\(label)\t\(fmt(best))\t\(fmt(rawMB / best))\t\(fmt(bestCPU))\t\(fmt(rawMB / bestCPU))")
    }
    // In-process read + write copy through SpiqaIO, the floor for any stream tool.
    let t0 = QuantBench.now()
    let c0 = QuantBench.selfCPU()
    let reader = try RecordReader(path: input)
    let copy = try RecordWriter(path: out, compression: .fast)
    while let rec = try reader.next() {
      switch rec {
      case .header(let h): try copy.writeHeader(h)
      case .tensor(let meta, let array): try copy.write(meta: meta, array: array)
      }
    }
    try copy.close()
    let t = QuantBench.now() - t0
    let c = QuantBench.selfCPU() - c0
    print("SpiqaIO read+write copy (in process)\t\(fmt(t))\t\(fmt(rawMB / t))\t\(fmt(c))\t\(fmt(rawMB / c))")
  }
}
