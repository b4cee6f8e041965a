import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Download progress on stderr: a self-updating line on a terminal, a line per 10 % otherwise.
final class HubProgress: @unchecked Sendable {
  let label: String
  let total: Int64?
  let enabled: Bool
  private let tty = isatty(2) != 0
  private let started = Date()
  private var lastPrinted = Date.distantPast
  private var lastDecile = -1
  private var current: Int64 = 0

  init(label: String, total: Int64?, enabled: Bool, resumedAt: Int64) {
    self.label = label
    self.total = total
    self.enabled = enabled
    current = resumedAt
    if enabled {
      let size = total.map { " (\(Self.megabytes($0)))" } ?? ""
      let resume = resumedAt > 0 ? ", resuming at \(Self.megabytes(resumedAt))" : ""
      emit("spiqa: downloading \(label)\(size)\(resume)\n")
    }
  }

  static func megabytes(_ n: Int64) -> String {
    let mb = Double(n) / 1_048_576
    return mb >= 10 ? "\(Int(mb.rounded())) MB" : "\(Double(Int(mb * 10)) / 10) MB"
  }

  func update(_ bytes: Int64) {
    let previous = current
    current = bytes
    // Look at the clock / percentage only every 1 MiB: this runs once per 16 KiB chunk.
    guard enabled, bytes >> 20 != previous >> 20 else { return }
    let fraction = total.map { $0 > 0 ? Double(bytes) / Double($0) : 1 }
    if tty {
      guard Date().timeIntervalSince(lastPrinted) > 0.2 else { return }
      lastPrinted = Date()
      let percent = fraction.map { " \(Int($0 * 100))%" } ?? ""
      emit("\r  \(Self.megabytes(bytes))\(percent)   ")
    } else if let fraction, Int(fraction * 10) > lastDecile, fraction < 1 {
      lastDecile = Int(fraction * 10)
      emit("  \(label): \(lastDecile * 10)% (\(Self.megabytes(bytes)))\n")
    }
  }

  func finish(failed: Bool) {
    guard enabled else { return }
    let seconds = Date().timeIntervalSince(started)
    let rate = seconds > 0 ? Double(current) / seconds / 1_048_576 : 0
    emit((tty ? "\r" : "") + "  \(label): \(failed ? "failed" : "done") at \(Self.megabytes(current)) "
      + "(\(Double(Int(rate * 10)) / 10) MB/s)\n")
  }

  private func emit(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
