#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress counter on standard error: a self-updating line on a terminal, a plain line every
/// `interval` seconds otherwise (logs stay readable), and a final summary line.
///
/// The line is `<tool>: <count>[/<total>] <unit> (<percent>), <elapsed>, <rate>, ETA <left>`: the percentage and
/// ETA appear when the fraction done is known, from `total` or from the fraction given to `advance` (e.g. the
/// share of an input file read so far). docs/cli.md, "Progress".
public struct Progress {
  private let label: String
  private let unit: String
  private let total: Int?
  private let enabled: Bool
  private let isTTY: Bool
  private let interval: Double
  let start: Double
  private var last: Double
  /// Items counted so far.
  public private(set) var count = 0
  /// The fraction of the work done (0...1) last given to `advance`, used when there is no `total`.
  private var fraction: Double?

  /// A counter named `label` (the tool's name, e.g. "spiqa-extract"), counting `unit`s out of `total` if known.
  ///
  /// - Parameters:
  ///   - enabled: false makes every call a no-op (`--quiet`).
  ///   - interval: seconds between plain lines when stderr is not a terminal.
  public init(label: String, total: Int? = nil, unit: String = "records", enabled: Bool = true, interval: Double = 10) {
    self.label = label
    self.unit = unit
    self.total = total
    self.enabled = enabled
    self.isTTY = isatty(2) != 0
    self.interval = interval
    start = Progress.now()
    last = start
  }

  /// Counts `n` more items, printing when due; `fraction` is the share of the work done when known otherwise
  /// than by `total` (e.g. `RecordReader.inputFraction`).
  public mutating func advance(by n: Int = 1, fraction: Double? = nil) {
    count += n
    if let fraction { self.fraction = fraction }
    guard enabled else { return }
    let t = Progress.now()
    if isTTY {
      if t - last >= 0.2 || count == total {
        last = t
        Progress.emit("\r\u{1B}[K" + line(t), newline: false)
      }
    } else if t - last >= interval {
      last = t
      Progress.emit(line(t), newline: true)
    }
  }

  /// Prints the final count and rate.
  public mutating func finish() {
    guard enabled else { return }
    let t = Progress.now()
    Progress.emit((isTTY ? "\r\u{1B}[K" : "") + line(t, finished: true) + " done", newline: true)
  }

  /// The fraction done, from `total` or `fraction`, clamped to 0...1.
  private var done: Double? {
    let f: Double?
    if let total { f = total > 0 ? Double(count) / Double(total) : 1 } else { f = fraction }
    guard let f, f.isFinite else { return nil }
    return min(max(f, 0), 1)
  }

  /// `finished`: the summary line, with no ETA.
  func line(_ t: Double, finished: Bool = false) -> String {
    let elapsed = max(t - start, 1e-9)
    let rate = Double(count) / elapsed
    var s = "\(label): \(count)"
    if let total { s += "/\(total)" }
    s += " \(unit)"
    let f = finished ? nil : done
    if let f { s += " (\(Int((f * 100).rounded(.down)))%)" }
    s += ", \(Progress.duration(elapsed)), \(Progress.format(rate)) \(unit)/s"
    // An ETA from the average rate so far, once there is something to extrapolate from.
    if let f, f > 0, f < 1, elapsed >= 1 { s += ", ETA \(Progress.duration(elapsed * (1 - f) / f))" }
    return s
  }

  /// `4.2 s`, `42 s`, `3 min 05 s`, `2 h 07 min`.
  static func duration(_ seconds: Double) -> String {
    if seconds < 10 { return "\(format(seconds)) s" }
    if seconds < 60 { return "\(Int(seconds.rounded())) s" }
    let s = Int(seconds.rounded())
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    if s < 3600 { return "\(s / 60) min \(two(s % 60)) s" }
    return "\(s / 3600) h \(two(s % 3600 / 60)) min"
  }

  private static func format(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(r)
  }

  private static func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
  }

  private static func emit(_ s: String, newline: Bool) {
    let text = newline ? s + "\n" : s
    _ = text.utf8CString.withUnsafeBufferPointer { buf in
      write(2, buf.baseAddress, max(0, buf.count - 1))
    }
  }
}
