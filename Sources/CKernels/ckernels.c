// Element-wise kernels with runtime ISA dispatch; see include/ckernels.h for the contract.
//
// Bit-exactness with the Swift reference (`VectorMath.exp`, `VectorMath.erf`, `Kernels`): every exp/erf/GELU/
// LayerNorm-output step below is the same IEEE operation on the same constants in the same order. Fused
// multiply-adds would round once instead of twice, so they are never used: contraction is off for this file, and
// the intrinsics are separate mul and add. Clamps use min/max with the operand order that reproduces Swift's
// `x < lo ? lo : x` (MINPS/MAXPS return the second operand when the comparison is false, NaN included).

#pragma STDC FP_CONTRACT OFF

#include "ckernels.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x86.h"

// Constants of VectorMath.exp / VectorMath.erf (checked to round to the same floats as the Swift literals).
#define EXP_LO (-87.3365447504019f)
#define EXP_HI 88.3762626647949f
#define EXP_LOG2E 1.44269504088896341f
#define EXP_MAGIC 12582912.0f  // 1.5·2²³: x + magic rounds x to an integer kept in the low mantissa bits
#define EXP_LN2_HI 0.693359375f
#define EXP_LN2_LO 2.12194440e-4f
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f
#define ERF_A6 0.0000430638f
#define ERF_A5 0.0002765672f
#define ERF_A4 0.0001520143f
#define ERF_A3 0.0092705272f
#define ERF_A2 0.0422820123f
#define ERF_A1 0.0705230784f
#define ERF_CLAMP 6.0f  // erf(6) = 1 in f32; keeps the 16th power finite
#define SQRT1_2 0.70710678118654752f

// MARK: - Portable scalar versions (the reference arithmetic, written once more in C)

static inline float exp_scalar(float x0) {
  float x = x0 < EXP_LO ? EXP_LO : (x0 > EXP_HI ? EXP_HI : x0);
  float k = x * EXP_LOG2E + EXP_MAGIC;
  float n = k - EXP_MAGIC;
  x = x - n * EXP_LN2_HI;
  x = x + n * EXP_LN2_LO;
  float x2 = x * x;
  float p = EXP_P0;
  p = p * x + EXP_P1;
  p = p * x + EXP_P2;
  p = p * x + EXP_P3;
  p = p * x + EXP_P4;
  p = p * x + EXP_P5;
  p = p * x2 + x + 1;
  uint32_t kb;
  memcpy(&kb, &k, 4);
  uint32_t sb = (kb - 0x4B400000u + 127u) << 23;  // 2ⁿ (wrapping, like Swift's &- &+ &<<)
  float scale;
  memcpy(&scale, &sb, 4);
  return x0 < EXP_LO ? 0 : p * scale;
}

static inline float erf_scalar(float x) {
  float a0 = x < 0 ? -x : x;
  float a = a0 > ERF_CLAMP ? ERF_CLAMP : a0;
  float p = ERF_A6;
  p = p * a + ERF_A5;
  p = p * a + ERF_A4;
  p = p * a + ERF_A3;
  p = p * a + ERF_A2;
  p = p * a + ERF_A1;
  p = p * a + 1;
  float q = p * p;
  q = q * q;
  q = q * q;
  q = q * q;
  float r = 1 - 1 / q;
  return x < 0 ? -r : r;
}

static inline float gelu_scalar(float v) { return v * 0.5f * (1 + erf_scalar(v * SQRT1_2)); }

static void softmax_rows_portable(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                                  float mask_value) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *row = s + r * stride;
    for (ptrdiff_t c = valid; c < t; c++) row[c] += mask_value;
    float m = -INFINITY;
    for (ptrdiff_t c = 0; c < t; c++) m = row[c] > m ? row[c] : m;
    float sum = 0;
    for (ptrdiff_t c = 0; c < t; c++) {
      row[c] = exp_scalar(row[c] - m);
      sum += row[c];
    }
    float inv = 1 / sum;
    for (ptrdiff_t c = 0; c < valid; c++) row[c] *= inv;
    for (ptrdiff_t c = valid; c < t; c++) row[c] = 0;
  }
}

static void gelu_rows_portable(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *xr = x + r * n;
    for (ptrdiff_t j = 0; j < n; j++) xr[j] = gelu_scalar(xr[j] + bias[j]);
  }
}

static void layer_norm_rows_portable(float *x, const float *bias, const float *residual, float *out,
                                     ptrdiff_t rows, ptrdiff_t n, const float *gamma, const float *beta,
                                     float eps) {
  for (ptrdiff_t r = 0; r < rows; r++) {
    float *xr = x + r * n, *orow = out + r * n;
    const float *rr = residual ? residual + r * n : NULL;
    float sum = 0;
    for (ptrdiff_t j = 0; j < n; j++) {
      float v = xr[j];
      if (bias) v = v + bias[j];
      if (rr) v = v + rr[j];
      xr[j] = v;
      sum += v;
    }
    float mean = sum / (float)n;
    float sq = 0;
    for (ptrdiff_t j = 0; j < n; j++) {
      float d = xr[j] - mean;
      sq = sq + d * d;
    }
    float rstd = 1 / sqrtf(sq / (float)n + eps);
    for (ptrdiff_t j = 0; j < n; j++) orow[j] = (xr[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

static void exp_portable(float *x, ptrdiff_t n) {
  for (ptrdiff_t j = 0; j < n; j++) x[j] = exp_scalar(x[j]);
}

#if SPIQA_X86

// MARK: - AVX2 (8 lanes; tails of < 8 columns use the scalar code above, which is the same arithmetic)

#define AVX2 __attribute__((target("avx2,fma")))

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

AVX2 static void softmax_rows_avx2(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
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

AVX2 static void gelu_rows_avx2(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
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

AVX2 static void layer_norm_rows_avx2(float *x, const float *bias, const float *residual, float *out,
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

AVX2 static void exp_avx2_inplace(float *x, ptrdiff_t n) {
  ptrdiff_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(x + j, exp_avx2(_mm256_loadu_ps(x + j)));
  for (; j < n; j++) x[j] = exp_scalar(x[j]);
}

// MARK: - AVX-512F (16 lanes; tails through masked loads and stores)

#define AVX512 __attribute__((target("avx512f")))

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

AVX512 static void softmax_rows_avx512(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
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

AVX512 static void gelu_rows_avx512(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
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

AVX512 static void layer_norm_rows_avx512(float *x, const float *bias, const float *residual, float *out,
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

AVX512 static void exp_avx512_inplace(float *x, ptrdiff_t n) {
  for (ptrdiff_t j = 0; j < n; j += 16) {
    __mmask16 in = first_lanes(n - j);
    _mm512_mask_storeu_ps(x + j, in, exp_avx512(_mm512_maskz_loadu_ps(in, x + j)));
  }
}

#endif  // SPIQA_X86

// MARK: - f32 → f16 (round to nearest even)

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

// MARK: - Dispatch

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

void spiqa_masked_softmax_rows(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                               float mask_value) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: softmax_rows_avx512(s, rows, stride, t, valid, mask_value); return;
  case SPIQA_ISA_AVX2: softmax_rows_avx2(s, rows, stride, t, valid, mask_value); return;
#endif
  default: softmax_rows_portable(s, rows, stride, t, valid, mask_value);
  }
}

void spiqa_bias_gelu_rows(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: gelu_rows_avx512(x, bias, rows, n); return;
  case SPIQA_ISA_AVX2: gelu_rows_avx2(x, bias, rows, n); return;
#endif
  default: gelu_rows_portable(x, bias, rows, n);
  }
}

void spiqa_add_layer_norm_rows(float *x, const float *bias, const float *residual, float *out, ptrdiff_t rows,
                               ptrdiff_t n, const float *gamma, const float *beta, float eps) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: layer_norm_rows_avx512(x, bias, residual, out, rows, n, gamma, beta, eps); return;
  case SPIQA_ISA_AVX2: layer_norm_rows_avx2(x, bias, residual, out, rows, n, gamma, beta, eps); return;
#endif
  default: layer_norm_rows_portable(x, bias, residual, out, rows, n, gamma, beta, eps);
  }
}

void spiqa_exp_inplace(float *x, ptrdiff_t n) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: exp_avx512_inplace(x, n); return;
  case SPIQA_ISA_AVX2: exp_avx2_inplace(x, n); return;
#endif
  default: exp_portable(x, n);
  }
}

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
