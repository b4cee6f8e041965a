#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary output files of this process, so a signal handler can remove them before the process dies.
///
/// A fixed table of C strings: `removeAll()` only reads it and calls `unlink`, both safe in a signal handler
/// (docs/robustness.md). Strings of finished entries are not freed (a handler may be reading one); that is a few
/// dozen bytes per output file.
public enum TempFiles {
  static let capacity = 256
  nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
    let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    p.initialize(repeating: nil, count: capacity)
    return p
  }()
  nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    pthread_mutex_init(m, nil)
    return m
  }()

  /// Creates the table now, so a signal handler never has to.
  public static func prepare() { _ = slots; _ = lock }

  /// Records a temporary file; the returned slot is passed to `unregister` once it is renamed or removed.
  static func register(_ path: String) -> Int? {
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    for i in 0..<capacity where slots[i] == nil {
      slots[i] = strdup(path)
      return i
    }
    return nil
  }

  /// Forgets a temporary file (it has been renamed into place or removed).
  static func unregister(_ slot: Int?) {
    guard let slot else { return }
    pthread_mutex_lock(lock)
    slots[slot] = nil
    pthread_mutex_unlock(lock)
  }

  /// Blocks the signals the tools clean up on (SIGTERM, SIGINT, SIGHUP, SIGPIPE); returns the mask to restore.
  static func blockSignals() -> sigset_t {
    var set = sigset_t()
    var old = sigset_t()
    sigemptyset(&set)
    for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&set, s) }
    pthread_sigmask(SIG_BLOCK, &set, &old)
    return old
  }

  /// Restores the signal mask `blockSignals` returned.
  static func restoreSignals(_ old: sigset_t) {
    var old = old
    pthread_sigmask(SIG_SETMASK, &old, nil)
  }

  /// Unlinks every registered temporary file; async-signal-safe (no locks, no allocation).
  public static func removeAll() {
    for i in 0..<capacity {
      if let p = slots[i] { unlink(p) }
    }
  }
}
