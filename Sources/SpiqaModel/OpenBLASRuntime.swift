import COpenBLAS
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Process-wide OpenBLAS settings: threads and the GEMM kernel.
///
/// OpenBLAS 0.3.21 (Debian 12) picks its kernel from the CPU model when the library loads. CPUs newer than
/// it knows (e.g. Intel family 6 model 207, "Intel Xeon Processor") fall back to the generic **Prescott**
/// kernel, ~5× slower than the AVX-512 one. The only supported override is `OPENBLAS_CORETYPE`, read at load
/// time — hence `reexecWithRecommendedCoreIfNeeded()` for executables.
public enum OpenBLASRuntime {
  /// Kernel OpenBLAS chose, e.g. "SkylakeX", "Haswell", "Prescott".
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// OpenBLAS worker threads (process-wide; default: number of cores).
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(max(1, newValue))) }
  }

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
