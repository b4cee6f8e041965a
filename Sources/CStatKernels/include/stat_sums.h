#ifndef SPIQA_STAT_SUMS_H
#define SPIQA_STAT_SUMS_H

#include <stddef.h>

/// The float64 sums behind spiqa-hist's moments, bit for bit the plain loops they replace: every sum is one
/// addition chain in element order (float32 values widened exactly to float64; each subtraction, product and
/// sum rounded on its own, never fused). Only the scheduling differs: with AVX2 (when the calling thread's
/// `spiqa_kernels_isa` allows it) several chains (rows, or blocks) share a vector, one per lane, after an
/// in-register transpose; otherwise scalar loops.

#ifdef __cplusplus
extern "C" {
#endif

/// `out[r]` = the sum of row `r` of `rows` consecutive rows of `n` floats at `x`: `s += (double)x[i]` for
/// i = 0, 1, …; with `pairs`, two chains per row instead (even and odd positions), and `out[r] = even + odd`.
void spiqa_row_sums_f64(const float *x, ptrdiff_t n, ptrdiff_t rows, int pairs, double *out);

/// `out[b]` = Σ ((double)blocks[b][i] − means[b])² over i = 0 ..< n in element order, for `count` blocks.
void spiqa_squared_deviations_f64(const float *const *blocks, const double *means, ptrdiff_t count, ptrdiff_t n,
                                  double *out);

#ifdef __cplusplus
}
#endif

#endif
