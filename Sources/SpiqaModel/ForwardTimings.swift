import Dispatch

/// Wall time spent in each part of `Encoder.forward`, accumulated while `Encoder.collectTimings` is on.
public struct ForwardTimings: Sendable, CustomStringConvertible {
  /// Q/K/V, attention output and FFN matrix products (seconds).
  public var denseGEMM: Double = 0
  /// QKᵀ, masked softmax, zeroing, the attention hook and P·V.
  public var attention: Double = 0
  /// Bias + residual + LayerNorm and bias + activation.
  public var elementwise: Double = 0
  /// Embeddings, hidden-state hooks and copies, heads.
  public var other: Double = 0
  public var forwards = 0

  public init() {}

  public var total: Double { denseGEMM + attention + elementwise + other }

  public var description: String {
    func pct(_ x: Double) -> String { String(Int((100 * x / max(total, 1e-12)).rounded())) + "%" }
    return "dense GEMM \(pct(denseGEMM)), attention \(pct(attention)), LayerNorm/GELU \(pct(elementwise)), "
      + "other \(pct(other))"
  }
}

/// Adds the time since the previous lap to one bucket of `ForwardTimings` (no-op when disabled).
struct PhaseClock {
  let enabled: Bool
  private var last: UInt64

  init(enabled: Bool) {
    self.enabled = enabled
    last = enabled ? DispatchTime.now().uptimeNanoseconds : 0
  }

  mutating func lap(_ bucket: WritableKeyPath<ForwardTimings, Double>, into timings: inout ForwardTimings) {
    guard enabled else { return }
    let now = DispatchTime.now().uptimeNanoseconds
    timings[keyPath: bucket] += Double(now - last) / 1e9
    last = now
  }
}
