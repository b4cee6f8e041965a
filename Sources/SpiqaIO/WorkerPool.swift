#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A few long-lived threads that compress and inflate gzip members.
///
/// Dedicated threads (one per core, at most 8) rather than Dispatch's shared pool, so member work can never
/// be starved by callers that themselves block pool threads. Work items run in submission order.
final class WorkerPool: @unchecked Sendable {
  /// The pool shared by every reader and writer of the process.
  static let shared = WorkerPool(threads: min(8, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let cond: UnsafeMutablePointer<pthread_cond_t>
  private var queue: [@Sendable () -> Void] = []
  private var head = 0

  private init(threads: Int) {
    mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(cond, nil)
    for _ in 0..<threads {
      var tid = pthread_t()
      let arg = Unmanaged.passRetained(self).toOpaque()
      let rc = pthread_create(&tid, nil, { arg in
        if let arg { Unmanaged<WorkerPool>.fromOpaque(arg).takeUnretainedValue().loop() }
        return nil
      }, arg)
      if rc == 0 { pthread_detach(tid) } else { Unmanaged<WorkerPool>.fromOpaque(arg).release() }
    }
  }

  /// Runs `work` on a pool thread.
  func async(_ work: @escaping @Sendable () -> Void) {
    pthread_mutex_lock(mutex)
    queue.append(work)
    pthread_cond_signal(cond)
    pthread_mutex_unlock(mutex)
  }

  private func loop() -> Never {
    while true {
      pthread_mutex_lock(mutex)
      while head == queue.count { pthread_cond_wait(cond, mutex) }
      let work = queue[head]
      head += 1
      if head == queue.count {
        queue.removeAll(keepingCapacity: true)
        head = 0
      } else if head > 64 {
        queue.removeFirst(head)
        head = 0
      }
      pthread_mutex_unlock(mutex)
      work()
    }
  }
}
