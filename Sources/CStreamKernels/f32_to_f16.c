// f32 → f16 (round to nearest even) for f16 record streams; see include/f32_to_f16.h for the contract.

#include "f32_to_f16.h"

#include <stdint.h>
#include <string.h>

#include "cpu_isa.h"
#include "x86.h"

static void f32_to_f16_portable(const float *x, void *out, ptrdiff_t n) {
  for (ptrdiff_t j = 0; j < n; j++) {
    _Float16 h = (_Float16)x[j];
    memcpy((char *)out + 2 * j, &h, 2);
  }
}

#if SPIQA_X86
#define F16C __attribute__((target("avx,f16c")))
F16C static void f32_to_f16_f16c(const float *x, void *out, ptrdiff_t n) {
#define F16_ROUNDING (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
  ptrdiff_t j = 0;
  for (; j + 8 <= n; j += 8)
    _mm_storeu_si128((__m128i *)((char *)out + 2 * j), _mm256_cvtps_ph(_mm256_loadu_ps(x + j), F16_ROUNDING));
  if (j < n) {  // tail through a zero-padded lane buffer
    float in[8] = {0};
    uint16_t half[8];
    memcpy(in, x + j, (size_t)(n - j) * sizeof(float));
    _mm_storeu_si128((__m128i *)half, _mm256_cvtps_ph(_mm256_loadu_ps(in), F16_ROUNDING));
    memcpy((char *)out + 2 * j, half, (size_t)(n - j) * 2);
  }
}
#endif

void spiqa_f32_to_f16(const float *x, void *out, ptrdiff_t n) {
#if SPIQA_X86
  // F16C is its own CPUID flag; every AVX2 CPU so far has it, but check anyway.
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2 && __builtin_cpu_supports("f16c")) {
    f32_to_f16_f16c(x, out, n);
    return;
  }
#endif
  f32_to_f16_portable(x, out, n);
}
