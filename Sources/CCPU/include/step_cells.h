// A monotone step function of a float's bit pattern on [0, 1) as a table of cells, for the quantizer kernels of
// CQuantKernels and CModelKernels (a textual header: not part of CCPU's Swift module).
//
// The function is given as segment starts (`starts[0] == 0`, ascending bit patterns below 1.0) and the value of each
// segment. Cell i holds the inputs whose bit pattern >> `shift` is `first + i`, with at most one segment start
// inside; an input takes its cell's lower value, or its upper one from that start on. With AVX-512 that is three
// 32-entry lookups and one compare per 16 inputs, where the plain chain needs a compare and a blend per segment: the
// log quantizers have one start per octave or two of [1e-3, 1), the linear ones a few per octave near 1.
#ifndef SPIQA_STEP_CELLS_H
#define SPIQA_STEP_CELLS_H

#include <stdint.h>

#include "x86.h"

typedef struct {
  int shift;
  uint32_t first;
  uint32_t bound[32];  // the start inside the cell, or INT32_MAX (never reached) when none
  float lower[32], upper[32];
} spiqa_step_cells;

// Builds the coarsest table (largest shift) with at most one start per cell and at most 32 cells from the cell of
// starts[1] up to 1.0; 0 when there is none (starts spread over too many octaves, or two too close together).
static inline int spiqa_step_cells_build(spiqa_step_cells *t, const uint32_t *starts, const float *values, int count) {
  const uint32_t one = 0x3F800000u;
  if (count < 2 || starts[count - 1] >= one) return 0;
  for (int shift = 23; shift >= 16; shift--) {
    uint32_t first = starts[1] >> shift, last = (one - 1) >> shift;
    if (last - first >= 32) return 0;  // finer cells only make more of them
    int apart = 1;
    for (int k = 2; k < count && apart; k++) apart = (starts[k] >> shift) != (starts[k - 1] >> shift);
    if (!apart) continue;
    t->shift = shift;
    t->first = first;
    int below = 0;  // segments whose start lies in an earlier cell: the index of a cell's lower value
    for (uint32_t i = 0; i < 32; i++) {
      uint32_t cell = first + i;
      while (below + 1 < count && (starts[below + 1] >> shift) < cell) below++;
      int inside = below + 1 < count && (starts[below + 1] >> shift) == cell;
      t->bound[i] = inside ? starts[below + 1] : (uint32_t)INT32_MAX;
      t->lower[i] = values[below];
      t->upper[i] = values[inside ? below + 1 : below];
    }
    return 1;
  }
  return 0;
}

#if SPIQA_X86
// The table in registers.
typedef struct {
  __m512i bound0, bound1, first;
  __m512 lower0, lower1, upper0, upper1;
  __m128i shift;
} spiqa_step_cells512;

__attribute__((target("avx512f"))) static inline void spiqa_step_cells512_load(spiqa_step_cells512 *r,
                                                                               const spiqa_step_cells *t) {
  r->bound0 = _mm512_loadu_si512(t->bound), r->bound1 = _mm512_loadu_si512(t->bound + 16);
  r->lower0 = _mm512_loadu_ps(t->lower), r->lower1 = _mm512_loadu_ps(t->lower + 16);
  r->upper0 = _mm512_loadu_ps(t->upper), r->upper1 = _mm512_loadu_ps(t->upper + 16);
  r->first = _mm512_set1_epi32((int)t->first);
  r->shift = _mm_cvtsi32_si128(t->shift);
}

// 16 bit patterns in [0, 1.0) to their segments' values. The cell index is clamped to the table (below its first
// cell every input has the lowest value); other lanes (1.0, negative, NaN) get some value, for the caller to replace
// or not store.
__attribute__((target("avx512f"))) static inline __m512 spiqa_step_cells512_map(const spiqa_step_cells512 *r,
                                                                                __m512i b) {
  __m512i cell = _mm512_sub_epi32(_mm512_srl_epi32(b, r->shift), r->first);
  cell = _mm512_min_epi32(_mm512_max_epi32(cell, _mm512_setzero_si512()), _mm512_set1_epi32(31));
  __mmask16 up = _mm512_cmpge_epi32_mask(b, _mm512_permutex2var_epi32(r->bound0, cell, r->bound1));
  return _mm512_mask_blend_ps(up, _mm512_permutex2var_ps(r->lower0, cell, r->lower1),
                              _mm512_permutex2var_ps(r->upper0, cell, r->upper1));
}

// Most segments `spiqa_steps512` takes.
#define SPIQA_STEPS512_MAX 64

// A whole step function on [0, 1] in registers, set up once per block, for the AVX-512 quantizer kernels (the
// in-place pass of CQuantKernels, the codes scan of CModelKernels): with 6 or more segments the cell table when one
// fits, else the chain of compares (a compare and a blend per segment). The input 1.0 maps to `at_one`.
typedef struct {
  __m512i gt[SPIQA_STEPS512_MAX];  // starts[k] - 1: u >= starts[k] <=> u > gt[k] (the chain)
  __m512 val[SPIQA_STEPS512_MAX];
  spiqa_step_cells512 table;
  __m512 first, at_one;
  int count, cells;
} spiqa_steps512;

__attribute__((target("avx512f"))) static inline void spiqa_steps512_init(spiqa_steps512 *s, const uint32_t *starts,
                                                                          const float *values, int count,
                                                                          float at_one) {
  spiqa_step_cells table;
  s->cells = count >= 6 && spiqa_step_cells_build(&table, starts, values, count);
  if (s->cells)
    spiqa_step_cells512_load(&s->table, &table);
  else
    for (int k = 1; k < count; k++) s->gt[k] = _mm512_set1_epi32((int)(starts[k] - 1)), s->val[k] = _mm512_set1_ps(values[k]);
  s->first = _mm512_set1_ps(values[0]);
  s->at_one = _mm512_set1_ps(at_one);
  s->count = count;
}

// 16 bit patterns in [0, 1.0] to their values; other lanes (negative, above 1, NaN) get some value, for the caller
// to replace or not store. `cells` is `s->cells`, passed as a constant at each call so that each form compiles
// into its own loop.
__attribute__((target("avx512f"), always_inline)) static inline __m512 spiqa_steps512_map(const spiqa_steps512 *s,
                                                                                          __m512i b, int cells) {
  __m512 x;
  if (cells) {
    x = spiqa_step_cells512_map(&s->table, b);
  } else {
    x = s->first;
    for (int k = 1; k < s->count; k++) x = _mm512_mask_blend_ps(_mm512_cmpgt_epi32_mask(b, s->gt[k]), x, s->val[k]);
  }
  return _mm512_mask_blend_ps(_mm512_cmpeq_epi32_mask(b, _mm512_set1_epi32(0x3F800000)), x, s->at_one);
}
#endif

#endif
