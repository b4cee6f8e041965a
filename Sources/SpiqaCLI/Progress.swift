#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress counter on standard error: a self-updating line on a terminal, a plain line every
/// `interval` seconds otherwise (logs stay readable), and a final summary line.
public struct Progress {
  private let label: String
  private let unit: String
  private let total: Int?
  private let enabled: Bool
  private let isTTY: Bool
  private let interval: Double
  private let start: Double
  private var last: Double
  /// Items counted so far.
  public private(set) var count = 0

  /// A counter named `label` (e.g. "extract"), counting `unit`s out of `total` if known.
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

  /// Counts `n` more items, printing when due.
  public mutating func advance(by n: Int = 1) {
    count += n
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
    Progress.emit((isTTY ? "\r\u{1B}[K" : "") + line(t) + " done", newline: true)
  }

  private func line(_ t: Double) -> String {
    let elapsed = max(t - start, 1e-9)
    let rate = Double(count) / elapsed
    var s = "\(label): \(count)"
    if let total { s += "/\(total)" }
    s += " \(unit), \(format(elapsed)) s, \(format(rate)) \(unit)/s"
    return s
  }

  private func format(_ v: Double) -> String {
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
