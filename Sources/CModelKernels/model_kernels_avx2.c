// The AVX2 + FMA kernels (8 lanes; tails of < 8 columns use the scalar code of model_kernels_impl.h, which is the
// same arithmetic). Called by model_kernels.c's dispatch only when the CPU has AVX2 and FMA.

#pragma STDC FP_CONTRACT OFF

#include "model_kernels_impl.h"

#include <math.h>

#if SPIQA_X86

AVX2 static inline __m256 exp_avx2(__m256 x0) {
  const __m256 lo = _mm256_set1_ps(EXP_LO), magic = _mm256_set1_ps(EXP_MAGIC);
  __m256 x = _mm256_min_ps(_mm256_set1_ps(EXP_HI), _mm256_max_ps(lo, x0));
  __m256 k = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(EXP_LOG2E)), magic);
  __m256 n = _mm256_sub_ps(k, magic);
  x = _mm256_sub_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(EXP_LN2_HI)));
  x = _mm256_add_ps(x, _mm256_mul_ps(n, _mm256_set1_ps(EXP_LN2_LO)));
  __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(EXP_P0);
  p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(EXP_P1));
  p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(EXP_P2));
  p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(EXP_P3));
  p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(EXP_P4));
  p = _mm256_add_ps(_mm256_mul_ps(p, x), _mm256_set1_ps(EXP_P5));
  p = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(p, x2), x), _mm256_set1_ps(1));
  __m256i e = _mm256_sub_epi32(_mm256_castps_si256(k), _mm256_set1_epi32(0x4B400000));
  __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23));
  __m256 underflow = _mm256_cmp_ps(x0, lo, _CMP_LT_OQ);
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, scale));
}

AVX2 static inline __m256 erf_avx2(__m256 x) {
  const __m256 one = _mm256_set1_ps(1), sign = _mm256_set1_ps(-0.0f);
  // Flip the sign only where x < 0, as Swift's `x < 0 ? -x : x` does (so −0 stays −0, NaN keeps its sign).
  __m256 negSign = _mm256_and_ps(_mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ), sign);
  __m256 a = _mm256_min_ps(_mm256_set1_ps(ERF_CLAMP), _mm256_xor_ps(x, negSign));
  __m256 p = _mm256_set1_ps(ERF_A6);
  p = _mm256_add_ps(_mm256_mul_ps(p, a), _mm256_set1_ps(ERF_A5));
  p = _mm256_add_ps(_mm256_mul_ps(p, a), _mm256_set1_ps(ERF_A4));
  p = _mm256_add_ps(_mm256_mul_ps(p, a), _mm256_set1_ps(ERF_A3));
  p = _mm256_add_ps(_mm256_mul_ps(p, a), _mm256_set1_ps(ERF_A2));
  p = _mm256_add_ps(_mm256_mul_ps(p, a), _mm256_set1_ps(ERF_A1));
  p = _mm256_add_ps(_mm256_mul_ps(p, a), one);
  __m256 q = _mm256_mul_ps(p, p);
  q = _mm256_mul_ps(q, q);
  q = _mm256_mul_ps(q, q);
  q = _mm256_mul_ps(q, q);
  __m256 r = _mm256_sub_ps(one, _mm256_div_ps(one, q));
  return _mm256_xor_ps(r, negSign);
}

/// Lanes `c + i >= valid` of the 8 columns starting at `c`, as an all-ones float mask.
AVX2 static inline __m256 pad_lanes_avx2(ptrdiff_t c, ptrdiff_t valid) {
  __m256i idx = _mm256_add_epi32(_mm256_set1_epi32((int)c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32((int)valid - 1)));
}

AVX2 static inline float hmax_avx2(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

AVX2 static inline float hsum_avx2(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

AVX2 void spiqa_softmax_rows_avx2(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                                  float mask_value) {
  const __m256 maskv = _mm256_set1_ps(mask_value);
  const ptrdiff_t tv = t & ~(ptrdiff_t)7;  // columns done 8 at a time
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *row = s + r * stride;
    // Pass 1: mask the padded columns (in place, as the reference does) and take the maximum.
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    ptrdiff_t c = 0;
    for (; c < tv; c += 8) {
      __m256 v = _mm256_loadu_ps(row + c);
      if (c + 8 > valid) {
        v = _mm256_blendv_ps(v, _mm256_add_ps(v, maskv), pad_lanes_avx2(c, valid));
        _mm256_storeu_ps(row + c, v);
      }
      vmax = _mm256_max_ps(v, vmax);
    }
    float m = hmax_avx2(vmax);
    for (; c < t; c++) {
      if (c >= valid) row[c] += mask_value;
      m = row[c] > m ? row[c] : m;
    }
    // Pass 2: exp(x − max) and its sum (lane-wise partial sums: the one reassociated step).
    const __m256 mv = _mm256_set1_ps(m);
    __m256 vsum = _mm256_setzero_ps();
    for (c = 0; c < tv; c += 8) {
      __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(row + c), mv));
      _mm256_storeu_ps(row + c, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum_avx2(vsum);
    for (; c < t; c++) {
      row[c] = exp_scalar(row[c] - m);
      sum += row[c];
    }
    // Pass 3: normalise the real columns, zero the padded ones.
    const float inv = 1 / sum;
    const __m256 invv = _mm256_set1_ps(inv);
    for (c = 0; c < tv; c += 8) {
      __m256 p = _mm256_mul_ps(_mm256_loadu_ps(row + c), invv);
      if (c + 8 > valid) p = _mm256_andnot_ps(pad_lanes_avx2(c, valid), p);
      _mm256_storeu_ps(row + c, p);
    }
    for (; c < t; c++) row[c] = c < valid ? row[c] * inv : 0;
  }
}

AVX2 void spiqa_gelu_rows_avx2(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1), rs2 = _mm256_set1_ps(SQRT1_2);
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *xr = x + r * n;
    ptrdiff_t j = 0;
    for (; j + 8 <= n; j += 8) {
      __m256 v = _mm256_add_ps(_mm256_loadu_ps(xr + j), _mm256_loadu_ps(bias + j));
      __m256 e = erf_avx2(_mm256_mul_ps(v, rs2));
      _mm256_storeu_ps(xr + j, _mm256_mul_ps(_mm256_mul_ps(v, half), _mm256_add_ps(one, e)));
    }
    for (; j < n; j++) xr[j] = gelu_scalar(xr[j] + bias[j]);
  }
}

AVX2 void spiqa_layer_norm_rows_avx2(float *x, const float *bias, const float *residual, float *out,
                                     ptrdiff_t rows, ptrdiff_t n, const float *gamma, const float *beta,
                                     float eps) {
  const ptrdiff_t nv = n & ~(ptrdiff_t)7;
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *xr = x + r * n, *orow = out + r * n;
    const float *rr = residual ? residual + r * n : NULL;
    __m256 vsum = _mm256_setzero_ps();
    ptrdiff_t j = 0;
    for (; j < nv; j += 8) {
      __m256 v = _mm256_loadu_ps(xr + j);
      if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
      if (rr) v = _mm256_add_ps(v, _mm256_loadu_ps(rr + j));
      _mm256_storeu_ps(xr + j, v);
      vsum = _mm256_add_ps(vsum, v);
    }
    float sum = hsum_avx2(vsum);
    for (; j < n; j++) {
      float v = xr[j];
      if (bias) v = v + bias[j];
      if (rr) v = v + rr[j];
      xr[j] = v;
      sum += v;
    }
    const float mean = sum / (float)n;
    const __m256 meanv = _mm256_set1_ps(mean);
    __m256 vsq = _mm256_setzero_ps();
    for (j = 0; j < nv; j += 8) {
      __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + j), meanv);
      vsq = _mm256_add_ps(vsq, _mm256_mul_ps(d, d));
    }
    float sq = hsum_avx2(vsq);
    for (; j < n; j++) {
      float d = xr[j] - mean;
      sq = sq + d * d;
    }
    const float rstd = 1 / sqrtf(sq / (float)n + eps);
    const __m256 rstdv = _mm256_set1_ps(rstd);
    for (j = 0; j < nv; j += 8) {
      __m256 y = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), meanv), rstdv);
      y = _mm256_add_ps(_mm256_mul_ps(y, _mm256_loadu_ps(gamma + j)), _mm256_loadu_ps(beta + j));
      _mm256_storeu_ps(orow + j, y);
    }
    for (; j < n; j++) orow[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

AVX2 void spiqa_exp_inplace_avx2(float *x, ptrdiff_t n) {
  ptrdiff_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(x + j, exp_avx2(_mm256_loadu_ps(x + j)));
  for (; j < n; j++) x[j] = exp_scalar(x[j]);
}

#endif  // SPIQA_X86
