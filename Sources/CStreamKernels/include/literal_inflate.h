#ifndef SPIQA_LITERAL_INFLATE_H
#define SPIQA_LITERAL_INFLATE_H

#include <stddef.h>
#include <stdint.h>

/// A DEFLATE (RFC 1951) decoder for streams of literal-only blocks: dynamic-Huffman blocks whose literal/length
/// code has no length symbols (what `HuffmanDeflate` and zlib's Z_HUFFMAN_ONLY write), and stored blocks.
///
/// General inflaters decode one symbol at a time, and every symbol waits for the table lookup of the one before
/// it (bit position → lookup → code length → next bit position), about 7 cycles per literal. This decoder takes
/// up to four independent streams (gzip members) and interleaves them, so the out-of-order core overlaps their
/// lookups; its tables also hold two literals per entry when both codes fit the 12-bit index.
///
/// Anything it does not take (a fixed-Huffman block, a code with length symbols, an incomplete code, invalid
/// or truncated data, output larger than `out_size`) ends that stream with `SPIQA_LIT_OTHER`, and the caller
/// inflates it with a general inflater, which also reports any error. Output is then unspecified.

#ifdef __cplusplus
extern "C" {
#endif

enum {
  SPIQA_LIT_DONE = 0,  // the final block ended; in_used and out_made are set
  SPIQA_LIT_OTHER = 1,  // not literal-only or not valid: use a general inflater
};

/// One raw DEFLATE stream to inflate.
typedef struct {
  const uint8_t *in;  // compressed bytes
  size_t in_size;
  uint8_t *out;  // output buffer
  size_t out_size;  // its capacity
  size_t in_used;  // set: compressed bytes up to the end of the final block (its last byte included)
  size_t out_made;  // set: bytes written
  int status;  // set: SPIQA_LIT_DONE or SPIQA_LIT_OTHER
} spiqa_lit_stream;

/// Largest `count` for `spiqa_inflate_literals`.
#define SPIQA_LIT_MAX_STREAMS 4

/// Inflates `count` (1 ... SPIQA_LIT_MAX_STREAMS) streams, interleaved; sets each one's status and sizes.
/// Returns 0, or -1 if `count` is out of range or memory for the tables cannot be allocated (nothing is set).
int spiqa_inflate_literals(spiqa_lit_stream *streams, int count);

#ifdef __cplusplus
}
#endif

#endif
