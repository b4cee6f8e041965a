// The decoding tables of literal_inflate.c (private to CStreamKernels): the table layout, canonical Huffman codes
// and the table builder. Built once per block, so they live apart from the per-literal loops.
#ifndef SPIQA_LITERAL_TABLES_H
#define SPIQA_LITERAL_TABLES_H

#include <stdint.h>

// 12 index bits: a 16 KiB root table per stream, three of which fit a 48 KiB L1 data cache (11 and 13 bits
// measured within this machine's run-to-run noise of it).
#define ROOT_BITS 12
#define ROOT_SIZE (1u << ROOT_BITS)
#define ROOT_MASK (ROOT_SIZE - 1)
#define MAX_CODE_BITS 15
// Codes longer than ROOT_BITS go through a subtable of at most 2^(15 - 12) entries under their root index,
// at most one subtable per symbol (`spiqa_lit_build_table` checks the space anyway).
#define SUB_SIZE (257u << (MAX_CODE_BITS - ROOT_BITS))

// Table entries (uint32_t):
//   literals:  bits 0-7 code bits to consume (the pair's total), bits 8-15 first literal, bits 16-23 second
//              literal, bits 24-31 how many literals (1 or 2).
//   specials (count 0): end of block: ENTRY_EOB set, bits 0-7 its code length.
//              a long code (root only): ENTRY_SUB set, bits 0-7 subtable index bits, bits 8-18 subtable start.
#define ENTRY_EOB (1u << 23)
#define ENTRY_SUB (1u << 22)

enum { CODE_OVERSUBSCRIBED, CODE_COMPLETE, CODE_INCOMPLETE };

/// Canonical codes (RFC 1951 §3.2.2), bit-reversed for LSB-first lookup, for `n` code lengths (0 = unused):
/// `codes[i]` for each length; returns CODE_OVERSUBSCRIBED, CODE_COMPLETE or CODE_INCOMPLETE.
__attribute__((visibility("hidden"))) int spiqa_lit_canonical_codes(const uint8_t *lengths, unsigned n,
                                                                    uint32_t *codes);

/// Builds the decoding table of the literals and end-of-block of a literal/length code with `n` code lengths;
/// length symbols (257 ...) get no entry, so reaching one ends the fast path (the fixed code has them).
/// Returns 0 for a code that is not complete (the general inflater decides).
/// `table` holds ROOT_SIZE + SUB_SIZE entries: the root, then the subtables.
__attribute__((visibility("hidden"))) int spiqa_lit_build_table(uint32_t *table, const uint8_t *len, unsigned n);

#endif
