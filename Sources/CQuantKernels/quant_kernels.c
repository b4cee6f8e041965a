// The quantizers' fast path (see include/quant_kernels.h): every element-wise quantizer, and a data-dependent one
// once its thresholds are known, is a monotone step function of the float's bit pattern on [0, 1), so a value is
// mapped by comparing it with each segment start and selecting that segment's output — no table lookups, no
// branches, 8 values per AVX2 instruction.

#include "quant_kernels.h"

#include "cpu_isa.h"
#include "x86.h"

static const uint32_t one_bits = 0x3F800000u;

// Portable: a branchless pass over the starts per value (the compiler vectorises nothing here; the AVX2 path does).
static ptrdiff_t steps_scalar(float *x, ptrdiff_t from, ptrdiff_t n, const uint32_t *starts, const float *values,
                              int count) {
  uint32_t *u = (uint32_t *)x;
  for (ptrdiff_t i = from; i < n; i++) {
    uint32_t b = u[i];
    if (b >= one_bits) return i;
    int j = 0;
    for (int k = 1; k < count; k++) j += b >= starts[k];
    x[i] = values[j];
  }
  return n;
}

#if SPIQA_X86
#define AVX2 __attribute__((target("avx2")))

AVX2 static ptrdiff_t steps_avx2(float *x, ptrdiff_t n, const uint32_t *starts, const float *values, int count) {
  // Bit patterns of [0, 1) are 0 … one-1, non-negative as int32, so signed compares order them; anything else
  // (sign bit set, ≥ 1.0, NaN) is outside and stops the loop.
  __m256i limit = _mm256_set1_epi32((int)(one_bits - 1));
  __m256i zero = _mm256_setzero_si256();
  __m256i gt[SPIQA_QUANT_STEPS_MAX];
  __m256 val[SPIQA_QUANT_STEPS_MAX];
  for (int k = 1; k < count; k++) {
    gt[k] = _mm256_set1_epi32((int)(starts[k] - 1));  // b >= starts[k]  <=>  b > starts[k] - 1 (starts[k] ≥ 1)
    val[k] = _mm256_set1_ps(values[k]);
  }
  __m256 first = _mm256_set1_ps(values[0]);
  ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i b = _mm256_loadu_si256((const __m256i *)(x + i));
    __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(zero, b), _mm256_cmpgt_epi32(b, limit));
    if (!_mm256_testz_si256(bad, bad)) return steps_scalar(x, i, i + 8, starts, values, count);
    __m256 out = first;
    for (int k = 1; k < count; k++)
      out = _mm256_blendv_ps(out, val[k], _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, gt[k])));
    _mm256_storeu_ps(x + i, out);
  }
  return steps_scalar(x, i, n, starts, values, count);
}
#endif

ptrdiff_t spiqa_quant_steps(float *x, ptrdiff_t n, const uint32_t *starts, const float *values, int count) {
  if (count < 1 || count > SPIQA_QUANT_STEPS_MAX) return 0;
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2) return steps_avx2(x, n, starts, values, count);
#endif
  return steps_scalar(x, 0, n, starts, values, count);
}
