// What the three C files of CModelKernels share (private to the target): the constants and scalar versions of
// exp, erf and GELU (the portable kernels, and the vector kernels' tails), and the per-ISA kernels that
// model_kernels.c dispatches to.
//
// Bit-exactness with the Swift reference (`VectorMath.exp`, `VectorMath.erf`, `Kernels`): every exp/erf/GELU/
// LayerNorm-output step is the same IEEE operation on the same constants in the same order. Fused multiply-adds
// would round once instead of twice, so they are never used: contraction is off in every file of the target,
// and the intrinsics are separate mul and add. Clamps use min/max with the operand order that reproduces
// Swift's `x < lo ? lo : x` (MINPS/MAXPS return the second operand when the comparison is false, NaN included).
#ifndef SPIQA_MODEL_KERNELS_IMPL_H
#define SPIQA_MODEL_KERNELS_IMPL_H

#pragma STDC FP_CONTRACT OFF

#include <stddef.h>
#include <stdint.h>
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

// MARK: - Scalar versions (the reference arithmetic, written once more in C)

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

#if SPIQA_X86
#define HIDDEN __attribute__((visibility("hidden")))
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f")))

// AVX2 + FMA, 8 lanes (model_kernels_avx2.c): the contracts of include/model_kernels.h.
HIDDEN AVX2 void spiqa_softmax_rows_avx2(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                                         float mask_value);
HIDDEN AVX2 void spiqa_gelu_rows_avx2(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n);
HIDDEN AVX2 void spiqa_layer_norm_rows_avx2(float *x, const float *bias, const float *residual, float *out,
                                            ptrdiff_t rows, ptrdiff_t n, const float *gamma, const float *beta,
                                            float eps);
HIDDEN AVX2 void spiqa_exp_inplace_avx2(float *x, ptrdiff_t n);

// AVX-512F, 16 lanes (model_kernels_avx512.c).
HIDDEN AVX512 void spiqa_softmax_rows_avx512(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                                             float mask_value);
HIDDEN AVX512 void spiqa_gelu_rows_avx512(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n);
HIDDEN AVX512 void spiqa_layer_norm_rows_avx512(float *x, const float *bias, const float *residual, float *out,
                                                ptrdiff_t rows, ptrdiff_t n, const float *gamma, const float *beta,
                                                float eps);
HIDDEN AVX512 void spiqa_exp_inplace_avx512(float *x, ptrdiff_t n);
#endif

#endif
