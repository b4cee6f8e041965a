#ifndef SPIQA_F32_TO_F16_H
#define SPIQA_F32_TO_F16_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// `out[j]` = the IEEE binary16 bits of `x[j]` rounded to nearest even (Swift's `Float16(x)`, numpy's
/// `astype(float16)`), for `n` floats; `out` needs no alignment. F16C when the CPU has it and the calling
/// thread's `spiqa_kernels_isa` is AVX2 or above, else a per-element conversion.
void spiqa_f32_to_f16(const float *x, void *out, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
