// P·V that skips zeros and, for quantized attention, works from the codes (include/attention_product.h).
//
// Each row is scanned once into a list of the columns that count (with their weight, or their code); the V rows
// of the list are then summed 32 columns at a time in registers, by sets of accumulators that take the list's
// entries in turn (two with AVX2, four with AVX-512), so independent add chains hide the add latency. With AVX-512
// the scan writes the list by compressing each 16 columns in a register (no branch per entry). This file does not
// need the bit-exact rules of model_kernels_impl.h: sgemm's own order of summation is not reproduced either.

#include "attention_product.h"

#include <stdlib.h>
#include <string.h>

#include "compress8.h"
#include "cpu_isa.h"
#include "step_cells.h"
#include "x86.h"

static const uint32_t one_bits = 0x3F800000u;

static inline uint32_t bits_of(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return u;
}

// Room for one row's list: on the stack up to this many entries, else on the heap. A list has room for 16 entries
// more than the row has columns: the AVX-512 scans store whole 16-lane vectors, the last one past the kept entries.
#define ROW_LIST_STACK 1040
#define ROW_LIST_SLACK 16

typedef struct {
  int32_t *col;
  float *weight;
  int32_t *code;
  int32_t *order;
  void *heap;
  int32_t col_s[ROW_LIST_STACK], code_s[ROW_LIST_STACK], order_s[ROW_LIST_STACK];
  float weight_s[ROW_LIST_STACK];
} row_list;

static int row_list_init(row_list *l, ptrdiff_t n) {
  l->heap = NULL;
  n += ROW_LIST_SLACK;
  if (n <= ROW_LIST_STACK) {
    l->col = l->col_s, l->weight = l->weight_s, l->code = l->code_s, l->order = l->order_s;
    return 1;
  }
  char *h = malloc((size_t)n * 16);
  if (!h) return 0;
  l->heap = h;
  l->col = (int32_t *)h, l->code = (int32_t *)(h + 4 * n), l->order = (int32_t *)(h + 8 * n);
  l->weight = (float *)(h + 12 * n);
  return 1;
}

// V's rows are `ldv` apart (3·hidden floats in the fused Q/K/V buffer: a page or more for big models), so n of them
// touch n pages and miss the TLB on every entry; sgemm packs its operand for the same reason. The block's V is
// copied into a per-thread buffer, grown as needed and kept for the thread's life (the forward pass's workers
// live as long as the process). Its rows start on 64-byte boundaries (`packed_stride` floats apart): a 16-lane
// load that straddles two cache lines costs two, and with malloc's 16-byte alignment the codes kernel ran 1.4×
// slower (docs/runtime.md, "P·V from the codes").
static _Thread_local float *packed_v;
static _Thread_local size_t packed_capacity;

static ptrdiff_t packed_stride(ptrdiff_t d) { return (d + 15) & ~(ptrdiff_t)15; }

static const float *pack_v(const float *v, ptrdiff_t n, ptrdiff_t ldv, ptrdiff_t d) {
  ptrdiff_t ld = packed_stride(d);
  size_t need = (size_t)n * (size_t)ld;
  if (need > packed_capacity) {
    float *grown = aligned_alloc(64, need * sizeof(float));  // need·4 is a multiple of 64, as aligned_alloc asks
    if (!grown) return NULL;
    free(packed_v);
    packed_v = grown;
    packed_capacity = need;
  }
  // A loop the compiler vectorises: a memcpy call per 128-byte row cost as much as the copy (1–2 µs a block).
  // The row-groups kernel loads whole 16-lane vectors: the lanes past d are zeroed (never stored, and garbage
  // there could be denormals, which slow multiply-adds down on some CPUs).
  for (ptrdiff_t r = 0; r < n; r++) {
    float *restrict to = packed_v + r * ld;
    const float *restrict from = v + r * ldv;
    for (ptrdiff_t j = 0; j < d; j++) to[j] = from[j];
    for (ptrdiff_t j = d; j < ld; j++) to[j] = 0;
  }
  return packed_v;
}

// MARK: - Summing listed V rows: out[0..<d] (+)= Σ_i w_i · V[col_i] (w = NULL: weight 1)

static void sum_rows_scalar(const float *v, ptrdiff_t ldv, ptrdiff_t d, const int32_t *col, const float *w,
                            ptrdiff_t m, float scale, float *out, int accumulate) {
  for (ptrdiff_t j = 0; j < d; j++) {
    float s = 0;
    for (ptrdiff_t i = 0; i < m; i++) s += (w ? w[i] : 1.0f) * v[(ptrdiff_t)col[i] * ldv + j];
    s *= scale;
    out[j] = accumulate ? out[j] + s : s;
  }
}

// MARK: - Portable scans

static ptrdiff_t scan_sparse_scalar(const float *row, ptrdiff_t n, float prune_below, int32_t *col, float *w) {
  ptrdiff_t m = 0;
  for (ptrdiff_t c = 0; c < n; c++) {
    float x = row[c];
    if (x != 0 && !(x < prune_below)) col[m] = (int32_t)c, w[m] = x, m++;
  }
  return m;
}

// A row group's columns `c..<n` one at a time (the portable scan of `spiqa_pv_groups`, and its AVX2 scan's last
// n mod 8 columns): rows before `g` pruned below a positive `prune_below` in place, the columns nonzero in any of
// them appended to `col` from `m` (NaN counts). Returns the new count; adds the group's nonzeros to `*nonzero`.
static ptrdiff_t scan_group_scalar(float *const *rows, int g, ptrdiff_t c, ptrdiff_t n, float prune_below,
                                   int32_t *col, ptrdiff_t m, ptrdiff_t *nonzero) {
  for (; c < n; c++) {
    int any = 0;
    for (int r = 0; r < g; r++) {
      if (prune_below > 0 && rows[r][c] < prune_below) rows[r][c] = 0;
      int k = rows[r][c] != 0 || rows[r][c] != rows[r][c];
      any |= k, *nonzero += k;
    }
    if (any) col[m++] = (int32_t)c;
  }
  return m;
}

// Columns are numbered from `first` (the AVX2 scan's tail).
static ptrdiff_t scan_codes_scalar(const float *row, ptrdiff_t n, uint32_t prune_bits, const uint32_t *starts,
                                   int count, int one_code, int32_t *col, int32_t *code, int32_t first) {
  ptrdiff_t m = 0;
  for (ptrdiff_t c = 0; c < n; c++) {
    uint32_t u = bits_of(row[c]);
    if (u > one_bits) return -1;  // also catches the sign bit and NaN
    if (u < prune_bits) continue;
    int j = 0;
    if (u == one_bits) {
      j = one_code;
    } else {
      for (int k = 1; k < count; k++) j += u >= starts[k];
    }
    if (j) col[m] = first + (int32_t)c, code[m] = j, m++;
  }
  return m;
}

#if SPIQA_X86
#define AVX2 __attribute__((target("avx2,fma")))

// 32 columns: 4 vectors × 2 alternating sets.
AVX2 static inline void sum32_avx2(const float *v, ptrdiff_t ldv, const int32_t *col, const float *w, ptrdiff_t m,
                                   float scale, float *out, int accumulate) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  ptrdiff_t i = 0;
  if (w) {
    for (; i + 2 <= m; i += 2) {
      const float *x = v + (ptrdiff_t)col[i] * ldv, *y = v + (ptrdiff_t)col[i + 1] * ldv;
      __m256 wx = _mm256_set1_ps(w[i]), wy = _mm256_set1_ps(w[i + 1]);
      a0 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x), a0);
      a1 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x + 8), a1);
      a2 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x + 16), a2);
      a3 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x + 24), a3);
      b0 = _mm256_fmadd_ps(wy, _mm256_loadu_ps(y), b0);
      b1 = _mm256_fmadd_ps(wy, _mm256_loadu_ps(y + 8), b1);
      b2 = _mm256_fmadd_ps(wy, _mm256_loadu_ps(y + 16), b2);
      b3 = _mm256_fmadd_ps(wy, _mm256_loadu_ps(y + 24), b3);
    }
    if (i < m) {
      const float *x = v + (ptrdiff_t)col[i] * ldv;
      __m256 wx = _mm256_set1_ps(w[i]);
      a0 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x), a0);
      a1 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x + 8), a1);
      a2 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x + 16), a2);
      a3 = _mm256_fmadd_ps(wx, _mm256_loadu_ps(x + 24), a3);
    }
  } else {
    for (; i + 2 <= m; i += 2) {
      const float *x = v + (ptrdiff_t)col[i] * ldv, *y = v + (ptrdiff_t)col[i + 1] * ldv;
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + 24));
      b0 = _mm256_add_ps(b0, _mm256_loadu_ps(y));
      b1 = _mm256_add_ps(b1, _mm256_loadu_ps(y + 8));
      b2 = _mm256_add_ps(b2, _mm256_loadu_ps(y + 16));
      b3 = _mm256_add_ps(b3, _mm256_loadu_ps(y + 24));
    }
    if (i < m) {
      const float *x = v + (ptrdiff_t)col[i] * ldv;
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + 24));
    }
  }
  __m256 s = _mm256_set1_ps(scale);
  __m256 r[4] = {_mm256_mul_ps(s, _mm256_add_ps(a0, b0)), _mm256_mul_ps(s, _mm256_add_ps(a1, b1)),
                 _mm256_mul_ps(s, _mm256_add_ps(a2, b2)), _mm256_mul_ps(s, _mm256_add_ps(a3, b3))};
  for (int q = 0; q < 4; q++) {
    __m256 o = accumulate ? _mm256_add_ps(_mm256_loadu_ps(out + 8 * q), r[q]) : r[q];
    _mm256_storeu_ps(out + 8 * q, o);
  }
}

// 8 columns: 4 alternating accumulators.
AVX2 static inline void sum8_avx2(const float *v, ptrdiff_t ldv, const int32_t *col, const float *w, ptrdiff_t m,
                                  float scale, float *out, int accumulate) {
  __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (ptrdiff_t i = 0; i < m; i++) {
    __m256 x = _mm256_loadu_ps(v + (ptrdiff_t)col[i] * ldv);
    a[i & 3] = w ? _mm256_fmadd_ps(_mm256_set1_ps(w[i]), x, a[i & 3]) : _mm256_add_ps(a[i & 3], x);
  }
  __m256 r = _mm256_mul_ps(_mm256_set1_ps(scale), _mm256_add_ps(_mm256_add_ps(a[0], a[1]), _mm256_add_ps(a[2], a[3])));
  _mm256_storeu_ps(out, accumulate ? _mm256_add_ps(_mm256_loadu_ps(out), r) : r);
}

AVX2 static void sum_rows_avx2(const float *v, ptrdiff_t ldv, ptrdiff_t d, const int32_t *col, const float *w,
                               ptrdiff_t m, float scale, float *out, int accumulate) {
  ptrdiff_t j = 0;
  for (; j + 32 <= d; j += 32) sum32_avx2(v + j, ldv, col, w, m, scale, out + j, accumulate);
  for (; j + 8 <= d; j += 8) sum8_avx2(v + j, ldv, col, w, m, scale, out + j, accumulate);
  if (j < d) sum_rows_scalar(v + j, ldv, d - j, col, w, m, scale, out + j, accumulate);
}

// Columns c..c+7 (`index`) and their values `x`, the lanes of `mask` packed to the front of col + m and w + m
// (full 8-lane stores: the caller keeps m + 8 <= the list's room).
AVX2 static inline void compress8_avx2(__m256i index, __m256 x, unsigned mask, int32_t *col, float *w) {
  __m256i perm = spiqa_compress_perm8(mask);
  _mm256_storeu_si256((__m256i *)col, _mm256_permutevar8x32_epi32(index, perm));
  _mm256_storeu_ps(w, _mm256_permutevar8x32_ps(x, perm));
}

// The kept columns of a sparse row, 8 at a time.
AVX2 static ptrdiff_t scan_sparse_avx2(const float *row, ptrdiff_t n, float prune_below, int32_t *col, float *w) {
  __m256 zero = _mm256_setzero_ps(), t = _mm256_set1_ps(prune_below);
  __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), step = _mm256_set1_epi32(8);
  ptrdiff_t m = 0, c = 0;
  for (; c + 8 <= n; c += 8, index = _mm256_add_epi32(index, step)) {
    __m256 x = _mm256_loadu_ps(row + c);
    __m256 keep = _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_NEQ_UQ), _mm256_cmp_ps(x, t, _CMP_NLT_UQ));
    unsigned mask = (unsigned)_mm256_movemask_ps(keep);
    compress8_avx2(index, x, mask, col + m, w + m);  // m <= c, so m + 8 <= n
    m += __builtin_popcount(mask);
  }
  for (; c < n; c++) {
    float x = row[c];
    if (x != 0 && !(x < prune_below)) col[m] = (int32_t)c, w[m] = x, m++;
  }
  return m;
}

// The codes of a row, 8 at a time; −1 when an entry is outside [0, 1.0).
AVX2 static ptrdiff_t scan_codes_avx2(const float *row, ptrdiff_t n, uint32_t prune_bits, const uint32_t *starts,
                                      int count, int one_code, int32_t *col, int32_t *code) {
  __m256i limit = _mm256_set1_epi32((int)one_bits), zero = _mm256_setzero_si256();
  __m256i one = limit, at_one = _mm256_set1_epi32(one_code);
  __m256i gt[SPIQA_PV_LEVELS_MAX];
  for (int k = 1; k < count; k++) gt[k] = _mm256_set1_epi32((int)(starts[k] - 1));
  // Pruned: u < prune_bits, i.e. not u > prune_bits − 1 (nothing is pruned when prune_bits is 0).
  __m256i kept_from = _mm256_set1_epi32(prune_bits ? (int)(prune_bits - 1) : -1);
  __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), step = _mm256_set1_epi32(8);
  ptrdiff_t m = 0, c = 0;
  for (; c + 8 <= n; c += 8, index = _mm256_add_epi32(index, step)) {
    __m256i b = _mm256_loadu_si256((const __m256i *)(row + c));
    __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(zero, b), _mm256_cmpgt_epi32(b, limit));
    if (!_mm256_testz_si256(bad, bad)) return -1;
    __m256i j = zero;
    for (int k = 1; k < count; k++) j = _mm256_sub_epi32(j, _mm256_cmpgt_epi32(b, gt[k]));
    j = _mm256_blendv_epi8(j, at_one, _mm256_cmpeq_epi32(b, one));
    j = _mm256_and_si256(j, _mm256_cmpgt_epi32(b, kept_from));
    unsigned mask = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(j, zero))) & 0xFFu;
    compress8_avx2(index, _mm256_castsi256_ps(j), mask, col + m, (float *)(code + m));  // codes as raw lanes
    m += __builtin_popcount(mask);
  }
  ptrdiff_t tail = scan_codes_scalar(row + c, n - c, prune_bits, starts, count, one_code, col + m, code + m, (int32_t)c);
  return tail < 0 ? -1 : m + tail;
}
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

// 32 columns: 2 vectors × 4 sets taking entries in turn (8 independent FMA chains).
AVX512 static inline void sum32_avx512(const float *v, ptrdiff_t ldv, const int32_t *col, const float *w,
                                       ptrdiff_t m, float *out) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, e0 = a0, e1 = a0;
  ptrdiff_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const float *x = v + (ptrdiff_t)col[i] * ldv, *y = v + (ptrdiff_t)col[i + 1] * ldv;
    const float *z = v + (ptrdiff_t)col[i + 2] * ldv, *u = v + (ptrdiff_t)col[i + 3] * ldv;
    __m512 wx = _mm512_set1_ps(w[i]), wy = _mm512_set1_ps(w[i + 1]);
    __m512 wz = _mm512_set1_ps(w[i + 2]), wu = _mm512_set1_ps(w[i + 3]);
    a0 = _mm512_fmadd_ps(wx, _mm512_loadu_ps(x), a0);
    a1 = _mm512_fmadd_ps(wx, _mm512_loadu_ps(x + 16), a1);
    b0 = _mm512_fmadd_ps(wy, _mm512_loadu_ps(y), b0);
    b1 = _mm512_fmadd_ps(wy, _mm512_loadu_ps(y + 16), b1);
    c0 = _mm512_fmadd_ps(wz, _mm512_loadu_ps(z), c0);
    c1 = _mm512_fmadd_ps(wz, _mm512_loadu_ps(z + 16), c1);
    e0 = _mm512_fmadd_ps(wu, _mm512_loadu_ps(u), e0);
    e1 = _mm512_fmadd_ps(wu, _mm512_loadu_ps(u + 16), e1);
  }
  for (; i < m; i++) {
    const float *x = v + (ptrdiff_t)col[i] * ldv;
    __m512 wx = _mm512_set1_ps(w[i]);
    a0 = _mm512_fmadd_ps(wx, _mm512_loadu_ps(x), a0);
    a1 = _mm512_fmadd_ps(wx, _mm512_loadu_ps(x + 16), a1);
  }
  _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(a0, b0), _mm512_add_ps(c0, e0)));
  _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_add_ps(a1, b1), _mm512_add_ps(c1, e1)));
}

// 16 columns: 4 sets.
AVX512 static inline void sum16_avx512(const float *v, ptrdiff_t ldv, const int32_t *col, const float *w,
                                       ptrdiff_t m, float *out) {
  __m512 a[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (ptrdiff_t i = 0; i < m; i++)
    a[i & 3] = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), _mm512_loadu_ps(v + (ptrdiff_t)col[i] * ldv), a[i & 3]);
  _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])));
}

AVX512 static void sum_rows_avx512(const float *v, ptrdiff_t ldv, ptrdiff_t d, const int32_t *col, const float *w,
                                   ptrdiff_t m, float *out) {
  ptrdiff_t j = 0;
  for (; j + 32 <= d; j += 32) sum32_avx512(v + j, ldv, col, w, m, out + j);
  for (; j + 16 <= d; j += 16) sum16_avx512(v + j, ldv, col, w, m, out + j);
  if (j < d) sum_rows_avx2(v + j, ldv, d - j, col, w, m, 1.0f, out + j, 0);
}

// The kept columns of a sparse row, 16 at a time, written by compress-stores (no branch per entry).
AVX512 static ptrdiff_t scan_sparse_avx512(const float *row, ptrdiff_t n, float prune_below, int32_t *col,
                                           float *w) {
  __m512 zero = _mm512_setzero_ps(), t = _mm512_set1_ps(prune_below);
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), step = _mm512_set1_epi32(16);
  ptrdiff_t m = 0;
  for (ptrdiff_t c = 0; c < n; c += 16, index = _mm512_add_epi32(index, step)) {
    __mmask16 lanes = n - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - c)) - 1);  // the last step masked
    __m512 x = _mm512_maskz_loadu_ps(lanes, row + c);
    __mmask16 keep = _mm512_cmp_ps_mask(x, zero, _CMP_NEQ_UQ) & _mm512_cmp_ps_mask(x, t, _CMP_NLT_UQ);
    // Compress in registers, then a full store (m <= c, so lanes past the kept ones stay inside the row's list and
    // its slack): compress-stores to memory are microcoded and several times slower.
    _mm512_storeu_si512(col + m, _mm512_maskz_compress_epi32(keep, index));
    _mm512_storeu_ps(w + m, _mm512_maskz_compress_ps(keep, x));
    m += __builtin_popcount(keep);
  }
  return m;
}

_Static_assert(SPIQA_PV_LEVELS_MAX <= SPIQA_STEPS512_MAX, "spiqa_steps512 holds every code");

// The registers of a quantizer for `scan_values_avx512`, set up once per block: its step function (step_cells.h)
// and the pruning bound.
typedef struct {
  spiqa_steps512 steps;
  __m512i kept_from;
} values_setup;

AVX512 static void values_setup_init(values_setup *s, uint32_t prune_bits, const uint32_t *starts, const float *value,
                                     int count) {
  spiqa_steps512_init(&s->steps, starts, value, count, value[count]);
  s->kept_from = _mm512_set1_epi32(prune_bits ? (int)(prune_bits - 1) : -1);
}

// 16 entries' bit patterns `b` (in [0, 1.0]) quantized: their values, and in `*keep` the lanes not pruned whose
// value is not 0. `cells` is `s->steps.cells`, a constant at each call.
AVX512 static inline __attribute__((always_inline)) __m512 map16_avx512(const values_setup *s, __m512i b, int cells,
                                                                      __mmask16 *keep) {
  __m512 x = spiqa_steps512_map(&s->steps, b, cells);
  *keep = _mm512_cmpgt_epi32_mask(b, s->kept_from) & _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NEQ_UQ);
  return x;
}

// A row quantized on the fly: the kept columns and their quantized values, 16 at a time (the last step masked);
// −1 when an entry is negative, above 1 or NaN. `value[count]` is the value of the input 1.0. `cells` is
// `s->steps.cells`, a constant at each call so that each form compiles into its own loop.
AVX512 static inline __attribute__((always_inline)) ptrdiff_t
scan_values_avx512(const float *row, ptrdiff_t n, const values_setup *s, int32_t *col, float *w, int cells) {
  __m512i one = _mm512_set1_epi32((int)one_bits), zero = _mm512_setzero_si512();
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), step = _mm512_set1_epi32(16);
  ptrdiff_t m = 0;
  for (ptrdiff_t c = 0; c < n; c += 16, index = _mm512_add_epi32(index, step)) {
    __mmask16 lanes = n - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - c)) - 1);
    __m512i b = _mm512_maskz_loadu_epi32(lanes, row + c);  // lanes past the row: 0, which is never kept
    if (_mm512_cmpgt_epi32_mask(zero, b) | _mm512_cmpgt_epi32_mask(b, one)) return -1;
    __mmask16 keep;
    __m512 x = map16_avx512(s, b, cells, &keep);
    // Compress in registers, then a full store (m <= c, so lanes past the kept ones stay inside the row's list and
    // its slack): compress-stores to memory are microcoded and several times slower.
    _mm512_storeu_si512(col + m, _mm512_maskz_compress_epi32(keep, index));
    _mm512_storeu_ps(w + m, _mm512_maskz_compress_ps(keep, x));
    m += __builtin_popcount(keep);
  }
  return m;
}

AVX512 static ptrdiff_t scan_values_cells_avx512(const float *row, ptrdiff_t n, const values_setup *s, int32_t *col,
                                                 float *w) {
  return scan_values_avx512(row, n, s, col, w, 1);
}

AVX512 static ptrdiff_t scan_values_chain_avx512(const float *row, ptrdiff_t n, const values_setup *s, int32_t *col,
                                                 float *w) {
  return scan_values_avx512(row, n, s, col, w, 0);
}

// MARK: - Row groups: sgemm's products, minus the columns a group of rows does not use

// Rows taken together by `spiqa_pv_groups`. Each column a group keeps costs one load of its V row for all of them,
// as in sgemm's micro-kernel; more rows per group keep more columns (the union of their nonzeros).
#define GROUP_ROWS 4

// The columns nonzero in any of the group's rows (`rows[0..<4]`; a short last group repeats a row), 16 at a time
// (the last step masked), compressed in registers and stored whole. Entries below `prune_below` (when positive)
// are set to 0 in place first. `*nonzero` gets the group's nonzeros (rows before `g` only).
AVX512 static ptrdiff_t scan_group_avx512(float *const *rows, int g, ptrdiff_t n, float prune_below, int32_t *col,
                                          ptrdiff_t *nonzero) {
  __m512 zero = _mm512_setzero_ps(), t = _mm512_set1_ps(prune_below);
  int prunes = prune_below > 0;
  uint64_t counted = g == GROUP_ROWS ? ~(uint64_t)0 : ((uint64_t)1 << (16 * g)) - 1;
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), step = _mm512_set1_epi32(16);
  ptrdiff_t m = 0, nz = 0;
  for (ptrdiff_t c = 0; c < n; c += 16, index = _mm512_add_epi32(index, step)) {
    __mmask16 lanes = n - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - c)) - 1);
    __mmask16 k[GROUP_ROWS];
    for (int r = 0; r < GROUP_ROWS; r++) {
      __m512 x = _mm512_maskz_loadu_ps(lanes, rows[r] + c);  // lanes past the row: 0, never kept
      // NaN is nonzero (unordered), so it reaches the sum as it would in sgemm.
      k[r] = _mm512_cmp_ps_mask(x, zero, _CMP_NEQ_UQ);
      if (prunes) {
        __mmask16 pruned = k[r] & _mm512_cmp_ps_mask(x, t, _CMP_LT_OQ);
        if (pruned) _mm512_mask_storeu_ps(rows[r] + c, pruned, zero);
        k[r] &= (__mmask16)~pruned;
      }
    }
    __mmask16 any = k[0] | k[1] | k[2] | k[3];
    // The group's nonzeros: one count of the 4 masks side by side (a short group's repeated rows left out).
    uint64_t all = (uint64_t)k[0] | (uint64_t)k[1] << 16 | (uint64_t)k[2] << 32 | (uint64_t)k[3] << 48;
    nz += __builtin_popcountll(all & counted);
    _mm512_storeu_si512(col + m, _mm512_maskz_compress_epi32(any, index));
    m += __builtin_popcount(any);
  }
  *nonzero = nz;
  return m;
}

// out rows (`outs[0..<g]`) = Σ over the listed columns k of P[r, k] · V[k] (`rows`), in column order, over
// `chunks` 16-lane slices of V (the last stored through the mask `last`). One accumulator per row and slice:
// 4 × chunks independent FMA chains, and each V row loaded once for the 4 rows.
AVX512 static inline __attribute__((always_inline)) void
group_sum_avx512(float *const *rows, int g, const int32_t *col, ptrdiff_t m, const float *v, ptrdiff_t ldv,
                 int chunks, __mmask16 last, float *const *outs) {
  __m512 acc[GROUP_ROWS][4];
  for (int r = 0; r < GROUP_ROWS; r++)
    for (int c = 0; c < chunks; c++) acc[r][c] = _mm512_setzero_ps();
  for (ptrdiff_t i = 0; i < m; i++) {
    ptrdiff_t k = col[i];
    const float *x = v + k * ldv;  // packed: 64-byte aligned rows, zero past d
    __m512 vx[4];
    for (int c = 0; c < chunks; c++) vx[c] = _mm512_load_ps(x + 16 * c);
    for (int r = 0; r < GROUP_ROWS; r++) {
      __m512 wr = _mm512_set1_ps(rows[r][k]);
      for (int c = 0; c < chunks; c++) acc[r][c] = _mm512_fmadd_ps(wr, vx[c], acc[r][c]);
    }
  }
  for (int r = 0; r < g; r++) {
    for (int c = 0; c + 1 < chunks; c++) _mm512_storeu_ps(outs[r] + 16 * c, acc[r][c]);
    _mm512_mask_storeu_ps(outs[r] + 16 * (chunks - 1), last, acc[r][chunks - 1]);
  }
}

// One group, V's columns 64 at a time (a constant number of slices at each call, so each form unrolls).
AVX512 static void group_product_avx512(float *const *rows, int g, const int32_t *col, ptrdiff_t m,
                                        const float *v, ptrdiff_t ldv, ptrdiff_t d, float *const *outs) {
  for (ptrdiff_t j = 0; j < d; j += 64) {
    ptrdiff_t width = d - j < 64 ? d - j : 64;
    int chunks = (int)((width + 15) / 16);
    __mmask16 last = width % 16 ? (__mmask16)((1u << (width % 16)) - 1) : (__mmask16)0xFFFF;
    float *o[GROUP_ROWS];
    for (int r = 0; r < GROUP_ROWS; r++) o[r] = outs[r] + j;
    switch (chunks) {
    case 1: group_sum_avx512(rows, g, col, m, v + j, ldv, 1, last, o); break;
    case 2: group_sum_avx512(rows, g, col, m, v + j, ldv, 2, last, o); break;
    case 3: group_sum_avx512(rows, g, col, m, v + j, ldv, 3, last, o); break;
    default: group_sum_avx512(rows, g, col, m, v + j, ldv, 4, last, o); break;
    }
  }
}

// The AVX2 forms: 8 lanes, compress by the permutation table, and V's columns 16 at a time (4 rows × 2 vectors of
// accumulators: all 16 ymm registers would be needed for 32 columns).
AVX2 static ptrdiff_t scan_group_avx2(float *const *rows, int g, ptrdiff_t n, float prune_below, int32_t *col,
                                      ptrdiff_t *nonzero) {
  __m256 zero = _mm256_setzero_ps(), t = _mm256_set1_ps(prune_below);
  int prunes = prune_below > 0;
  uint32_t counted = g == GROUP_ROWS ? 0xFFFFFFFFu : (1u << (8 * g)) - 1;
  __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), step = _mm256_set1_epi32(8);
  ptrdiff_t m = 0, nz = 0, c = 0;
  for (; c + 8 <= n; c += 8, index = _mm256_add_epi32(index, step)) {
    uint32_t k[GROUP_ROWS];
    for (int r = 0; r < GROUP_ROWS; r++) {
      __m256 x = _mm256_loadu_ps(rows[r] + c);
      __m256 keep = _mm256_cmp_ps(x, zero, _CMP_NEQ_UQ);  // NaN is nonzero
      if (prunes) {
        __m256 pruned = _mm256_and_ps(keep, _mm256_cmp_ps(x, t, _CMP_LT_OQ));
        // A full store of the pruned vector: AVX2's masked store is microcoded on AMD cores (2.5× slower here).
        if (_mm256_movemask_ps(pruned)) _mm256_storeu_ps(rows[r] + c, _mm256_andnot_ps(pruned, x));
        keep = _mm256_andnot_ps(pruned, keep);
      }
      k[r] = (uint32_t)_mm256_movemask_ps(keep);
    }
    unsigned any = k[0] | k[1] | k[2] | k[3];
    nz += __builtin_popcount((k[0] | k[1] << 8 | k[2] << 16 | k[3] << 24) & counted);
    // m + 8 <= n + 8: inside the list and its slack.
    _mm256_storeu_si256((__m256i *)(col + m), _mm256_permutevar8x32_epi32(index, spiqa_compress_perm8(any)));
    m += __builtin_popcount(any);
  }
  m = scan_group_scalar(rows, g, c, n, prune_below, col, m, &nz);  // the last n mod 8 columns
  *nonzero = nz;
  return m;
}

// `group_sum_avx512` with 8 lanes: `chunks` (1 or 2) vectors of V's columns, `width` of them stored.
AVX2 static inline __attribute__((always_inline)) void
group_sum_avx2(float *const *rows, int g, const int32_t *col, ptrdiff_t m, const float *v, ptrdiff_t ldv, int chunks,
               ptrdiff_t width, float *const *outs) {
  __m256 acc[GROUP_ROWS][2];
  for (int r = 0; r < GROUP_ROWS; r++)
    for (int c = 0; c < chunks; c++) acc[r][c] = _mm256_setzero_ps();
  for (ptrdiff_t i = 0; i < m; i++) {
    ptrdiff_t k = col[i];
    const float *x = v + k * ldv;
    __m256 vx[2];
    for (int c = 0; c < chunks; c++) vx[c] = _mm256_load_ps(x + 8 * c);
    for (int r = 0; r < GROUP_ROWS; r++) {
      __m256 wr = _mm256_broadcast_ss(rows[r] + k);
      for (int c = 0; c < chunks; c++) acc[r][c] = _mm256_fmadd_ps(wr, vx[c], acc[r][c]);
    }
  }
  for (int r = 0; r < g; r++) {
    if (width == 8 * chunks) {
      for (int c = 0; c < chunks; c++) _mm256_storeu_ps(outs[r] + 8 * c, acc[r][c]);
    } else {
      float tmp[16];
      for (int c = 0; c < chunks; c++) _mm256_storeu_ps(tmp + 8 * c, acc[r][c]);
      memcpy(outs[r], tmp, sizeof(float) * (size_t)width);
    }
  }
}

AVX2 static void group_product_avx2(float *const *rows, int g, const int32_t *col, ptrdiff_t m, const float *v,
                                    ptrdiff_t ldv, ptrdiff_t d, float *const *outs) {
  for (ptrdiff_t j = 0; j < d; j += 16) {
    ptrdiff_t width = d - j < 16 ? d - j : 16;
    float *o[GROUP_ROWS];
    for (int r = 0; r < GROUP_ROWS; r++) o[r] = outs[r] + j;
    if (width > 8)
      group_sum_avx2(rows, g, col, m, v + j, ldv, 2, width, o);
    else
      group_sum_avx2(rows, g, col, m, v + j, ldv, 1, width, o);
  }
}
#endif

// MARK: - Entry points

// A block's row lists and packed V (`*v`, `*ldv` updated); 0 when out of memory.
static int block_begin(row_list *l, ptrdiff_t n, const float **v, ptrdiff_t *ldv, ptrdiff_t d) {
  if (!row_list_init(l, n)) return 0;
  const float *packed = pack_v(*v, n, *ldv, d);
  if (!packed) {
    free(l->heap);
    return 0;
  }
  *v = packed;
  *ldv = packed_stride(d);
  return 1;
}

// The code values with the input 1.0's appended (`value[count]`); returns its code (0 when it maps to 0), or −1
// for a table the kernels refuse.
static int code_values(const uint32_t *starts, const float *values, int count, float at_one, float *value) {
  if (count < 1 || count > SPIQA_PV_LEVELS_MAX || starts[0] != 0 || values[0] != 0) return -1;
  memcpy(value, values, sizeof(float) * (size_t)count);
  value[count] = at_one;
  return at_one != 0 ? count : 0;
}

ptrdiff_t spiqa_pv_sparse(const float *p, ptrdiff_t n, ptrdiff_t ldp, float prune_below, const float *v,
                          ptrdiff_t ldv, ptrdiff_t d, float *out, ptrdiff_t ldo) {
  row_list l;
  if (!block_begin(&l, n, &v, &ldv, d)) return -1;
#if SPIQA_X86
  int isa = spiqa_kernels_isa(), wide = isa >= SPIQA_ISA_AVX2;
#else
  int wide = 0;
#endif
  ptrdiff_t kept = 0;
  for (ptrdiff_t r = 0; r < n; r++) {
    const float *row = p + r * ldp;
    ptrdiff_t m;
#if SPIQA_X86
    if (isa >= SPIQA_ISA_AVX512) {
      m = scan_sparse_avx512(row, n, prune_below, l.col, l.weight);
      sum_rows_avx512(v, ldv, d, l.col, l.weight, m, out + r * ldo);
      kept += m;
      continue;
    }
    if (wide) {
      m = scan_sparse_avx2(row, n, prune_below, l.col, l.weight);
      sum_rows_avx2(v, ldv, d, l.col, l.weight, m, 1.0f, out + r * ldo, 0);
      kept += m;
      continue;
    }
#endif
    m = scan_sparse_scalar(row, n, prune_below, l.col, l.weight);
    sum_rows_scalar(v, ldv, d, l.col, l.weight, m, 1.0f, out + r * ldo, 0);
    kept += m;
  }
  (void)wide;
  free(l.heap);
  return kept;
}

ptrdiff_t spiqa_pv_levels(const float *p, ptrdiff_t n, ptrdiff_t ldp, uint32_t prune_bits, const uint32_t *starts,
                          const float *values, int count, float at_one, const float *v, ptrdiff_t ldv, ptrdiff_t d,
                          float *out, ptrdiff_t ldo) {
  // Code `count` is the input 1.0 (when it maps to a nonzero value; else it joins code 0).
  float value[SPIQA_PV_LEVELS_MAX + 1];
  int one_code = code_values(starts, values, count, at_one, value), codes = count + 1;
  if (one_code < 0) return -1;
  row_list l;
  if (!block_begin(&l, n, &v, &ldv, d)) return -1;
#if SPIQA_X86
  int wide = spiqa_kernels_isa() >= SPIQA_ISA_AVX2;
#else
  int wide = 0;
#endif
  ptrdiff_t kept = 0;
  ptrdiff_t first[SPIQA_PV_LEVELS_MAX + 2];
  for (ptrdiff_t r = 0; r < n; r++) {
    const float *row = p + r * ldp;
    float *o = out + r * ldo;
    ptrdiff_t m;
#if SPIQA_X86
    if (wide)
      m = scan_codes_avx2(row, n, prune_bits, starts, count, one_code, l.col, l.code);
    else
#endif
      m = scan_codes_scalar(row, n, prune_bits, starts, count, one_code, l.col, l.code, 0);
    if (m < 0) {
      kept = -1;
      break;
    }
    kept += m;
    // Group the columns by code (counting sort, stable: column order within a code).
    memset(first, 0, sizeof(ptrdiff_t) * (size_t)(codes + 1));
    for (ptrdiff_t i = 0; i < m; i++) first[l.code[i] + 1]++;
    for (int j = 0; j < codes; j++) first[j + 1] += first[j];
    for (ptrdiff_t i = 0; i < m; i++) l.order[first[l.code[i]]++] = l.col[i];
    // first[j] is now the end of code j's group; each group starts where the previous one ended.
    memset(o, 0, sizeof(float) * (size_t)d);
    ptrdiff_t start = 0;
    for (int j = 1; j < codes; j++) {
      ptrdiff_t end = first[j];
      if (end > start) {
#if SPIQA_X86
        if (wide)
          sum_rows_avx2(v, ldv, d, l.order + start, NULL, end - start, value[j], o, 1);
        else
#endif
          sum_rows_scalar(v, ldv, d, l.order + start, NULL, end - start, value[j], o, 1);
      }
      start = end;
    }
  }
  (void)wide;
  free(l.heap);
  return kept;
}

ptrdiff_t spiqa_pv_codes(const float *p, ptrdiff_t n, ptrdiff_t ldp, uint32_t prune_bits, const uint32_t *starts,
                         const float *values, int count, float at_one, const float *v, ptrdiff_t ldv, ptrdiff_t d,
                         float *out, ptrdiff_t ldo) {
  float value[SPIQA_PV_LEVELS_MAX + 1];
  int one_code = code_values(starts, values, count, at_one, value);
  if (one_code < 0) return -1;
  row_list l;
  if (!block_begin(&l, n, &v, &ldv, d)) return -1;
#if SPIQA_X86
  int isa = spiqa_kernels_isa();
#else
  int isa = 0;
#endif
  ptrdiff_t kept = 0;
#if SPIQA_X86
  values_setup setup;
  if (isa >= SPIQA_ISA_AVX512) values_setup_init(&setup, prune_bits, starts, value, count);
#endif
  for (ptrdiff_t r = 0; r < n; r++) {
    const float *row = p + r * ldp;
    float *o = out + r * ldo;
    ptrdiff_t m;
#if SPIQA_X86
    if (isa >= SPIQA_ISA_AVX512) {
      m = setup.steps.cells ? scan_values_cells_avx512(row, n, &setup, l.col, l.weight)
                      : scan_values_chain_avx512(row, n, &setup, l.col, l.weight);
      if (m < 0) return free(l.heap), -1;
      sum_rows_avx512(v, ldv, d, l.col, l.weight, m, o);
      kept += m;
      continue;
    }
    if (isa >= SPIQA_ISA_AVX2)
      m = scan_codes_avx2(row, n, prune_bits, starts, count, one_code, l.col, l.code);
    else
#endif
      m = scan_codes_scalar(row, n, prune_bits, starts, count, one_code, l.col, l.code, 0);
    if (m < 0) return free(l.heap), -1;
    for (ptrdiff_t i = 0; i < m; i++) l.weight[i] = value[l.code[i]];
#if SPIQA_X86
    if (isa >= SPIQA_ISA_AVX2) {
      sum_rows_avx2(v, ldv, d, l.col, l.weight, m, 1.0f, o, 0);
      kept += m;
      continue;
    }
#endif
    sum_rows_scalar(v, ldv, d, l.col, l.weight, m, 1.0f, o, 0);
    kept += m;
  }
  (void)isa;
  free(l.heap);
  return kept;
}

ptrdiff_t spiqa_pv_groups(float *p, ptrdiff_t n, ptrdiff_t ldp, float prune_below, const float *v, ptrdiff_t ldv,
                          ptrdiff_t d, float *out, ptrdiff_t ldo, ptrdiff_t *columns) {
  row_list l;
  if (!block_begin(&l, n, &v, &ldv, d)) return -1;
#if SPIQA_X86
  int isa = spiqa_kernels_isa();
#endif
  ptrdiff_t nonzero = 0, kept = 0;
  for (ptrdiff_t r0 = 0; r0 < n; r0 += GROUP_ROWS) {
    int g = n - r0 < GROUP_ROWS ? (int)(n - r0) : GROUP_ROWS;
    float *rows[GROUP_ROWS], *outs[GROUP_ROWS];
    for (int r = 0; r < GROUP_ROWS; r++) {
      rows[r] = p + (r0 + (r < g ? r : 0)) * ldp;
      outs[r] = out + (r0 + (r < g ? r : 0)) * ldo;
    }
    ptrdiff_t m = 0, nz = 0;
#if SPIQA_X86
    if (isa >= SPIQA_ISA_AVX512) {
      m = scan_group_avx512(rows, g, n, prune_below, l.col, &nz);
      group_product_avx512(rows, g, l.col, m, v, ldv, d, outs);
    } else if (isa >= SPIQA_ISA_AVX2) {
      m = scan_group_avx2(rows, g, n, prune_below, l.col, &nz);
      group_product_avx2(rows, g, l.col, m, v, ldv, d, outs);
    } else
#endif
    {
      // Portable: the same pruning and columns, each row's products summed in column order.
      m = scan_group_scalar(rows, g, 0, n, prune_below, l.col, 0, &nz);
      for (int r = 0; r < g; r++) {
        for (ptrdiff_t j = 0; j < d; j++) {
          float sum = 0;
          for (ptrdiff_t i = 0; i < m; i++) sum += rows[r][l.col[i]] * v[(ptrdiff_t)l.col[i] * ldv + j];
          outs[r][j] = sum;
        }
      }
    }
    nonzero += nz, kept += m;
  }
  free(l.heap);
  if (columns) *columns = kept;
  return nonzero;
}
