import COpenBLAS
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide OpenBLAS settings: threads and the GEMM kernel.
///
/// Threads: OpenBLAS's thread count is one number for the whole process, so changing it around one encoder's
/// forward would change it under every other thread's GEMMs too, and their bits with it (OpenBLAS partitions a
/// threaded sgemm differently). So OpenBLAS is set to one thread once, before the first encoder exists, and
/// never touched again; encoders split their GEMMs over their own workers (`BLAS.linear`). `defaultThreads`
/// keeps the count OpenBLAS chose when it loaded, as the default worker count.
///
/// OpenBLAS 0.3.21 (Debian 12) picks its kernel from the CPU model when the library loads. CPUs newer than
/// it knows (e.g. Intel family 6 model 207, "Intel Xeon Processor") fall back to the generic **Prescott**
/// kernel, ~5× slower than the AVX-512 one. The only supported override is `OPENBLAS_CORETYPE`, read at load
/// time — hence `reexecWithRecommendedCoreIfNeeded()` for executables.
public enum OpenBLASRuntime {
  /// Kernel OpenBLAS chose, e.g. "SkylakeX", "Haswell", "Prescott".
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// The thread count OpenBLAS chose when it loaded (`OPENBLAS_NUM_THREADS`, else the number of cores): the
  /// default `Encoder.threads`. Reading it sets OpenBLAS to one thread, like `useOneThread()`.
  public static var defaultThreads: Int { threadsAtLoad }

  /// Sets OpenBLAS to one thread for the rest of the process, once (later calls do nothing; safe from any
  /// thread). `Encoder` calls it before its first GEMM.
  public static func useOneThread() { _ = threadsAtLoad }

  /// OpenBLAS's thread count before `useOneThread`. A static `let` is initialised exactly once, and threads that
  /// reach it meanwhile wait, so no GEMM runs before OpenBLAS is at one thread.
  private static let threadsAtLoad: Int = {
    let loaded = Int(openblas_get_num_threads())
    openblas_set_num_threads(1)
    return max(1, loaded)
  }()

  /// The `OPENBLAS_CORETYPE` this CPU should use when OpenBLAS fell back to Prescott: "SkylakeX" with
  /// AVX-512 (F, BW, DQ, VL), "Haswell" with AVX2 + FMA; nil when the kernel is already specific, the
  /// variable is set, or the CPU has neither.
  public static var recommendedCoreType: String? {
    guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
          coreName.lowercased() == "prescott",
          let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
    if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
    return nil
  }

  /// For executables, first thing in `main`: when OpenBLAS fell back to Prescott on a CPU with AVX2/AVX-512,
  /// re-executes the process with `OPENBLAS_CORETYPE` set (same arguments, same environment otherwise).
  /// Returns normally when nothing needs doing or `execv` fails. Never call it from a library or test.
  public static func reexecWithRecommendedCoreIfNeeded() {
    guard let core = recommendedCoreType else { return }
    setenv("OPENBLAS_CORETYPE", core, 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
    unsetenv("OPENBLAS_CORETYPE")  // exec failed: carry on with the slow kernel
  }
}
