#ifndef SPIQA_CPU_ISA_H
#define SPIQA_CPU_ISA_H

/// The instruction-set level the C kernels with runtime dispatch use (CStreamKernels' f32 → f16, CStatKernels,
/// CModelKernels): x86-64 AVX-512F, AVX2 + FMA or portable C, chosen once from the CPU; other architectures:
/// portable C only. Tests and benchmarks can lower it for the calling thread.

#ifdef __cplusplus
extern "C" {
#endif

/// ISA levels; `spiqa_kernels_set_isa` takes one of these.
enum {
  SPIQA_ISA_PORTABLE = 0,
  SPIQA_ISA_AVX2 = 1,  // AVX2 + FMA
  SPIQA_ISA_AVX512 = 2,  // AVX-512F
};

/// The best level this CPU supports.
int spiqa_kernels_best_isa(void);

/// The level the calling thread uses (the best one unless changed by `spiqa_kernels_set_isa`).
int spiqa_kernels_isa(void);

/// Uses `isa` from now on on the calling thread only (for tests and benchmarks: other threads keep the best
/// level). Returns 0, or -1 and changes nothing when the CPU lacks it.
int spiqa_kernels_set_isa(int isa);

#ifdef __cplusplus
}
#endif

#endif
