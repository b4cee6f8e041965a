import SpiqaIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes the temporary output files when the process is ended by a signal (docs/robustness.md).
///
/// SIGTERM, SIGINT, SIGHUP and SIGPIPE: the handler unlinks every registered temporary file, restores the default
/// action and raises the signal again, so the process still dies of it (status 128 + signal in a shell).
public enum SignalCleanup {
  public static let signals: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGPIPE]

  /// Installs the handlers (idempotent); `runTool` calls it.
  ///
  /// A signal ignored when the process started (`nohup`, a background job's SIGINT) stays ignored; the signals are
  /// unblocked, since a parent may have started us with them blocked.
  public static func install() {
    TempFiles.prepare()
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for s in signals {
      var old = sigaction()
      sigaction(s, nil, &old)
      let ignored = withUnsafeBytes(of: &old.__sigaction_handler) { $0.load(as: Int.self) } == 1  // SIG_IGN
      if ignored && s != SIGPIPE { continue }
      sigaddset(&unblock, s)
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { sig in
        TempFiles.removeAll()
        signal(sig, SIG_DFL)
        raise(sig)
      }
      sigemptyset(&action.sa_mask)
      action.sa_flags = 0
      sigaction(s, &action, nil)
    }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
  }
}
