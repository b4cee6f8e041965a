import ArgumentParser
import Foundation
import SpiqaStats

/// `spiqa-bench hist`: throughput of the spiqa-hist statistics kernel on synthetic attention, and the one-off
/// exhaustive check that the table binner puts every float32 in [0, 1] into numpy's bin.
///
/// The numpy side (np.histogram on the same data, the spiqa-hist binary on a stream, the ≥10 GB pipe with its
/// peak RSS) is `scripts/bench_hist.py`.
struct HistBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hist", abstract: "Throughput of the spiqa-hist kernel; exhaustive bin check (--exhaustive).")

  @Option(help: "Sequence length of the synthetic records.") var n = 384
  @Option(help: "Layers × heads per record (e.g. 6x12).") var shape = "6x12"
  @Option(help: "Records to time.") var records = 4
  @Option(help: "Bins preset or edges (log, log20, js, linear, or a list).") var bins = "log"
  @Option(help: "Threads (heads in parallel).") var threads = 1
  @Flag(help: "Only histograms, thresholds and moments (no per-row statistics).") var noRowStats = false
  @Flag(help: "Check every float32 in [0, 1] against the float64 binary search, print per-bin counts (TSV).")
  var exhaustive = false

  func run() throws {
    let edges = try BinEdges(parsing: bins)
    if exhaustive {
      try runExhaustive(edges)
      return
    }
    let parts = shape.split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts[0] > 0, parts[1] > 0, n > 0, records > 0 else {
      throw ValidationError("--shape LxH with positive numbers, --n and --records > 0")
    }
    let (layers, heads) = (parts[0], parts[1])
    let values = histSyntheticAttention(layers: layers, heads: heads, n: n, seed: 1)
    let stats = try AttentionStatistics(options: optionsFor(edges), layers: layers, heads: heads)
    let start = Date()
    let cpu0 = histCPUSeconds()
    for _ in 0..<records {
      try values.withUnsafeBufferPointer { try stats.add($0, n: n) }
    }
    let seconds = Date().timeIntervalSince(start)
    let cpu = histCPUSeconds() - cpu0
    let mb = Double(values.count * 4 * records) / 1e6
    print("hist kernel: \(records) records [\(layers),\(heads),\(n),\(n)] f32 = \(String(format: "%.1f", mb)) MB in "
      + "\(String(format: "%.3f", seconds)) s → \(String(format: "%.0f", mb / seconds)) MB/s wall, "
      + "\(String(format: "%.0f", mb / cpu)) MB per CPU-second "
      + "(\(String(format: "%.1f", Double(values.count * records) / seconds / 1e6)) M values/s, "
      + "\(noRowStats ? "no per-row statistics" : "all statistics"), \(threads) thread(s))")
    let binner = Binner(edges)
    var counts = [Int](repeating: 0, count: edges.bins)
    let t0 = Date()
    let c0 = histCPUSeconds()
    counts.withUnsafeMutableBufferPointer { c in
      for _ in 0..<records {
        for v in values {
          let b = binner.bin(v)
          if b >= 0 { c[b] &+= 1 }
        }
      }
    }
    let s0 = Date().timeIntervalSince(t0)
    let cs = histCPUSeconds() - c0
    print("binning only: \(String(format: "%.0f", mb / s0)) MB/s wall, \(String(format: "%.0f", mb / cs)) MB per CPU-second "
      + "(\(String(format: "%.1f", Double(values.count * records) / cs / 1e6)) M values per CPU-second)")
  }

  private func optionsFor(_ edges: BinEdges) -> StatsOptions {
    var o = StatsOptions()
    o.edges = edges
    o.threads = threads
    o.perRowStatistics = !noRowStats
    return o
  }

  /// Every float32 bit pattern in [0, 1]: table bin == binary-search bin; per-bin counts for numpy's side.
  private func runExhaustive(_ edges: BinEdges) throws {
    let binner = Binner(edges)
    var counts = [Int](repeating: 0, count: edges.bins)
    var mismatches = 0
    let top = Float(1).bitPattern
    var bits: UInt32 = 0
    while true {
      let v = Float(bitPattern: bits)
      let fast = binner.bin(v)
      let exact = binner.exactBin(Double(v + edges.offset))
      if fast != exact {
        if mismatches < 10 { FileHandle.standardError.write(Data("mismatch at \(v): table \(fast), search \(exact)\n".utf8)) }
        mismatches += 1
      }
      if fast >= 0 { counts[fast] += 1 }
      if bits == top { break }
      bits += 1
    }
    for (i, c) in counts.enumerated() { print("\(i)\t\(c)") }
    FileHandle.standardError.write(Data("exhaustive \(edges.name): \(Int(top) + 1) values, \(mismatches) mismatches\n".utf8))
    if mismatches > 0 { throw ExitCode(1) }
  }
}

/// User + system CPU time of this process (all threads), in seconds.
private func histCPUSeconds() -> Double {
  var u = rusage()
  getrusage(RUSAGE_SELF.rawValue, &u)
  return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// Softmax rows of Gaussian logits with a per-row temperature: `[layers, heads, n, n]`, deterministic.
private func histSyntheticAttention(layers: Int, heads: Int, n: Int, seed: UInt64) -> [Float] {
  var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
  func uniform() -> Double {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return Double(state >> 11) / Double(1 << 53)
  }
  var out = [Float](repeating: 0, count: layers * heads * n * n)
  var row = [Double](repeating: 0, count: n)
  for r in 0..<(layers * heads * n) {
    let scale = 1 + 6 * uniform()
    var mx = -Double.infinity
    for j in 0..<n {
      let g = (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform())
      row[j] = g * scale
      mx = max(mx, row[j])
    }
    var s = 0.0
    for j in 0..<n {
      row[j] = exp(row[j] - mx)
      s += row[j]
    }
    for j in 0..<n { out[r * n + j] = Float(row[j] / s) }
  }
  return out
}
