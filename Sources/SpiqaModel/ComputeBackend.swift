import CCPU
import COpenBLAS

/// What computes a forward pass on this machine: OpenBLAS's GEMM kernel and the instruction set of spiqa's own C
/// kernels. Two machines that differ in either can give results that differ in the last bits, so results and
/// stream headers record both (`provenance.compute`, docs/cli.md "Result keys").
public enum ComputeBackend {
  /// "OpenBLAS <version> <kernel>", e.g. "OpenBLAS 0.3.21 Cooperlake".
  public static var blas: String {
    let config = String(cString: openblas_get_config()).split(separator: " ")
    let version = config.count > 1 && config[0] == "OpenBLAS" ? " " + config[1] : ""
    return "OpenBLAS\(version) \(OpenBLASRuntime.coreName)"
  }

  /// The level the C kernels run at: "avx512", "avx2" or "portable" (the CPU's best, capped by `SPIQA_MAX_ISA`;
  /// docs/runtime.md, "Instruction sets").
  public static var kernelISA: String { String(cString: spiqa_isa_name(spiqa_kernels_best_isa())) }
}
