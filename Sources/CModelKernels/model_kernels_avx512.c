// The AVX-512F kernels (16 lanes; tails through masked loads and stores). Called by model_kernels.c's dispatch
// only when the CPU has AVX-512F.

#pragma STDC FP_CONTRACT OFF

#include "model_kernels_impl.h"

#include <math.h>

#if SPIQA_X86

AVX512 static inline __m512 exp_avx512(__m512 x0) {
  const __m512 lo = _mm512_set1_ps(EXP_LO), magic = _mm512_set1_ps(EXP_MAGIC);
  __m512 x = _mm512_min_ps(_mm512_set1_ps(EXP_HI), _mm512_max_ps(lo, x0));
  __m512 k = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(EXP_LOG2E)), magic);
  __m512 n = _mm512_sub_ps(k, magic);
  x = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(EXP_LN2_HI)));
  x = _mm512_add_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(EXP_LN2_LO)));
  __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(EXP_P0);
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(EXP_P1));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(EXP_P2));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(EXP_P3));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(EXP_P4));
  p = _mm512_add_ps(_mm512_mul_ps(p, x), _mm512_set1_ps(EXP_P5));
  p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, x2), x), _mm512_set1_ps(1));
  __m512i e = _mm512_sub_epi32(_mm512_castps_si512(k), _mm512_set1_epi32(0x4B400000));
  __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(e, _mm512_set1_epi32(127)), 23));
  __mmask16 keep = _mm512_cmp_ps_mask(x0, lo, _CMP_NLT_UQ);  // not (x0 < lo), NaN included
  return _mm512_maskz_mul_ps(keep, p, scale);
}

AVX512 static inline __m512 erf_avx512(__m512 x) {
  const __m512 one = _mm512_set1_ps(1);
  const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
  // Flip the sign only where x < 0, as Swift's `x < 0 ? -x : x` does.
  __mmask16 neg = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  __m512i xi = _mm512_castps_si512(x);
  __m512 a0 = _mm512_castsi512_ps(_mm512_mask_xor_epi32(xi, neg, xi, sign));
  __m512 a = _mm512_min_ps(_mm512_set1_ps(ERF_CLAMP), a0);
  __m512 p = _mm512_set1_ps(ERF_A6);
  p = _mm512_add_ps(_mm512_mul_ps(p, a), _mm512_set1_ps(ERF_A5));
  p = _mm512_add_ps(_mm512_mul_ps(p, a), _mm512_set1_ps(ERF_A4));
  p = _mm512_add_ps(_mm512_mul_ps(p, a), _mm512_set1_ps(ERF_A3));
  p = _mm512_add_ps(_mm512_mul_ps(p, a), _mm512_set1_ps(ERF_A2));
  p = _mm512_add_ps(_mm512_mul_ps(p, a), _mm512_set1_ps(ERF_A1));
  p = _mm512_add_ps(_mm512_mul_ps(p, a), one);
  __m512 q = _mm512_mul_ps(p, p);
  q = _mm512_mul_ps(q, q);
  q = _mm512_mul_ps(q, q);
  q = _mm512_mul_ps(q, q);
  __m512i ri = _mm512_castps_si512(_mm512_sub_ps(one, _mm512_div_ps(one, q)));
  return _mm512_castsi512_ps(_mm512_mask_xor_epi32(ri, neg, ri, sign));
}

/// The first `count` of 16 lanes (count clamped to 0...16).
static inline __mmask16 first_lanes(ptrdiff_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

AVX512 void spiqa_softmax_rows_avx512(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                                      float mask_value) {
  const __m512 maskv = _mm512_set1_ps(mask_value), ninf = _mm512_set1_ps(-INFINITY);
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *row = s + r * stride;
    // Pass 1: mask the padded columns (in place, as the reference does) and take the maximum.
    // Two running maxima so consecutive vmaxps do not wait on each other.
    __m512 m0 = ninf, m1 = ninf;
    ptrdiff_t c = 0;
    for (; c + 16 <= valid; c += 16) {
      m0 = _mm512_max_ps(_mm512_loadu_ps(row + c), m0);
      if (c + 32 <= valid) {
        c += 16;
        m1 = _mm512_max_ps(_mm512_loadu_ps(row + c), m1);
      }
    }
    for (; c < t; c += 16) {
      __mmask16 in = first_lanes(t - c), pad = (__mmask16)(in & ~first_lanes(valid - c));
      __m512 v = _mm512_mask_loadu_ps(ninf, in, row + c);
      v = _mm512_mask_add_ps(v, pad, v, maskv);
      _mm512_mask_storeu_ps(row + c, pad, v);
      m0 = _mm512_max_ps(v, m0);
    }
    const float m = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
    // Pass 2: exp(x − max) and its sum (lane-wise partial sums: the one reassociated step).
    const __m512 mv = _mm512_set1_ps(m);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (c = 0; c + 32 <= t; c += 32) {
      __m512 e0 = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(row + c), mv));
      __m512 e1 = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(row + c + 16), mv));
      _mm512_storeu_ps(row + c, e0);
      _mm512_storeu_ps(row + c + 16, e1);
      s0 = _mm512_add_ps(s0, e0);
      s1 = _mm512_add_ps(s1, e1);
    }
    for (; c < t; c += 16) {
      __mmask16 in = first_lanes(t - c);
      __m512 e = exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(in, row + c), mv));
      _mm512_mask_storeu_ps(row + c, in, e);
      s0 = _mm512_mask_add_ps(s0, in, s0, e);
    }
    const float inv = 1 / _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    // Pass 3: normalise the real columns, zero the padded ones.
    const __m512 invv = _mm512_set1_ps(inv);
    for (c = 0; c < t; c += 16) {
      __mmask16 in = first_lanes(t - c);
      __m512 p = _mm512_maskz_mul_ps(first_lanes(valid - c), _mm512_maskz_loadu_ps(in, row + c), invv);
      _mm512_mask_storeu_ps(row + c, in, p);
    }
  }
}

AVX512 void spiqa_gelu_rows_avx512(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1), rs2 = _mm512_set1_ps(SQRT1_2);
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *xr = x + r * n;
    for (ptrdiff_t j = 0; j < n; j += 16) {
      __mmask16 in = first_lanes(n - j);
      __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(in, xr + j), _mm512_maskz_loadu_ps(in, bias + j));
      __m512 e = erf_avx512(_mm512_mul_ps(v, rs2));
      _mm512_mask_storeu_ps(xr + j, in, _mm512_mul_ps(_mm512_mul_ps(v, half), _mm512_add_ps(one, e)));
    }
  }
}

AVX512 void spiqa_layer_norm_rows_avx512(float *x, const float *bias, const float *residual, float *out,
                                         ptrdiff_t rows, ptrdiff_t n, const float *gamma, const float *beta,
                                         float eps) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *xr = x + r * n, *orow = out + r * n;
    const float *rr = residual ? residual + r * n : NULL;
    __m512 vsum = _mm512_setzero_ps();
    for (ptrdiff_t j = 0; j < n; j += 16) {
      __mmask16 in = first_lanes(n - j);
      __m512 v = _mm512_maskz_loadu_ps(in, xr + j);
      if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(in, bias + j));
      if (rr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(in, rr + j));
      _mm512_mask_storeu_ps(xr + j, in, v);
      vsum = _mm512_add_ps(vsum, v);  // masked-off lanes are 0 + 0 + 0
    }
    const float mean = _mm512_reduce_add_ps(vsum) / (float)n;
    const __m512 meanv = _mm512_set1_ps(mean);
    __m512 vsq = _mm512_setzero_ps();
    for (ptrdiff_t j = 0; j < n; j += 16) {
      __mmask16 in = first_lanes(n - j);
      __m512 d = _mm512_maskz_sub_ps(in, _mm512_maskz_loadu_ps(in, xr + j), meanv);
      vsq = _mm512_add_ps(vsq, _mm512_mul_ps(d, d));
    }
    const float rstd = 1 / sqrtf(_mm512_reduce_add_ps(vsq) / (float)n + eps);
    const __m512 rstdv = _mm512_set1_ps(rstd);
    for (ptrdiff_t j = 0; j < n; j += 16) {
      __mmask16 in = first_lanes(n - j);
      __m512 y = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(in, xr + j), meanv), rstdv);
      y = _mm512_add_ps(_mm512_mul_ps(y, _mm512_maskz_loadu_ps(in, gamma + j)), _mm512_maskz_loadu_ps(in, beta + j));
      _mm512_mask_storeu_ps(orow + j, in, y);
    }
  }
}

AVX512 void spiqa_exp_inplace_avx512(float *x, ptrdiff_t n) {
  for (ptrdiff_t j = 0; j < n; j += 16) {
    __mmask16 in = first_lanes(n - j);
    _mm512_mask_storeu_ps(x + j, in, exp_avx512(_mm512_maskz_loadu_ps(in, x + j)));
  }
}

#endif  // SPIQA_X86
