// Element-wise kernels of the forward pass with runtime ISA dispatch; see include/model_kernels.h for the
// contract and model_kernels_impl.h for how they keep the Swift reference's bits. This file: the portable
// versions and the dispatch on the calling thread's `spiqa_kernels_isa` (CCPU).

#pragma STDC FP_CONTRACT OFF

#include "model_kernels.h"

#include <math.h>

#include "cpu_isa.h"
#include "model_kernels_impl.h"

// MARK: - Portable versions

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

// MARK: - Dispatch

void spiqa_masked_softmax_rows(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                               float mask_value) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: spiqa_softmax_rows_avx512(s, rows, stride, t, valid, mask_value); return;
  case SPIQA_ISA_AVX2: spiqa_softmax_rows_avx2(s, rows, stride, t, valid, mask_value); return;
#endif
  default: softmax_rows_portable(s, rows, stride, t, valid, mask_value);
  }
}

void spiqa_bias_gelu_rows(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: spiqa_gelu_rows_avx512(x, bias, rows, n); return;
  case SPIQA_ISA_AVX2: spiqa_gelu_rows_avx2(x, bias, rows, n); return;
#endif
  default: gelu_rows_portable(x, bias, rows, n);
  }
}

void spiqa_add_layer_norm_rows(float *x, const float *bias, const float *residual, float *out, ptrdiff_t rows,
                               ptrdiff_t n, const float *gamma, const float *beta, float eps) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: spiqa_layer_norm_rows_avx512(x, bias, residual, out, rows, n, gamma, beta, eps); return;
  case SPIQA_ISA_AVX2: spiqa_layer_norm_rows_avx2(x, bias, residual, out, rows, n, gamma, beta, eps); return;
#endif
  default: layer_norm_rows_portable(x, bias, residual, out, rows, n, gamma, beta, eps);
  }
}

void spiqa_exp_inplace(float *x, ptrdiff_t n) {
  switch (spiqa_kernels_isa()) {
#if SPIQA_X86
  case SPIQA_ISA_AVX512: spiqa_exp_inplace_avx512(x, n); return;
  case SPIQA_ISA_AVX2: spiqa_exp_inplace_avx2(x, n); return;
#endif
  default: exp_portable(x, n);
  }
}
