// x86-64 feature detection and the per-thread ISA override; see include/cpu_isa.h for the contract.

#include "cpu_isa.h"

#include "x86.h"

/// -1 until first use; then the best SPIQA_ISA_* level. Racing first calls store the same value.
static int best_isa = -1;
/// The calling thread's choice from `spiqa_kernels_set_isa`, -1 for none. Per thread, so a test that walks the
/// levels never changes the kernels another thread (another test) is running.
static _Thread_local int thread_isa = -1;

int spiqa_kernels_best_isa(void) {
#if SPIQA_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return SPIQA_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SPIQA_ISA_AVX2;
#endif
  return SPIQA_ISA_PORTABLE;
}

int spiqa_kernels_isa(void) {
  if (thread_isa >= 0) return thread_isa;
  int isa = __atomic_load_n(&best_isa, __ATOMIC_RELAXED);
  if (isa < 0) {
    isa = spiqa_kernels_best_isa();
    __atomic_store_n(&best_isa, isa, __ATOMIC_RELAXED);
  }
  return isa;
}

int spiqa_kernels_set_isa(int isa) {
  if (isa < SPIQA_ISA_PORTABLE || isa > spiqa_kernels_best_isa()) return -1;
  thread_isa = isa;
  return 0;
}
