// Literal-only DEFLATE decoding, several streams interleaved; see include/literal_inflate.h for the contract.
//
// Bits: DEFLATE packs codes LSB-first, so a 64-bit buffer holds the next bits with the next code in its low
// bits, and a table indexed by the low ROOT_BITS bits gives the symbol (codes are stored bit-reversed).

#include "literal_inflate.h"

#include <stdlib.h>
#include <string.h>

#include "literal_tables.h"

typedef struct {
  const uint8_t *in, *in_begin, *in_end;
  uint8_t *out, *out_begin, *out_end;
  uint64_t bitbuf;  // next bits of the stream, next bit lowest; bits above bitcount are the following input or 0
  unsigned bitcount;
  size_t overrun;  // zero bytes supplied after in_end (an error if any of them is consumed)
  int final_block;  // the current or last block header had BFINAL
  int in_block;  // inside a Huffman block (otherwise the next thing is a block header)
  int failed;  // met something it does not take: the stream ends as SPIQA_LIT_OTHER
  // table[0 .. ROOT_SIZE) root, table[ROOT_SIZE ..) subtables (one array, so one pointer reaches both).
  uint32_t table[ROOT_SIZE + SUB_SIZE];
} lit_state;

static inline uint64_t load_le64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

// Tops the buffer up to at least 57 bits, byte by byte, supplying zeros after the end of the input.
static void refill_careful(lit_state *s) {
  while (s->bitcount <= 56) {
    if (s->in < s->in_end) {
      s->bitbuf |= (uint64_t)*s->in++ << s->bitcount;
    } else {
      s->overrun++;
    }
    s->bitcount += 8;
  }
}

static uint32_t get_bits(lit_state *s, unsigned n) {
  if (s->bitcount < n) refill_careful(s);
  uint32_t v = (uint32_t)(s->bitbuf & ((1ull << n) - 1));
  s->bitbuf >>= n;
  s->bitcount -= n;
  return v;
}

static const uint8_t precode_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// Reads block headers until a literal-only Huffman block starts (in_block) or the stream ends (returns 1 with
// final_block set and in_block clear). Stored blocks are copied on the way. Returns 0 for anything else.
static int next_block(lit_state *s) {
  for (;;) {
    unsigned header = get_bits(s, 3);
    s->final_block = header & 1;
    unsigned type = header >> 1;
    if (type == 0) {
      // Stored: skip to the byte boundary and give back the whole bytes still in the bit buffer.
      get_bits(s, s->bitcount & 7);
      if (s->overrun > s->bitcount / 8) return 0;
      s->in -= s->bitcount / 8 - s->overrun;
      s->overrun = 0;
      s->bitbuf = 0;
      s->bitcount = 0;
      if (s->in_end - s->in < 4) return 0;
      size_t n = (size_t)s->in[0] | (size_t)s->in[1] << 8;
      if ((n ^ 0xFFFF) != ((size_t)s->in[2] | (size_t)s->in[3] << 8)) return 0;
      s->in += 4;
      if ((size_t)(s->in_end - s->in) < n || (size_t)(s->out_end - s->out) < n) return 0;
      memcpy(s->out, s->in, n);
      s->in += n;
      s->out += n;
      if (s->final_block) return 1;
      continue;
    }
    if (type == 1) {
      // Fixed code (RFC 1951 §3.2.6); writers use it for tiny blocks, e.g. an empty stream's only block.
      uint8_t fixed[288];
      memset(fixed, 8, 144);
      memset(fixed + 144, 9, 112);
      memset(fixed + 256, 7, 24);
      memset(fixed + 280, 8, 8);
      if (!spiqa_lit_build_table(s->table, fixed, 288)) return 0;
      s->in_block = 1;
      return 1;
    }
    if (type != 2) return 0;  // reserved
    unsigned hlit = get_bits(s, 5) + 257, hdist = get_bits(s, 5) + 1, hclen = get_bits(s, 4) + 4;
    uint8_t pre_len[19] = {0};
    for (unsigned i = 0; i < hclen; i++) pre_len[precode_order[i]] = (uint8_t)get_bits(s, 3);
    uint32_t pre_code[19];
    if (spiqa_lit_canonical_codes(pre_len, 19, pre_code) == CODE_OVERSUBSCRIBED) return 0;
    uint16_t pre_table[128] = {0};  // symbol | length << 8, 0 = no code
    for (unsigned sym = 0; sym < 19; sym++) {
      if (!pre_len[sym]) continue;
      for (uint32_t i = pre_code[sym]; i < 128; i += 1u << pre_len[sym])
        pre_table[i] = (uint16_t)(sym | (unsigned)pre_len[sym] << 8);
    }
    uint8_t lens[288 + 32];
    unsigned n = 0, total = hlit + hdist;
    while (n < total) {
      if (s->bitcount < 7) refill_careful(s);
      uint16_t e = pre_table[s->bitbuf & 127];
      if (!e) return 0;
      unsigned l = e >> 8, sym = e & 0xFF;
      s->bitbuf >>= l;
      s->bitcount -= l;
      if (sym < 16) {
        lens[n++] = (uint8_t)sym;
        continue;
      }
      unsigned repeat;
      uint8_t value = 0;
      if (sym == 16) {
        if (n == 0) return 0;
        value = lens[n - 1];
        repeat = 3 + get_bits(s, 2);
      } else if (sym == 17) {
        repeat = 3 + get_bits(s, 3);
      } else {
        repeat = 11 + get_bits(s, 7);
      }
      if (n + repeat > total) return 0;
      memset(lens + n, value, repeat);
      n += repeat;
    }
    for (unsigned i = 257; i < hlit; i++)
      if (lens[i]) return 0;  // a length symbol: the block may hold matches
    if (!lens[256]) return 0;
    uint32_t dist_code[32];
    if (spiqa_lit_canonical_codes(lens + hlit, hdist, dist_code) == CODE_OVERSUBSCRIBED) return 0;
    if (!spiqa_lit_build_table(s->table, lens, 257)) return 0;
    s->in_block = 1;
    return 1;
  }
}

// One literal (or pair) or the end of the block, every bound checked.
static int careful_symbol(lit_state *s) {
  if (s->bitcount < MAX_CODE_BITS) refill_careful(s);
  uint32_t e = s->table[s->bitbuf & ROOT_MASK];
  if (e & ENTRY_SUB && e >> 24 == 0)
    e = s->table[ROOT_SIZE + ((e >> 8) & 0x7FF) + ((s->bitbuf >> ROOT_BITS) & ((1u << (e & 0xFF)) - 1))];
  unsigned l = e & 0xFF, count = e >> 24;
  if (count == 0 && !(e & ENTRY_EOB)) return 0;  // a length symbol (fixed code): not literal-only
  if ((size_t)(s->out_end - s->out) < count) return 0;
  if (count > 0) s->out[0] = (uint8_t)(e >> 8);
  if (count > 1) s->out[1] = (uint8_t)(e >> 16);
  s->out += count;
  s->bitbuf >>= l;
  s->bitcount -= l;
  if (count == 0) s->in_block = 0;
  return 1;
}

// How many fast iterations surely stay inside the buffers. An iteration refills once (reads 8 bytes at `in`,
// advances it by at most 7) and takes 4 steps of at most 2 bytes each; 16 input bytes per iteration and 32
// before the first leave a wide margin.
#define FAST_IN_FIRST 32
#define FAST_IN_EACH 16
#define FAST_OUT_EACH 8

static inline size_t fast_iterations(const lit_state *s) {
  size_t in_left = (size_t)(s->in_end - s->in), out_left = (size_t)(s->out_end - s->out);
  if (!s->in_block || in_left < FAST_IN_FIRST || out_left < FAST_OUT_EACH) return 0;
  size_t a = (in_left - FAST_IN_FIRST) / FAST_IN_EACH + 1, b = out_left / FAST_OUT_EACH;
  return a < b ? a : b;
}

static inline size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

// Branch-free refill to 56..63 bits; needs 8 readable bytes at `in`. Looks at the low 6 bits of bitcount
// only and leaves them exact.
#define REFILL(k)                                              \
  do {                                                         \
    bitbuf[k] |= load_le64(in[k]) << (bitcount[k] & 63);       \
    in[k] += 7 - ((bitcount[k] >> 3) & 7);                     \
    bitcount[k] = (bitcount[k] & 63) | 56;                     \
  } while (0)

// One table step of stream k: one or two literals. A long code or the end of the block leaves the loop.
// `bitcount -= e` subtracts the whole entry: only the low 8 bits of bitcount are meaningful in the loop (the
// refill and the shifts look at no more), which saves extracting the length.
#define STEP(k)                                              \
  do {                                                       \
    uint32_t e = st[k].table[bitbuf[k] & ROOT_MASK];         \
    if (__builtin_expect(e >> 24 == 0, 0)) goto stop;        \
    uint16_t two = (uint16_t)(e >> 8);                       \
    memcpy(out[k], &two, 2);                                 \
    out[k] += e >> 24;                                       \
    bitbuf[k] >>= (e & 63);                                  \
    bitcount[k] -= e;                                        \
  } while (0)

#define EACH_1(X) X(0)
#define EACH_2(X) X(0) X(1)
#define EACH_3(X) X(0) X(1) X(2)
#define EACH_4(X) X(0) X(1) X(2) X(3)
#define LOAD_STATE(k)             \
  bitbuf[k] = st[k].bitbuf;       \
  bitcount[k] = st[k].bitcount;   \
  in[k] = st[k].in;               \
  out[k] = st[k].out;             \
  iterations = min_size(iterations, fast_iterations(&st[k]));
#define SAVE_STATE(k)             \
  st[k].bitbuf = bitbuf[k];       \
  st[k].bitcount = bitcount[k] & 0xFF; \
  st[k].in = in[k];               \
  st[k].out = out[k];
#define REFILL_STEP(k) REFILL(k);
#define ONE_STEP(k) STEP(k);

// The hot loop for the first N states of `st`, written out for each N so the state lives in registers and
// every table is a fixed offset from `st`: literals until one stream reaches the end of a block, a code it
// cannot take, or the end of its safe margin. The caller handles what stopped it. Compiled twice: for the
// baseline ISA and with BMI2 (SHRX/SHLX shift by a register in one micro-op; x86-64's SHR by CL takes three).
#define DEFINE_FAST(N, NAME, ATTRIBUTES)                                                   \
  static __attribute__((noinline)) ATTRIBUTES void NAME(lit_state *st) {                   \
    uint64_t bitbuf[N];                                                                    \
    unsigned bitcount[N];                                                                  \
    const uint8_t *in[N];                                                                  \
    uint8_t *out[N];                                                                       \
    size_t iterations = SIZE_MAX;                                                          \
    EACH_##N(LOAD_STATE)                                                                   \
    for (; iterations > 0; iterations--) {                                                 \
      EACH_##N(REFILL_STEP)                                                                \
      EACH_##N(ONE_STEP)                                                                   \
      EACH_##N(ONE_STEP)                                                                   \
      EACH_##N(ONE_STEP)                                                                   \
      EACH_##N(ONE_STEP)                                                                   \
    }                                                                                      \
  stop:                                                                                    \
    EACH_##N(SAVE_STATE)                                                                   \
  }

DEFINE_FAST(1, fast1, )
DEFINE_FAST(2, fast2, )
DEFINE_FAST(3, fast3, )
DEFINE_FAST(4, fast4, )
#if defined(__x86_64__)
#define BMI2 __attribute__((target("bmi2")))
DEFINE_FAST(1, fast1_bmi2, BMI2)
DEFINE_FAST(2, fast2_bmi2, BMI2)
DEFINE_FAST(3, fast3_bmi2, BMI2)
DEFINE_FAST(4, fast4_bmi2, BMI2)
#endif

// Runs the fast loop on the first `live` states.
static void fast_loop(lit_state *st, int live) {
  static void (*const baseline[SPIQA_LIT_MAX_STREAMS])(lit_state *) = {fast1, fast2, fast3, fast4};
#if defined(__x86_64__)
  static void (*const bmi2[SPIQA_LIT_MAX_STREAMS])(lit_state *) = {fast1_bmi2, fast2_bmi2, fast3_bmi2, fast4_bmi2};
  static int has_bmi2 = -1;
  if (has_bmi2 < 0) has_bmi2 = __builtin_cpu_supports("bmi2") ? 1 : 0;
  if (has_bmi2) {
    bmi2[live - 1](st);
    return;
  }
#endif
  baseline[live - 1](st);
}

// Ends a stream: DONE if it used no bytes past its input, else OTHER.
static void finish(lit_state *s, spiqa_lit_stream *result) {
  size_t buffered = s->bitcount / 8;  // whole bytes loaded but not used (a partial byte is the final padding)
  if (s->overrun > buffered) {
    result->status = SPIQA_LIT_OTHER;
    return;
  }
  result->status = SPIQA_LIT_DONE;
  result->in_used = (size_t)(s->in - s->in_begin) + s->overrun - buffered;
  result->out_made = (size_t)(s->out - s->out_begin);
}

// Advances state `s` with the careful path until the fast loop can run on it (returns 1) or it ends
// (returns 0, result set).
static int prepare(lit_state *s, spiqa_lit_stream *result) {
  while (!s->failed && fast_iterations(s) == 0) {
    if (!s->in_block && s->final_block) {  // the final block has ended
      finish(s, result);
      return 0;
    }
    if (!(s->in_block ? careful_symbol(s) : next_block(s))) s->failed = 1;
  }
  if (s->failed) result->status = SPIQA_LIT_OTHER;
  return !s->failed;
}

int spiqa_inflate_literals(spiqa_lit_stream *streams, int count) {
  if (count < 1 || count > SPIQA_LIT_MAX_STREAMS) return -1;
  lit_state *states = malloc((size_t)count * sizeof *states);
  if (!states) return -1;
  // The live streams occupy states[0 ..< live]; stream_of maps a state back to its stream.
  int stream_of[SPIQA_LIT_MAX_STREAMS];
  for (int k = 0; k < count; k++) {
    lit_state *s = &states[k];
    s->in = s->in_begin = streams[k].in;
    s->in_end = streams[k].in + streams[k].in_size;
    s->out = s->out_begin = streams[k].out;
    s->out_end = streams[k].out + streams[k].out_size;
    s->bitbuf = 0;
    s->bitcount = 0;
    s->overrun = 0;
    s->final_block = 0;
    s->in_block = 0;
    s->failed = 0;
    streams[k].in_used = 0;
    streams[k].out_made = 0;
    streams[k].status = SPIQA_LIT_OTHER;
    stream_of[k] = k;
  }
  int live = count;
  for (;;) {
    // Bring every live stream to where the fast loop can run; a stream that ends gives its slot to the last one.
    for (int k = 0; k < live;) {
      if (prepare(&states[k], &streams[stream_of[k]])) {
        k++;
      } else if (k != --live) {
        memcpy(&states[k], &states[live], sizeof *states);
        stream_of[k] = stream_of[live];
      }
    }
    if (live == 0) break;
    fast_loop(states, live);
    // What stopped the loop (an end of block, a long code at a margin) goes through the careful path; the
    // streams that did not stop decode one careful symbol each.
    for (int k = 0; k < live; k++)
      if (states[k].in_block && !careful_symbol(&states[k])) states[k].failed = 1;
  }
  free(states);
  return 0;
}
