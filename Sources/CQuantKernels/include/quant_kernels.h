#ifndef SPIQA_QUANT_KERNELS_H
#define SPIQA_QUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Most segments `spiqa_quant_steps` takes (it compares every value with every segment start).
#define SPIQA_QUANT_STEPS_MAX 64

/// A monotone step function on [0, 1), in place: `x[i]` becomes `values[j]`, j the last segment with
/// `starts[j] <= bits(x[i])` (`starts[0] == 0`, ascending float32 bit patterns, `count` ≤ SPIQA_QUANT_STEPS_MAX).
/// Stops at the first value outside [0, 1) (negative, -0.0, ≥ 1, NaN), which the caller handles with its own
/// formula, and returns its index (`n` when every value was mapped). Exact: only compares and selects.
ptrdiff_t spiqa_quant_steps(float *x, ptrdiff_t n, const uint32_t *starts, const float *values, int count);

#ifdef __cplusplus
}
#endif

#endif
