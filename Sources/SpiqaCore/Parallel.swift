import Dispatch

/// How the compute kernels (encoder, quantizer statistics, histograms) split work over cores: Dispatch's
/// `concurrentPerform` (its pool, one thread per core), returning when every part is done; inline when there is one
/// part. (SpiqaIO's gzip members run on threads of their own, `WorkerPool`, so that they never wait for these.)
public enum Parallel {
  /// Runs `body(0) ... body(count - 1)`, up to `count` at once.
  public static func forEach(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
      if count == 1 { body(0) }
      return
    }
    withoutActuallyEscaping(body) { escapable in
      let box = UncheckedSendable(escapable)
      DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
    }
  }

  /// Splits `0..<count` into contiguous ranges of at least `minPerThread` items, one per worker (at most
  /// `threads`), and runs `body` on each.
  public static func ranges(_ count: Int, threads: Int, minPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let workers = min(threads, max(1, count / max(minPerThread, 1)))
    if workers <= 1 {
      body(0..<count)
      return
    }
    forEach(workers) { w in
      let lo = count * w / workers, hi = count * (w + 1) / workers
      if lo < hi { body(lo..<hi) }
    }
  }
}

/// A value handed to parallel workers that the compiler cannot prove safe to share: a pointer to memory they write
/// at disjoint places, or a closure they all call. The caller guarantees the disjointness.
public struct UncheckedSendable<T>: @unchecked Sendable {
  public let value: T
  public init(_ value: T) { self.value = value }
}
