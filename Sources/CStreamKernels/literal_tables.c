// Decoding tables for literal_inflate.c; see literal_tables.h.

#include "literal_tables.h"

#include <string.h>

static uint32_t reverse_bits(uint32_t code, unsigned len) {
  uint32_t r = 0;
  for (unsigned i = 0; i < len; i++) {
    r = (r << 1) | (code & 1);
    code >>= 1;
  }
  return r;
}

int spiqa_lit_canonical_codes(const uint8_t *lengths, unsigned n, uint32_t *codes) {
  unsigned count[MAX_CODE_BITS + 1] = {0};
  for (unsigned i = 0; i < n; i++) count[lengths[i]]++;
  count[0] = 0;
  int left = 1;
  for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
    left = 2 * left - (int)count[len];
    if (left < 0) return CODE_OVERSUBSCRIBED;
  }
  uint32_t next[MAX_CODE_BITS + 1];
  uint32_t code = 0;
  for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
    next[len] = code;
    code = (code + count[len]) << 1;
  }
  for (unsigned i = 0; i < n; i++) codes[i] = lengths[i] ? reverse_bits(next[lengths[i]]++, lengths[i]) : 0;
  return left == 0 ? CODE_COMPLETE : CODE_INCOMPLETE;
}

static inline uint32_t symbol_entry(unsigned sym, unsigned len) {
  return sym == 256 ? ENTRY_EOB | len : (1u << 24) | (sym << 8) | len;
}

int spiqa_lit_build_table(uint32_t *table, const uint8_t *len, unsigned n) {
  uint32_t codes[288];
  if (spiqa_lit_canonical_codes(len, n, codes) != CODE_COMPLETE) return 0;
  uint32_t *root = table, *sub = table + ROOT_SIZE;
  // A complete code reaches every root index through a short code or a long code's prefix, so only the
  // fixed code (whose length symbols get no entry) needs the table cleared.
  if (n > 257) memset(root, 0, ROOT_SIZE * sizeof *root);
  for (unsigned sym = 0; sym < 257; sym++) {
    unsigned l = len[sym];
    if (l == 0 || l > ROOT_BITS) continue;
    uint32_t e = symbol_entry(sym, l);
    for (uint32_t i = codes[sym]; i < ROOT_SIZE; i += 1u << l) root[i] = e;
  }
  // Long codes: the longest code under each root index sizes its subtable (kept in the root entry first).
  for (unsigned sym = 0; sym < 257; sym++)
    if (len[sym] > ROOT_BITS) root[codes[sym] & ROOT_MASK] = 0;
  for (unsigned sym = 0; sym < 257; sym++) {
    unsigned l = len[sym];
    uint32_t r = codes[sym] & ROOT_MASK;
    if (l > ROOT_BITS && l - ROOT_BITS > root[r]) root[r] = l - ROOT_BITS;
  }
  unsigned used = 0;
  for (unsigned sym = 0; sym < 257; sym++) {
    unsigned l = len[sym];
    if (l <= ROOT_BITS) continue;
    uint32_t r = codes[sym] & ROOT_MASK;
    if (!(root[r] & ENTRY_SUB)) {
      unsigned bits = root[r];
      if (used + (1u << bits) > SUB_SIZE) return 0;
      root[r] = ENTRY_SUB | (used << 8) | bits;
      used += 1u << bits;
    }
    uint32_t start = (root[r] >> 8) & 0x7FF, size = 1u << (root[r] & 0xFF);
    uint32_t e = symbol_entry(sym, l);
    for (uint32_t i = codes[sym] >> ROOT_BITS; i < size; i += 1u << (l - ROOT_BITS)) sub[start + i] = e;
  }
  // Pairs: where a literal's code leaves room in the index for the whole code of a second literal. The
  // second one is read at index i >> l1 <= i, so going down reads single-literal entries only.
  for (uint32_t i = ROOT_SIZE; i-- > 0;) {
    uint32_t e = root[i];
    if (e >> 24 != 1) continue;
    unsigned l1 = e & 0xFF;
    uint32_t e2 = root[i >> l1];
    if (e2 >> 24 == 1 && l1 + (e2 & 0xFF) <= ROOT_BITS)
      root[i] = (2u << 24) | ((e2 & 0xFF00) << 8) | (e & 0xFF00) | (l1 + (e2 & 0xFF));
  }
  return 1;
}
