// SPIQA_X86: whether this is an x86-64 build, whose wide kernels are `target(...)` functions with the intrinsics
// below, chosen at run time (`spiqa_kernels_isa`). For the C files of CCPU and the kernel targets that depend on
// it; not part of CCPU's Swift module (see include/module.modulemap).
#ifndef SPIQA_X86_H
#define SPIQA_X86_H

#if defined(__x86_64__)
#include <immintrin.h>
#define SPIQA_X86 1
#else
#define SPIQA_X86 0
#endif

#endif
