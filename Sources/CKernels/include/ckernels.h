#ifndef SPIQA_CKERNELS_H
#define SPIQA_CKERNELS_H

#include <stddef.h>

/// Hot element-wise kernels of the forward pass, with runtime ISA dispatch (x86-64: AVX-512F, AVX2+FMA or
/// portable C, chosen once from the CPU; other architectures: portable C only). No global -march flags: the
/// wide versions are `target(...)` functions that only run when the CPU has the features.
///
/// The exp and erf are op-for-op the Swift `VectorMath.exp` / `VectorMath.erf` (same constants, same order,
/// separate multiplies and adds, never fused), so every kernel gives the same bits as the Swift reference in
/// `Kernels` except where a sum is reassociated: the softmax denominator and the LayerNorm mean and variance
/// (summed in vector lanes; the Swift versions leave that order to the vectoriser too).

#ifdef __cplusplus
extern "C" {
#endif

/// ISA levels; `spiqa_kernels_set_isa` takes one of these.
enum {
  SPIQA_ISA_PORTABLE = 0,
  SPIQA_ISA_AVX2 = 1,  // AVX2 + FMA
  SPIQA_ISA_AVX512 = 2,  // AVX-512F
};

/// The best level this CPU supports.
int spiqa_kernels_best_isa(void);

/// The level the calling thread uses (the best one unless changed by `spiqa_kernels_set_isa`).
int spiqa_kernels_isa(void);

/// Uses `isa` from now on on the calling thread only (for tests and benchmarks: other threads keep the best
/// level). Returns 0, or -1 and changes nothing when the CPU lacks it.
int spiqa_kernels_set_isa(int isa);

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

/// `out[j]` = the IEEE binary16 bits of `x[j]` rounded to nearest even (Swift's `Float16(x)`, numpy's
/// `astype(float16)`), for `n` floats; `out` needs no alignment. F16C when the CPU has it (with AVX2), else a
/// per-element conversion.
void spiqa_f32_to_f16(const float *x, void *out, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
