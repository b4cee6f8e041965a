// x86-64 feature detection, the SPIQA_MAX_ISA cap and the per-thread ISA override; see include/cpu_isa.h for the
// contract.

#include "cpu_isa.h"

#include <stdlib.h>
#include <strings.h>

#include "x86.h"

/// -1 until first use; then the best SPIQA_ISA_* level, capped. Racing first calls store the same value.
static int best_isa = -1;
/// The calling thread's choice from `spiqa_kernels_set_isa`, -1 for none. Per thread, so a test that walks the
/// levels never changes the kernels another thread (another test) is running.
static _Thread_local int thread_isa = -1;

static int detected_isa(void) {
#if SPIQA_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return SPIQA_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SPIQA_ISA_AVX2;
#endif
  return SPIQA_ISA_PORTABLE;
}

const char *spiqa_isa_name(int isa) {
  switch (isa) {
    case SPIQA_ISA_AVX512: return "avx512";
    case SPIQA_ISA_AVX2: return "avx2";
    default: return "portable";
  }
}

int spiqa_kernels_isa_cap(void) {
  const char *cap = getenv("SPIQA_MAX_ISA");
  if (cap == NULL || cap[0] == '\0') return -1;
  for (int isa = SPIQA_ISA_PORTABLE; isa <= SPIQA_ISA_AVX512; isa++) {
    if (strcasecmp(cap, spiqa_isa_name(isa)) == 0) return isa;
  }
  return -2;
}

int spiqa_kernels_best_isa(void) {
  int isa = __atomic_load_n(&best_isa, __ATOMIC_RELAXED);
  if (isa < 0) {
    isa = detected_isa();
    int cap = spiqa_kernels_isa_cap();
    if (cap >= 0 && cap < isa) isa = cap;
    __atomic_store_n(&best_isa, isa, __ATOMIC_RELAXED);
  }
  return isa;
}

int spiqa_kernels_isa(void) {
  return thread_isa >= 0 ? thread_isa : spiqa_kernels_best_isa();
}

int spiqa_kernels_set_isa(int isa) {
  if (isa < SPIQA_ISA_PORTABLE || isa > spiqa_kernels_best_isa()) return -1;
  thread_isa = isa;
  return 0;
}
