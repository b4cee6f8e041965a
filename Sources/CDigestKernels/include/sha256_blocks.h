#ifndef SPIQA_SHA256_BLOCKS_H
#define SPIQA_SHA256_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether the CPU has the SHA instructions `spiqa_sha256_blocks` can use: x86-64 SHA extensions and SSE4.1.
/// Checked once.
int spiqa_sha256_has_hardware(void);

/// SHA-256's compression function (FIPS 180-4 §6.2.2) over `blocks` 64-byte blocks at `p`, updating `state` (the
/// eight working words, a first): with the CPU's SHA instructions when `hardware` is nonzero and the CPU has them,
/// else in portable C. The same words either way.
void spiqa_sha256_blocks(uint32_t state[8], const uint8_t *p, size_t blocks, int hardware);

#ifdef __cplusplus
}
#endif

#endif
