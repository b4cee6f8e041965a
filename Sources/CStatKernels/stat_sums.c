// Float64 sums for spiqa-hist's moments; see include/stat_sums.h for the contract. The AVX2 paths give the
// scalar loops' bits: lane k of an accumulator is chain k, and it receives its values in element order.

#pragma STDC FP_CONTRACT OFF

#include "stat_sums.h"

#include "cpu_isa.h"
#include "x86.h"

// The tail of row sums from element `from` on, continuing the chains `even` (all of them without `pairs`) and
// `odd`.
static double row_sum_tail(const float *p, ptrdiff_t from, ptrdiff_t n, int pairs, double even, double odd) {
  for (ptrdiff_t i = from; i < n; i++) {
    if (pairs && (i & 1))
      odd += (double)p[i];
    else
      even += (double)p[i];
  }
  return pairs ? even + odd : even;
}

// Scalar: four rows' chains interleaved (their latencies overlap), then any rows left one by one.
static void row_sums_scalar(const float *x, ptrdiff_t n, ptrdiff_t rows, int pairs, double *out) {
  ptrdiff_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float *p = x + r * n;
    double e[4] = {0, 0, 0, 0}, o[4] = {0, 0, 0, 0};
    ptrdiff_t i = 0;
    if (pairs) {
      for (; i + 2 <= n; i += 2)
        for (int k = 0; k < 4; k++) {
          e[k] += (double)p[k * n + i];
          o[k] += (double)p[k * n + i + 1];
        }
    } else {
      for (; i < n; i++)
        for (int k = 0; k < 4; k++) e[k] += (double)p[k * n + i];
    }
    for (int k = 0; k < 4; k++) out[r + k] = row_sum_tail(p + k * n, i, n, pairs, e[k], o[k]);
  }
  for (; r < rows; r++) out[r] = row_sum_tail(x + r * n, 0, n, pairs, 0.0, 0.0);
}

// Scalar: four blocks' chains interleaved, then any blocks left one by one.
static void squared_deviations_scalar(const float *const *blocks, const double *means, ptrdiff_t count,
                                      ptrdiff_t n, double *out) {
  ptrdiff_t b = 0;
  for (; b + 4 <= count; b += 4) {
    double a[4] = {0, 0, 0, 0};
    for (ptrdiff_t i = 0; i < n; i++)
      for (int k = 0; k < 4; k++) {
        double d = (double)blocks[b + k][i] - means[b + k];
        a[k] += d * d;
      }
    for (int k = 0; k < 4; k++) out[b + k] = a[k];
  }
  for (; b < count; b++) {
    double a = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
      double d = (double)blocks[b][i] - means[b];
      a += d * d;
    }
    out[b] = a;
  }
}

#if SPIQA_X86
#define AVX2 __attribute__((target("avx2")))

// Columns j = 0 ..< 8 of the 4 × 8 floats at q, q + n, q + 2n, q + 3n (rows of a tile), widened:
// c[j] = (q[j], q[n + j], q[2n + j], q[3n + j]).
AVX2 static inline void tile_columns(const float *q, ptrdiff_t n, __m256d c[8]) {
  __m256 r0 = _mm256_loadu_ps(q), r1 = _mm256_loadu_ps(q + n);
  __m256 r2 = _mm256_loadu_ps(q + 2 * n), r3 = _mm256_loadu_ps(q + 3 * n);
  __m256 lo01 = _mm256_unpacklo_ps(r0, r1), lo23 = _mm256_unpacklo_ps(r2, r3);
  __m256 hi01 = _mm256_unpackhi_ps(r0, r1), hi23 = _mm256_unpackhi_ps(r2, r3);
  // t[k] holds column k in its low half and column k + 4 in its high half.
  __m256 t[4] = {_mm256_shuffle_ps(lo01, lo23, 0x44), _mm256_shuffle_ps(lo01, lo23, 0xEE),
                 _mm256_shuffle_ps(hi01, hi23, 0x44), _mm256_shuffle_ps(hi01, hi23, 0xEE)};
  for (int k = 0; k < 4; k++) {
    c[k] = _mm256_cvtps_pd(_mm256_castps256_ps128(t[k]));
    c[k + 4] = _mm256_cvtps_pd(_mm256_extractf128_ps(t[k], 1));
  }
}

// 16 rows at once: four tiles of 4 rows, so four independent accumulators hide the addition latency.
AVX2 static void row_sums16_avx2(const float *x, ptrdiff_t n, int pairs, double *out) {
  __m256d even[4], odd[4];
  for (int u = 0; u < 4; u++) even[u] = odd[u] = _mm256_setzero_pd();
  ptrdiff_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int u = 0; u < 4; u++) {
      __m256d c[8];
      tile_columns(x + 4 * u * n + i, n, c);
      if (pairs) {
        for (int j = 0; j < 8; j += 2) {
          even[u] = _mm256_add_pd(even[u], c[j]);
          odd[u] = _mm256_add_pd(odd[u], c[j + 1]);
        }
      } else {
        for (int j = 0; j < 8; j++) even[u] = _mm256_add_pd(even[u], c[j]);
      }
    }
  }
  double e[16], o[16];
  for (int u = 0; u < 4; u++) {
    _mm256_storeu_pd(e + 4 * u, even[u]);
    _mm256_storeu_pd(o + 4 * u, odd[u]);
  }
  for (int r = 0; r < 16; r++) out[r] = row_sum_tail(x + r * n, i, n, pairs, e[r], o[r]);
}

// `groups` × 4 blocks at once (one accumulator of 4 blocks per group), 4 elements of each per step.
AVX2 static inline void squared_deviations_avx2(const float *const *blocks, const double *means, ptrdiff_t n,
                                                int groups, double *out) {
  __m256d acc[2], mean[2];
  for (int g = 0; g < groups; g++) {
    acc[g] = _mm256_setzero_pd();
    mean[g] = _mm256_loadu_pd(means + 4 * g);
  }
  ptrdiff_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int g = 0; g < groups; g++) {
      const float *const *b = blocks + 4 * g;
      __m128 r0 = _mm_loadu_ps(b[0] + i), r1 = _mm_loadu_ps(b[1] + i);
      __m128 r2 = _mm_loadu_ps(b[2] + i), r3 = _mm_loadu_ps(b[3] + i);
      __m128 lo01 = _mm_unpacklo_ps(r0, r1), lo23 = _mm_unpacklo_ps(r2, r3);
      __m128 hi01 = _mm_unpackhi_ps(r0, r1), hi23 = _mm_unpackhi_ps(r2, r3);
      __m128 col[4] = {_mm_movelh_ps(lo01, lo23), _mm_movehl_ps(lo23, lo01), _mm_movelh_ps(hi01, hi23),
                       _mm_movehl_ps(hi23, hi01)};
      for (int j = 0; j < 4; j++) {
        __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(col[j]), mean[g]);
        acc[g] = _mm256_add_pd(acc[g], _mm256_mul_pd(d, d));
      }
    }
  }
  double a[8];
  for (int g = 0; g < groups; g++) _mm256_storeu_pd(a + 4 * g, acc[g]);
  for (int b = 0; b < 4 * groups; b++) {
    for (ptrdiff_t k = i; k < n; k++) {
      double d = (double)blocks[b][k] - means[b];
      a[b] += d * d;
    }
    out[b] = a[b];
  }
}

AVX2 static void squared_deviations8_avx2(const float *const *blocks, const double *means, ptrdiff_t n,
                                          double *out) {
  squared_deviations_avx2(blocks, means, n, 2, out);
}

AVX2 static void squared_deviations4_avx2(const float *const *blocks, const double *means, ptrdiff_t n,
                                          double *out) {
  squared_deviations_avx2(blocks, means, n, 1, out);
}
#endif

void spiqa_row_sums_f64(const float *x, ptrdiff_t n, ptrdiff_t rows, int pairs, double *out) {
  ptrdiff_t r = 0;
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2)
    for (; r + 16 <= rows; r += 16) row_sums16_avx2(x + r * n, n, pairs, out + r);
#endif
  row_sums_scalar(x + r * n, n, rows - r, pairs, out + r);
}

void spiqa_squared_deviations_f64(const float *const *blocks, const double *means, ptrdiff_t count, ptrdiff_t n,
                                  double *out) {
  ptrdiff_t b = 0;
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2) {
    for (; b + 8 <= count; b += 8) squared_deviations8_avx2(blocks + b, means + b, n, out + b);
    for (; b + 4 <= count; b += 4) squared_deviations4_avx2(blocks + b, means + b, n, out + b);
  }
#endif
  squared_deviations_scalar(blocks + b, means + b, count - b, n, out + b);
}
