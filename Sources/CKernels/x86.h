// SPIQA_X86: whether this is an x86-64 build, whose wide kernels are `target(...)` functions with the intrinsics
// below, chosen at run time (`spiqa_kernels_isa`). Private to CKernels' C files.
#ifndef SPIQA_X86_H
#define SPIQA_X86_H

#if defined(__x86_64__)
#include <immintrin.h>
#define SPIQA_X86 1
#else
#define SPIQA_X86 0
#endif

#endif
