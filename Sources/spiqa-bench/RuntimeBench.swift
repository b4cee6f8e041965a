import ArgumentParser
import COpenBLAS
import Foundation
import SpiqaModel

#if canImport(Glibc)
  import Glibc
#endif

/// `spiqa-bench runtime`: sgemm peak, encoder forward throughput (MiniLM, roberta-base shape), peak RSS.
struct RuntimeBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "runtime",
    abstract: "Measure sgemm GFLOP/s, encoder forward GFLOP/s and sequences/s, and peak memory.")

  @Option(help: "all-MiniLM-L6-v2 folder (default: $SPIQA_MODEL or models/all-MiniLM-L6-v2).")
  var model: String?

  @Option(help: "Threads for OpenBLAS and the element-wise kernels.")
  var threads = 2

  @Option(help: "Timed repetitions per measurement (the best and the median are printed).")
  var repeats = 5

  @Option(help: "Sequence lengths for MiniLM (comma-separated).")
  var seqLens = "128,320,384"

  @Option(help: "Batch sizes for MiniLM (comma-separated).")
  var batches = "1,8"

  @Flag(help: "Skip the roberta-base-shaped model (saves ~0.5 GB and a minute).")
  var skipRoberta = false

  func run() throws {
    OpenBLASRuntime.reexecWithRecommendedCoreIfNeeded()
    let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
    print("runtime: OpenBLAS \(OpenBLASRuntime.coreName) kernel\(forced), \(threads) threads")
    sgemmPeak()
    // roberta-base first, so the peak RSS it reports is its own (weights + activations + process baseline).
    if !skipRoberta { try roberta() }
    try miniLM()
  }

  /// Best and median wall time of `repeats` runs of `body` (after one warm-up).
  func time(_ body: () throws -> Void) rethrows -> (best: Double, median: Double) {
    try body()
    var times: [Double] = []
    for _ in 0..<max(1, repeats) {
      let t0 = DispatchTime.now().uptimeNanoseconds
      try body()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    return (times[0], times[times.count / 2])
  }

  /// The machine's sgemm GFLOP/s on `threads` OpenBLAS threads. Encoders keep OpenBLAS at one thread and split
  /// GEMMs over their own workers; this one measurement lends OpenBLAS the threads, on this thread alone, and
  /// puts it back to one before any encoder runs.
  func sgemmPeak() {
    OpenBLASRuntime.useOneThread()
    openblas_set_num_threads(Int32(max(1, threads)))
    defer { openblas_set_num_threads(1) }
    for (m, n, k) in [(384, 768, 768), (320, 1536, 384), (384, 3072, 768), (320, 768, 3072)] {
      let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: n * k)
      var c = [Float](repeating: 0, count: m * n)
      let t = time {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b,
                    Int32(k), 0, &c, Int32(n))
      }
      let flops = 2 * Double(m * n * k)
      print(String(format: "sgemm %4d x %4d · (%4d x %4d)ᵀ: %6.1f GFLOP/s best, %6.1f median", m, k, n, k,
                   flops / t.best / 1e9, flops / t.median / 1e9))
    }
  }

  /// Times full-length random sequences (no padding) with a no-op attention hook, like output_attentions.
  func measure(_ name: String, encoder: Encoder, batch: Int, seqLen: Int) throws {
    var rng = SystemRandomNumberGenerator()
    let c = encoder.config
    let ids = (0..<batch).map { _ in (0..<seqLen).map { _ in Int.random(in: 3..<c.vocabSize, using: &rng) } }
    let input = EncoderBatch(inputIds: ids, lengths: Array(repeating: seqLen, count: batch))
    let hooks = ForwardHooks(attention: { _, _, _ in })
    encoder.collectTimings = true
    encoder.timings = ForwardTimings()
    let t = try time { _ = try encoder.forward(input, hooks: hooks) }
    encoder.collectTimings = false
    let flops = c.forwardFLOPs(batch: batch, seqLen: seqLen)
    print(String(format: "%@ batch %d seq %d: %6.1f GFLOP/s, %7.2f seq/s (best %.1f ms, median %.1f ms; %@)",
                 name, batch, seqLen, flops / t.best / 1e9, Double(batch) / t.median, t.best * 1e3, t.median * 1e3,
                 encoder.timings.description))
  }

  func roberta() throws {
    let c = ModelConfig.robertaBase
    let encoder = try Encoder(randomWeightsFor: c, maxBatch: 1, maxSeqLen: 320)
    encoder.threads = threads
    let weightsMB = Double(encoder.parameterCount * 4) / 1e6
    try measure("roberta-base shape (random)", encoder: encoder, batch: 1, seqLen: 320)
    print(String(format: "peak RSS after roberta-base batch 1 seq 320: %.0f MB (f32 weights %.0f MB)",
                 peakRSSMB(), weightsMB))
  }

  func miniLM() throws {
    let dir = model ?? ProcessInfo.processInfo.environment["SPIQA_MODEL"] ?? "models/all-MiniLM-L6-v2"
    guard FileManager.default.fileExists(atPath: dir + "/config.json") else {
      print("MiniLM: skipped, no model at \(dir) (run make model or pass --model)")
      return
    }
    let lens = seqLens.split(separator: ",").compactMap { Int($0) }
    let sizes = batches.split(separator: ",").compactMap { Int($0) }
    let encoder = try Encoder(directory: dir, maxBatch: sizes.max() ?? 1, maxSeqLen: lens.max() ?? 128)
    encoder.threads = threads
    for t in lens { for b in sizes { try measure("MiniLM-L6", encoder: encoder, batch: b, seqLen: t) } }
    print(String(format: "peak RSS after MiniLM: %.0f MB", peakRSSMB()))
  }

  func peakRSSMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
  }
}
