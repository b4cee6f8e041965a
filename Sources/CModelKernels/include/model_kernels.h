#ifndef SPIQA_MODEL_KERNELS_H
#define SPIQA_MODEL_KERNELS_H

#include <stddef.h>

/// Hot element-wise kernels of the forward pass, with runtime ISA dispatch on the calling thread's
/// `spiqa_kernels_isa` (CCPU: x86-64 AVX-512F, AVX2+FMA or portable C; other architectures: portable C only).
/// No global -march flags: the wide versions are `target(...)` functions that only run when the CPU has the
/// features.
///
/// The exp and erf are op-for-op the Swift `VectorMath.exp` / `VectorMath.erf` (same constants, same order,
/// separate multiplies and adds, never fused), so every kernel gives the same bits as the Swift reference in
/// `Kernels` except where a sum is reassociated: the softmax denominator and the LayerNorm mean and variance
/// (summed in vector lanes; the Swift versions leave that order to the vectoriser too).

#ifdef __cplusplus
extern "C" {
#endif

/// In-place masked softmax of `rows` score rows of `t` floats, row `r` at `s + r * stride`, the reference way
/// (`Kernels.maskedSoftmaxRow`): add `mask_value` to columns >= `valid`, softmax over all `t` columns, then set
/// columns >= `valid` to 0. Needs 1 <= valid <= t.
void spiqa_masked_softmax_rows(float *s, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t t, ptrdiff_t valid,
                               float mask_value);

/// `x[r][j] = v · ½ · (1 + erf(v / √2))` with `v = x[r][j] + bias[j]`, for `rows` contiguous rows of `n` floats
/// (exact-erf GELU, `VectorMath.biasGELU`).
void spiqa_bias_gelu_rows(float *x, const float *bias, ptrdiff_t rows, ptrdiff_t n);

/// `Kernels.addLayerNorm` for `rows` contiguous rows of `n` floats: `x[r] += bias (if any), += residual[r]
/// (if any)`, then `out[r] = (x[r] − mean) · rstd · gamma + beta` with the biased variance and
/// `rstd = 1 / √(var + eps)`. `out` may alias `x` or `residual`.
void spiqa_add_layer_norm_rows(float *x, const float *bias, const float *residual, float *out, ptrdiff_t rows,
                               ptrdiff_t n, const float *gamma, const float *beta, float eps);

/// `x[j] = exp(x[j])` with the kernels' exp (`VectorMath.exp`), for `n` floats. For tests of the exp itself,
/// which the softmax's reassociated sum would otherwise hide.
void spiqa_exp_inplace(float *x, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
