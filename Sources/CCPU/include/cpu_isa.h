#ifndef SPIQA_CPU_ISA_H
#define SPIQA_CPU_ISA_H

/// The instruction-set level the C kernels with runtime dispatch use (CStreamKernels' f32 → f16, CStatKernels,
/// CModelKernels, CQuantKernels): x86-64 AVX-512F, AVX2 + FMA or portable C, chosen once from the CPU; other architectures:
/// portable C only. `SPIQA_MAX_ISA` (avx512, avx2 or portable, any case) caps it for the process, read once at first
/// use: to reproduce another machine's bits or time the AVX2 kernels on an AVX-512 CPU. Tests and benchmarks can
/// lower it for the calling thread.

#ifdef __cplusplus
extern "C" {
#endif

/// ISA levels; `spiqa_kernels_set_isa` takes one of these.
enum {
  SPIQA_ISA_PORTABLE = 0,
  SPIQA_ISA_AVX2 = 1,  // AVX2 + FMA
  SPIQA_ISA_AVX512 = 2,  // AVX-512F
};

/// The best level this CPU supports, capped by `SPIQA_MAX_ISA`.
int spiqa_kernels_best_isa(void);

/// The level `SPIQA_MAX_ISA` names: -1 when it is unset or empty, -2 when it names none (the cap is then ignored;
/// the tools refuse to start).
int spiqa_kernels_isa_cap(void);

/// The level's name as `SPIQA_MAX_ISA` takes it and provenance records it: "portable", "avx2", "avx512".
const char *spiqa_isa_name(int isa);

/// The level the calling thread uses (the best one unless changed by `spiqa_kernels_set_isa`).
int spiqa_kernels_isa(void);

/// Uses `isa` from now on on the calling thread only (for tests and benchmarks: other threads keep the best
/// level). Returns 0, or -1 and changes nothing when the CPU lacks it.
int spiqa_kernels_set_isa(int isa);

#ifdef __cplusplus
}
#endif

#endif
