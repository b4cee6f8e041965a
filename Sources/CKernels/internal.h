// Declarations shared between the CKernels source files (not part of the module's public header).
#ifndef SPIQA_CKERNELS_INTERNAL_H
#define SPIQA_CKERNELS_INTERNAL_H

#include <stddef.h>

#if defined(__x86_64__)
/// The AVX-512F masked softmax behind `spiqa_masked_softmax_rows`; only call when the CPU has AVX-512F.
__attribute__((target("avx512f"))) void spiqa_softmax_rows_avx512(float *s, ptrdiff_t rows, ptrdiff_t stride,
                                                                   ptrdiff_t t, ptrdiff_t valid, float mask_value);
#endif

#endif
