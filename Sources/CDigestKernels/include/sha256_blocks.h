#ifndef SPIQA_SHA256_BLOCKS_H
#define SPIQA_SHA256_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether `spiqa_sha256_blocks` can run: an x86-64 CPU with the SHA extensions (and SSE4.1). Checked once.
int spiqa_sha256_has_hardware(void);

/// SHA-256's compression function (FIPS 180-4 §6.2.2) over `blocks` 64-byte blocks at `p`, updating `state` (the
/// eight working words, a first), with the CPU's SHA instructions. Only call it when
/// `spiqa_sha256_has_hardware()`; FileDigest (SpiqaCore) compresses in Swift otherwise.
void spiqa_sha256_blocks(uint32_t state[8], const uint8_t *p, size_t blocks);

#ifdef __cplusplus
}
#endif

#endif
