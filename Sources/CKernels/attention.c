// Per-(item, head) attention GEMMs for AVX-512F: Q·Kᵀ with the masked softmax fused per block of query rows, and
// P·V. For a head size of 32 OpenBLAS spends much of its time packing, zeroing C (beta = 0) and loading and
// storing C around a k-loop of only 32; these kernels keep a row block's scores in registers and in L1 until
// they are probabilities. Accumulation uses FMA, like BLAS (rounding differs from OpenBLAS only in the usual
// last-bit way); the softmax is the shared one, op-for-op the Swift reference.

#include "ckernels.h"
#include "internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE inline __attribute__((always_inline))
// Row and vector counts are constants at every call, so full unrolling turns the accumulator arrays into registers.
#define UNROLL _Pragma("clang loop unroll(full)")

/// The first `count` of 16 lanes (count clamped to 0...16).
static INLINE __mmask16 lanes(ptrdiff_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

enum { QK_ROWS = 6 };  // 6 rows × 32 columns = 12 zmm accumulators

/// `p[r][0..<32] = alpha · Σ_c q[r·ld + c] · kt[c·tp + 0..<32]` for `R` rows; stores under masks `m0`, `m1`.
AVX512 static INLINE void qk_tile(const float *q, ptrdiff_t ld, const float *kt, ptrdiff_t tp, ptrdiff_t d,
                                  __m512 alpha, float *p, ptrdiff_t ldp, int R, __mmask16 m0, __mmask16 m1) {
  __m512 acc0[QK_ROWS], acc1[QK_ROWS];
  UNROLL for (int r = 0; r < R; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (ptrdiff_t c = 0; c < d; c++) {
    __m512 b0 = _mm512_loadu_ps(kt + c * tp), b1 = _mm512_loadu_ps(kt + c * tp + 16);
    UNROLL for (int r = 0; r < R; r++) {
      __m512 a = _mm512_set1_ps(q[r * ld + c]);
      acc0[r] = _mm512_fmadd_ps(a, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(a, b1, acc1[r]);
    }
  }
  UNROLL for (int r = 0; r < R; r++) {
    _mm512_mask_storeu_ps(p + r * ldp, m0, _mm512_mul_ps(acc0[r], alpha));
    _mm512_mask_storeu_ps(p + r * ldp + 16, m1, _mm512_mul_ps(acc1[r], alpha));
  }
}

/// `R` query rows against all `t` keys, then their masked softmax while they are still in L1.
AVX512 static INLINE void qk_rows(const float *q, ptrdiff_t ld, const float *kt, ptrdiff_t tp, ptrdiff_t t,
                                  ptrdiff_t d, __m512 alpha, float *p, ptrdiff_t ldp, int R) {
  for (ptrdiff_t j = 0; j < t; j += 32)
    qk_tile(q, ld, kt + j, tp, d, alpha, p + j, ldp, R, lanes(t - j), lanes(t - j - 16));
}

AVX512 static void attention_probs_avx512(const float *q, const float *k, ptrdiff_t ld, ptrdiff_t m, ptrdiff_t t,
                                          ptrdiff_t d, float alpha, ptrdiff_t valid, float mask_value, float *p,
                                          ptrdiff_t ldp, float *kt) {
  // Kᵀ packed as [d][tp], tp = t rounded up to 32 with zero columns, so every tile loads whole vectors.
  const ptrdiff_t tp = (t + 31) & ~(ptrdiff_t)31;
  for (ptrdiff_t j = 0; j < t; j++)
    for (ptrdiff_t c = 0; c < d; c++) kt[c * tp + j] = k[j * ld + c];
  for (ptrdiff_t c = 0; c < d; c++)
    for (ptrdiff_t j = t; j < tp; j++) kt[c * tp + j] = 0;
  const __m512 av = _mm512_set1_ps(alpha);
  for (ptrdiff_t i = 0; i < m; i += QK_ROWS) {
    const float *qi = q + i * ld;
    float *pi = p + i * ldp;
    switch (m - i < QK_ROWS ? m - i : QK_ROWS) {  // constant row counts, so the tiles stay in registers
    case 6: qk_rows(qi, ld, kt, tp, t, d, av, pi, ldp, 6); break;
    case 5: qk_rows(qi, ld, kt, tp, t, d, av, pi, ldp, 5); break;
    case 4: qk_rows(qi, ld, kt, tp, t, d, av, pi, ldp, 4); break;
    case 3: qk_rows(qi, ld, kt, tp, t, d, av, pi, ldp, 3); break;
    case 2: qk_rows(qi, ld, kt, tp, t, d, av, pi, ldp, 2); break;
    default: qk_rows(qi, ld, kt, tp, t, d, av, pi, ldp, 1); break;
    }
    spiqa_softmax_rows_avx512(pi, m - i < QK_ROWS ? m - i : QK_ROWS, ldp, t, valid, mask_value);
  }
}

/// `out[r][0..<16·D] = Σ_j p[r·ldp + j] · v[j·ldv + 0..<16·D]` for `R` rows (R·D ≤ 24 accumulators).
AVX512 static INLINE void pv_tile(const float *p, ptrdiff_t ldp, const float *v, ptrdiff_t ldv, ptrdiff_t n,
                                  float *out, ptrdiff_t ldo, int R, int D) {
  __m512 acc[12][4];
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int x = 0; x < D; x++) acc[r][x] = _mm512_setzero_ps();
  for (ptrdiff_t j = 0; j < n; j++) {
    __m512 b[4];
    UNROLL for (int x = 0; x < D; x++) b[x] = _mm512_loadu_ps(v + j * ldv + 16 * x);
    UNROLL for (int r = 0; r < R; r++) {
      __m512 a = _mm512_set1_ps(p[r * ldp + j]);
      UNROLL for (int x = 0; x < D; x++) acc[r][x] = _mm512_fmadd_ps(a, b[x], acc[r][x]);
    }
  }
  UNROLL for (int r = 0; r < R; r++)
    UNROLL for (int x = 0; x < D; x++) _mm512_storeu_ps(out + r * ldo + 16 * x, acc[r][x]);
}

/// All `m` rows for a head size of 16·D, in blocks of `ROWS`, the last block row by row.
#define PV_ROWS(D, ROWS)                                                                  \
  do {                                                                                    \
    ptrdiff_t i = 0;                                                                      \
    for (; i + (ROWS) <= m; i += (ROWS)) pv_tile(p + i * ldp, ldp, v, ldv, n, out + i * ldo, ldo, ROWS, D); \
    for (; i < m; i++) pv_tile(p + i * ldp, ldp, v, ldv, n, out + i * ldo, ldo, 1, D);   \
  } while (0)

AVX512 static void attention_context_avx512(const float *p, ptrdiff_t ldp, const float *v, ptrdiff_t ldv,
                                            ptrdiff_t m, ptrdiff_t n, ptrdiff_t d, float *out, ptrdiff_t ldo) {
  switch (d / 16) {
  case 1: PV_ROWS(1, 12); break;
  case 2: PV_ROWS(2, 12); break;
  case 3: PV_ROWS(3, 8); break;
  default: PV_ROWS(4, 6); break;
  }
}

#endif  // __x86_64__

int spiqa_attention_probs(const float *q, const float *k, ptrdiff_t ld, ptrdiff_t m, ptrdiff_t t, ptrdiff_t d,
                          float alpha, ptrdiff_t valid, float mask_value, float *p, ptrdiff_t ldp, float *kt) {
#if defined(__x86_64__)
  if (spiqa_kernels_isa() == SPIQA_ISA_AVX512) {
    attention_probs_avx512(q, k, ld, m, t, d, alpha, valid, mask_value, p, ldp, kt);
    return 0;
  }
#endif
  (void)q, (void)k, (void)ld, (void)m, (void)t, (void)d, (void)alpha, (void)valid, (void)mask_value, (void)p;
  (void)ldp, (void)kt;
  return -1;
}

int spiqa_attention_context(const float *p, ptrdiff_t ldp, const float *v, ptrdiff_t ldv, ptrdiff_t m, ptrdiff_t n,
                            ptrdiff_t d, float *out, ptrdiff_t ldo) {
#if defined(__x86_64__)
  if (spiqa_kernels_isa() == SPIQA_ISA_AVX512 && d % 16 == 0 && d >= 16 && d <= 64) {
    attention_context_avx512(p, ldp, v, ldv, m, n, d, out, ldo);
    return 0;
  }
#endif
  (void)p, (void)ldp, (void)v, (void)ldv, (void)m, (void)n, (void)d, (void)out, (void)ldo;
  return -1;
}
