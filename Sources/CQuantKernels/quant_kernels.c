// The quantizers' fast path (see include/quant_kernels.h): every element-wise quantizer, and a data-dependent one
// once its thresholds are known, is a monotone step function of the float's bit pattern on [0, 1), so a value is
// mapped by comparing it with each segment start and selecting that segment's output — no table lookups, no
// branches, 8 values per AVX2 instruction.

#include "quant_kernels.h"

#include <math.h>
#include <string.h>

#include "compress8.h"
#include "cpu_isa.h"
#include "step_cells.h"
#include "x86.h"

static const uint32_t one_bits = 0x3F800000u;

/// Most levels `spiqa_quant_codes` compares a value with one by one (beyond, it searches).
#define SPIQA_QUANT_CODES_VECTOR_MAX 64

// Portable: a branchless pass over the starts per value from `from`; stops at the first value outside [0, 1) and
// returns its index (the compiler vectorises nothing here; the AVX2 path does).
static ptrdiff_t steps_scalar(float *x, ptrdiff_t from, ptrdiff_t n, const uint32_t *starts, const float *values,
                              int count) {
  uint32_t *u = (uint32_t *)x;
  for (ptrdiff_t i = from; i < n; i++) {
    uint32_t b = u[i];
    if (b >= one_bits) return i;
    int j = 0;
    for (int k = 1; k < count; k++) j += b >= starts[k];
    x[i] = values[j];
  }
  return n;
}

// Portable with a cell table (`step_cells.h`): one lookup and one compare per value instead of one compare per
// segment; same contract as `steps_scalar`.
static ptrdiff_t steps_cells_scalar(float *x, ptrdiff_t from, ptrdiff_t n, const spiqa_step_cells *t) {
  uint32_t *u = (uint32_t *)x;
  for (ptrdiff_t i = from; i < n; i++) {
    uint32_t b = u[i];
    if (b >= one_bits) return i;
    uint32_t c = b >> t->shift;
    uint32_t cell = c < t->first ? 0 : c - t->first;  // below the first cell: the lowest value
    x[i] = b >= t->bound[cell] ? t->upper[cell] : t->lower[cell];
  }
  return n;
}

#if SPIQA_X86
#define AVX2 __attribute__((target("avx2")))
#define AVX512 __attribute__((target("avx512f,avx2")))

// 8 bit patterns through the steps (`gt[k]` = starts[k] - 1), 1.0 to `one`.
AVX2 static inline __m256 map8(__m256i b, const __m256i *gt, const __m256 *val, int count, __m256 first, __m256 one,
                               __m256i one_bits8) {
  __m256 out = first;
  for (int k = 1; k < count; k++) out = _mm256_blendv_ps(out, val[k], _mm256_castsi256_ps(_mm256_cmpgt_epi32(b, gt[k])));
  return _mm256_blendv_ps(out, one, _mm256_castsi256_ps(_mm256_cmpeq_epi32(b, one_bits8)));
}

// A whole block with one setup. Each row's tail (cols % 8) takes one masked step instead of the scalar loop (masked
// loads and stores only there: on AMD cores they cost several plain ones), and the input 1.0 — common in softmax
// output — is one more select instead of a stop.
AVX2 static ptrdiff_t steps_rows_avx2(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, ptrdiff_t from,
                                      const uint32_t *starts, const float *values, int count, float at_one) {
  // Bit patterns of [0, 1] are 0 … one, non-negative as int32, so signed compares order them; anything else
  // (sign bit set, above 1.0, NaN) is outside and stops the loop.
  __m256i limit = _mm256_set1_epi32((int)one_bits);
  __m256i zero = _mm256_setzero_si256(), lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i gt[SPIQA_QUANT_STEPS_MAX];
  __m256 val[SPIQA_QUANT_STEPS_MAX];
  for (int k = 1; k < count; k++) {
    gt[k] = _mm256_set1_epi32((int)(starts[k] - 1));  // b >= starts[k]  <=>  b > starts[k] - 1 (starts[k] ≥ 1)
    val[k] = _mm256_set1_ps(values[k]);
  }
  __m256 first = _mm256_set1_ps(values[0]), one = _mm256_set1_ps(at_one);
  for (ptrdiff_t r = from / cols; r < rows; r++) {
    float *row = x + r * stride;
    ptrdiff_t i = r == from / cols ? from % cols : 0;
    for (; i + 8 <= cols; i += 8) {
      __m256i b = _mm256_loadu_si256((const __m256i *)(row + i));
      __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(zero, b), _mm256_cmpgt_epi32(b, limit));
      if (!_mm256_testz_si256(bad, bad)) break;  // the masked step below stops there
      _mm256_storeu_ps(row + i, map8(b, gt, val, count, first, one, limit));
    }
    if (i < cols) {  // the tail, or a step with a value outside [0, 1]: map the lanes before it and stop there
      __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(cols - i < 8 ? cols - i : 8)), lane);
      __m256i b = _mm256_maskload_epi32((const int *)(row + i), lanes);
      __m256i bad = _mm256_and_si256(lanes, _mm256_or_si256(_mm256_cmpgt_epi32(zero, b), _mm256_cmpgt_epi32(b, limit)));
      __m256 out = map8(b, gt, val, count, first, one, limit);
      unsigned stop = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(bad));
      if (stop) lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(__builtin_ctz(stop)), lane);
      _mm256_maskstore_ps(row + i, lanes, out);
      if (stop) return r * cols + i + __builtin_ctz(stop);
    }
  }
  return rows * cols;
}

_Static_assert(SPIQA_QUANT_STEPS_MAX <= SPIQA_STEPS512_MAX, "spiqa_steps512 holds every segment");

// The rows, by the cell table (`cells` 1) or the chain of compares (0); `cells` is a constant at each call, so
// each loop is compiled on its own.
AVX512 static inline __attribute__((always_inline)) ptrdiff_t
steps_rows_avx512_loop(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, ptrdiff_t from,
                       const spiqa_steps512 *s, int cells) {
  __m512i limit = _mm512_set1_epi32((int)one_bits), zero = _mm512_setzero_si512();
  for (ptrdiff_t r = from / cols; r < rows; r++) {
    float *row = x + r * stride;
    for (ptrdiff_t i = r == from / cols ? from % cols : 0; i < cols; i += 16) {
      __mmask16 lanes = cols - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - i)) - 1);
      __m512i b = _mm512_maskz_loadu_epi32(lanes, row + i);
      __mmask16 bad = (_mm512_cmplt_epi32_mask(b, zero) | _mm512_cmpgt_epi32_mask(b, limit)) & lanes;
      __m512 out = spiqa_steps512_map(s, b, cells);  // bad lanes: not stored
      if (bad) {  // map the lanes before it; the caller takes it from there
        int stop = __builtin_ctz(bad);
        _mm512_mask_storeu_ps(row + i, (__mmask16)((1u << stop) - 1), out);
        return r * cols + i + stop;
      }
      _mm512_mask_storeu_ps(row + i, lanes, out);
    }
  }
  return rows * cols;
}

// AVX-512: a whole block with one setup. Each row's tail (cols % 16) takes one masked step instead of the scalar
// loop, and the input 1.0 — common in softmax output — is one more select instead of a stop. With 6 or more
// segments a cell table does the mapping when one fits (the same bits as the chain of compares).
AVX512 static ptrdiff_t steps_rows_avx512(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, ptrdiff_t from,
                                          const uint32_t *starts, const float *values, int count, float at_one) {
  spiqa_steps512 s;
  spiqa_steps512_init(&s, starts, values, count, at_one);
  return s.cells ? steps_rows_avx512_loop(x, rows, cols, stride, from, &s, 1)
                 : steps_rows_avx512_loop(x, rows, cols, stride, from, &s, 0);
}
#endif

ptrdiff_t spiqa_quant_steps_rows(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, ptrdiff_t from,
                                 const uint32_t *starts, const float *values, int count, float at_one) {
  if (count < 1 || count > SPIQA_QUANT_STEPS_MAX || cols < 1) return from;
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX512)
    return steps_rows_avx512(x, rows, cols, stride, from, starts, values, count, at_one);
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2)
    return steps_rows_avx2(x, rows, cols, stride, from, starts, values, count, at_one);
#endif
  spiqa_step_cells table;
  int cells = count >= 6 && spiqa_step_cells_build(&table, starts, values, count);
  for (ptrdiff_t r = from / cols; r < rows; r++) {
    float *row = x + r * stride;
    for (ptrdiff_t i = r == from / cols ? from % cols : 0; i < cols;) {
      i = cells ? steps_cells_scalar(row, i, cols, &table) : steps_scalar(row, i, cols, starts, values, count);
      if (i == cols) break;
      uint32_t b;
      memcpy(&b, row + i, 4);
      if (b != one_bits) return r * cols + i;
      row[i++] = at_one;
    }
  }
  return rows * cols;
}

// Branchless (a compare feeding an add): the data is about half below the threshold.
static ptrdiff_t count_scalar(const float *x, ptrdiff_t from, ptrdiff_t n, float threshold) {
  ptrdiff_t k = 0;
  for (ptrdiff_t i = from; i < n; i++) k += x[i] >= threshold;
  return k;
}

#if SPIQA_X86
AVX2 static ptrdiff_t count_avx2(const float *x, ptrdiff_t n, float threshold) {
  __m256 t = _mm256_set1_ps(threshold);
  __m256i acc = _mm256_setzero_si256();
  ptrdiff_t i = 0, k = 0;
  while (i + 8 <= n) {
    // Lane counters are int32: flush every 2^20 blocks.
    ptrdiff_t end = n - i > ((ptrdiff_t)8 << 20) ? i + ((ptrdiff_t)8 << 20) : n;
    for (; i + 8 <= end; i += 8) {
      __m256 ge = _mm256_cmp_ps(_mm256_loadu_ps(x + i), t, _CMP_GE_OQ);
      acc = _mm256_sub_epi32(acc, _mm256_castps_si256(ge));  // -(-1) per lane that counts
    }
    int lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    for (int j = 0; j < 8; j++) k += lanes[j];
    acc = _mm256_setzero_si256();
  }
  return k + count_scalar(x, i, n, threshold);
}
#endif

ptrdiff_t spiqa_quant_count_at_least(const float *x, ptrdiff_t n, float threshold) {
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2) return count_avx2(x, n, threshold);
#endif
  return count_scalar(x, 0, n, threshold);
}

static ptrdiff_t sort_keys_scalar(const float *x, ptrdiff_t n, uint32_t *out, int keep_all, double above) {
  const uint32_t *u = (const uint32_t *)x;
  const uint32_t zero_key = 0x80000000u;
  ptrdiff_t k = 0;
  if (keep_all) {
    for (ptrdiff_t i = 0; i < n; i++) {
      uint32_t b = u[i];
      uint32_t key = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
      out[k] = key;
      k += key != zero_key;
    }
  } else {
    for (ptrdiff_t i = 0; i < n; i++) {
      uint32_t b = u[i];
      out[k] = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
      k += (double)x[i] > above;
    }
  }
  return k;
}

#if SPIQA_X86
// 16 keys at a time: the key transform with a sign mask, the test as a lane mask, kept keys compressed in a register
// and stored whole (k <= i, so the lanes past the kept ones stay inside `out`'s room; compress-stores to memory are
// microcoded and slower). `(double)x > above` is `x > below` for the largest float `below` whose double is
// <= above, so the test stays in float32.
AVX512 static ptrdiff_t sort_keys_avx512(const float *x, ptrdiff_t n, uint32_t *out, int keep_all, double above) {
  float below = (float)above;
  if ((double)below > above) below = nextafterf(below, -INFINITY);
  __m512i top = _mm512_set1_epi32((int)0x80000000u);
  __m512 limit = _mm512_set1_ps(below);
  ptrdiff_t i = 0, k = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i b = _mm512_loadu_si512((const void *)(x + i));
    __m512i sign = _mm512_srai_epi32(b, 31);
    __m512i key = _mm512_or_si512(_mm512_xor_si512(b, sign), _mm512_andnot_si512(sign, top));
    __mmask16 keep = keep_all ? _mm512_cmpneq_epi32_mask(key, top)
                              : _mm512_cmp_ps_mask(_mm512_castsi512_ps(b), limit, _CMP_GT_OQ);
    _mm512_storeu_si512((void *)(out + k), _mm512_maskz_compress_epi32(keep, key));
    k += __builtin_popcount(keep);
  }
  return k + sort_keys_scalar(x + i, n - i, out + k, keep_all, above);
}

// The same 8 keys at a time, compressed by a lane permutation (AVX2 has no compress instruction).
AVX2 static ptrdiff_t sort_keys_avx2(const float *x, ptrdiff_t n, uint32_t *out, int keep_all, double above) {
  float below = (float)above;
  if ((double)below > above) below = nextafterf(below, -INFINITY);
  __m256i top = _mm256_set1_epi32((int)0x80000000u);
  __m256 limit = _mm256_set1_ps(below);
  ptrdiff_t i = 0, k = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i b = _mm256_loadu_si256((const __m256i *)(x + i));
    __m256i sign = _mm256_srai_epi32(b, 31);
    __m256i key = _mm256_or_si256(_mm256_xor_si256(b, sign), _mm256_andnot_si256(sign, top));
    __m256 keep = keep_all ? _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(key, top), _mm256_set1_epi32(-1)))
                           : _mm256_cmp_ps(_mm256_castsi256_ps(b), limit, _CMP_GT_OQ);
    unsigned mask = (unsigned)_mm256_movemask_ps(keep);
    _mm256_storeu_si256((__m256i *)(out + k), _mm256_permutevar8x32_epi32(key, spiqa_compress_perm8(mask)));
    k += __builtin_popcount(mask);
  }
  return k + sort_keys_scalar(x + i, n - i, out + k, keep_all, above);
}
#endif

ptrdiff_t spiqa_quant_sort_keys(const float *x, ptrdiff_t n, uint32_t *out, int keep_all, double above) {
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX512) return sort_keys_avx512(x, n, out, keep_all, above);
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2) return sort_keys_avx2(x, n, out, keep_all, above);
#endif
  return sort_keys_scalar(x, n, out, keep_all, above);
}

void spiqa_quant_radix_sort(uint32_t *keys, uint32_t *scratch, ptrdiff_t n) {
  if (n < 2) return;
  if (n < 64) {
    // Most first-digit buckets of the parallel sort are this small; three histogram passes would dominate.
    for (ptrdiff_t i = 1; i < n; i++) {
      uint32_t k = keys[i];
      ptrdiff_t j = i;
      for (; j > 0 && keys[j - 1] > k; j--) keys[j] = keys[j - 1];
      keys[j] = k;
    }
    return;
  }
  static const int bits = 11, buckets = 1 << 11;
  ptrdiff_t counts[3][1 << 11] = {{0}};
  for (ptrdiff_t i = 0; i < n; i++) {
    uint32_t k = keys[i];
    counts[0][k & 0x7FF]++;
    counts[1][(k >> 11) & 0x7FF]++;
    counts[2][k >> 22]++;
  }
  uint32_t *src = keys, *dst = scratch;
  for (int pass = 0; pass < 3; pass++) {
    int shift = pass * bits;
    ptrdiff_t *c = counts[pass];
    if (c[(src[0] >> shift) & 0x7FF] == n) continue;  // every key has this digit
    ptrdiff_t total = 0;
    for (int b = 0; b < buckets; b++) {
      ptrdiff_t t = c[b];
      c[b] = total;
      total += t;
    }
    for (ptrdiff_t i = 0; i < n; i++) {
      uint32_t k = src[i];
      dst[c[(k >> shift) & 0x7FF]++] = k;
    }
    uint32_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != keys)
    for (ptrdiff_t i = 0; i < n; i++) keys[i] = src[i];
}

static ptrdiff_t zeros_scalar(const float *x, ptrdiff_t n) {
  ptrdiff_t z = 0;
  for (ptrdiff_t i = 0; i < n; i++) z += x[i] == 0.0f;
  return z;
}

#if SPIQA_X86
AVX2 static ptrdiff_t zeros_avx2(const float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride) {
  ptrdiff_t z = 0;
  __m256 zero = _mm256_setzero_ps();
  for (ptrdiff_t r = 0; r < rows; r++) {
    const float *p = x + r * stride;
    __m256i acc = _mm256_setzero_si256();  // one row holds far fewer than 2^31 values per lane
    ptrdiff_t i = 0;
    for (; i + 8 <= cols; i += 8)
      acc = _mm256_sub_epi32(acc, _mm256_castps_si256(_mm256_cmp_ps(_mm256_loadu_ps(p + i), zero, _CMP_EQ_OQ)));
    int lanes[8];
    _mm256_storeu_si256((__m256i *)lanes, acc);
    for (int j = 0; j < 8; j++) z += lanes[j];
    z += zeros_scalar(p + i, cols - i);
  }
  return z;
}
#endif

ptrdiff_t spiqa_quant_count_zeros(const float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride) {
#if SPIQA_X86
  if (spiqa_kernels_isa() >= SPIQA_ISA_AVX2) return zeros_avx2(x, rows, cols, stride);
#endif
  ptrdiff_t z = 0;
  for (ptrdiff_t r = 0; r < rows; r++) z += zeros_scalar(x + r * stride, cols);
  return z;
}

void spiqa_quant_bucket_count(const uint32_t *keys, ptrdiff_t n, uint32_t *counts, uint64_t *low_sums, uint32_t *bounds) {
  uint32_t smallest = bounds[0], largest = bounds[1];
  for (ptrdiff_t i = 0; i < n; i++) {
    uint32_t k = keys[i];
    smallest = k < smallest ? k : smallest;
    largest = k > largest ? k : largest;
    uint32_t b = (k >> 16) & (SPIQA_QUANT_BUCKETS - 1);
    counts[b]++;
    low_sums[b] += k & 0xFFFFu;
  }
  bounds[0] = smallest;
  bounds[1] = largest;
}

static ptrdiff_t gather_intervals_scalar(const uint32_t *keys, ptrdiff_t n, const uint32_t *lows,
                                         const uint32_t *highs, int count, uint32_t *out) {
  ptrdiff_t k = 0;
  for (ptrdiff_t i = 0; i < n; i++) {
    uint32_t key = keys[i];
    int in = 0;
    for (int j = 0; j < count; j++) in |= key >= lows[j] && key <= highs[j];
    out[k] = key;
    k += in;
  }
  return k;
}

#if SPIQA_X86
AVX512 static ptrdiff_t gather_intervals_avx512(const uint32_t *keys, ptrdiff_t n, const uint32_t *lows,
                                                const uint32_t *highs, int count, uint32_t *out) {
  __m512i lo[16], hi[16];
  for (int j = 0; j < count; j++) lo[j] = _mm512_set1_epi32((int)lows[j]), hi[j] = _mm512_set1_epi32((int)highs[j]);
  ptrdiff_t i = 0, k = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i key = _mm512_loadu_si512((const void *)(keys + i));
    __mmask16 keep = 0;
    for (int j = 0; j < count; j++) keep |= _mm512_cmpge_epu32_mask(key, lo[j]) & _mm512_cmple_epu32_mask(key, hi[j]);
    _mm512_storeu_si512((void *)(out + k), _mm512_maskz_compress_epi32(keep, key));
    k += __builtin_popcount(keep);
  }
  return k + gather_intervals_scalar(keys + i, n - i, lows, highs, count, out + k);
}

// 8 keys at a time. AVX2 has no unsigned compare: lo <= key <= hi is (key - lo) <= (hi - lo) unsigned, i.e.
// min(key - lo, hi - lo) == key - lo. That needs lo <= hi, so empty intervals are dropped first.
AVX2 static ptrdiff_t gather_intervals_avx2(const uint32_t *keys, ptrdiff_t n, const uint32_t *lows,
                                            const uint32_t *highs, int count, uint32_t *out) {
  __m256i lo[16], span[16];
  int m = 0;
  for (int j = 0; j < count; j++) {
    if (lows[j] > highs[j]) continue;
    lo[m] = _mm256_set1_epi32((int)lows[j]), span[m] = _mm256_set1_epi32((int)(highs[j] - lows[j])), m++;
  }
  ptrdiff_t i = 0, k = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i key = _mm256_loadu_si256((const __m256i *)(keys + i));
    __m256i keep = _mm256_setzero_si256();
    for (int j = 0; j < m; j++) {
      __m256i d = _mm256_sub_epi32(key, lo[j]);
      keep = _mm256_or_si256(keep, _mm256_cmpeq_epi32(_mm256_min_epu32(d, span[j]), d));
    }
    unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(keep));
    _mm256_storeu_si256((__m256i *)(out + k), _mm256_permutevar8x32_epi32(key, spiqa_compress_perm8(mask)));
    k += __builtin_popcount(mask);
  }
  return k + gather_intervals_scalar(keys + i, n - i, lows, highs, count, out + k);
}
#endif

ptrdiff_t spiqa_quant_gather_intervals(const uint32_t *keys, ptrdiff_t n, const uint32_t *lows, const uint32_t *highs,
                                       int count, uint32_t *out) {
#if SPIQA_X86
  if (count <= 16 && spiqa_kernels_isa() >= SPIQA_ISA_AVX512)
    return gather_intervals_avx512(keys, n, lows, highs, count, out);
  if (count <= 16 && spiqa_kernels_isa() >= SPIQA_ISA_AVX2)
    return gather_intervals_avx2(keys, n, lows, highs, count, out);
#endif
  return gather_intervals_scalar(keys, n, lows, highs, count, out);
}

int spiqa_quant_gather_intervals_max(void) {
  return SPIQA_X86 && spiqa_kernels_isa() >= SPIQA_ISA_AVX2 ? 8 : 0;
}

ptrdiff_t spiqa_quant_gather_buckets(const uint32_t *keys, ptrdiff_t n, const uint8_t *wanted, uint32_t *out) {
  ptrdiff_t k = 0;
  for (ptrdiff_t i = 0; i < n; i++) {
    uint32_t key = keys[i];
    out[k] = key;
    k += wanted[(key >> 16) & (SPIQA_QUANT_BUCKETS - 1)] != 0;
  }
  return k;
}

void spiqa_quant_top_digit_counts(const uint32_t *keys, ptrdiff_t n, ptrdiff_t *counts) {
  for (ptrdiff_t i = 0; i < n; i++) counts[keys[i] >> 21]++;
}

void spiqa_quant_scatter_top_digit(const uint32_t *keys, ptrdiff_t n, ptrdiff_t *offsets, uint32_t *out) {
  for (ptrdiff_t i = 0; i < n; i++) {
    uint32_t k = keys[i];
    out[offsets[k >> 21]++] = k;
  }
}

// The float32 value of a sort key, as float64 (the inverse of the key transform in spiqa_quant_sort_keys).
static inline double key_value(uint32_t k) {
  uint32_t b = (k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k;
  float f;
  memcpy(&f, &b, sizeof f);
  return (double)f;
}

typedef struct {
  const uint32_t *keys;
  ptrdiff_t zeros_at, zeros;
} virtual_keys;

static inline double virtual_at(const virtual_keys *s, ptrdiff_t i) {
  if (i < s->zeros_at) return key_value(s->keys[i]);
  if (i < s->zeros_at + s->zeros) return 0.0;
  return key_value(s->keys[i - s->zeros]);
}

// numpy's leaf (n <= 128): eight accumulators over strided elements, combined as a tree, then the tail.
static double leaf_sum(const double *v, ptrdiff_t n) {
  double r[8];
  for (int k = 0; k < 8; k++) r[k] = v[k];
  ptrdiff_t i = 8;
  for (; i < n - (n % 8); i += 8)
    for (int k = 0; k < 8; k++) r[k] += v[i + k];
  double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; i++) res += v[i];
  return res;
}

static double pairwise(const virtual_keys *s, ptrdiff_t lo, ptrdiff_t n) {
  ptrdiff_t zeros_end = s->zeros_at + s->zeros;
  // A stretch of +0.0 adds up to +0.0 in any tree.
  if (lo >= s->zeros_at && lo + n <= zeros_end) return 0.0;
  if (n < 8) {
    double res = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) res += virtual_at(s, lo + i);
    return res;
  }
  if (n <= 128) {
    double v[128];
    if (lo + n <= s->zeros_at || lo >= zeros_end) {
      // Inside one stretch of keys: read them directly.
      const uint32_t *p = s->keys + (lo >= zeros_end ? lo - s->zeros : lo);
      for (ptrdiff_t i = 0; i < n; i++) v[i] = key_value(p[i]);
    } else {
      for (ptrdiff_t i = 0; i < n; i++) v[i] = virtual_at(s, lo + i);
    }
    return leaf_sum(v, n);
  }
  ptrdiff_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(s, lo, n2) + pairwise(s, lo + n2, n - n2);
}

double spiqa_quant_pairwise_sum(const uint32_t *keys, ptrdiff_t zeros_at, ptrdiff_t zeros, ptrdiff_t lo,
                                ptrdiff_t n) {
  virtual_keys s = {keys, zeros_at, zeros};
  return pairwise(&s, lo, n);
}

// One value at a time: a branch-free lower bound (Khuong and Morin: a conditional move per step, where a binary
// search mispredicts about once a value on a few levels), then the first level there with the value's bit pattern.
static ptrdiff_t codes_scalar(const float *x, ptrdiff_t n, const float *levels, ptrdiff_t count, uint16_t *out) {
  for (ptrdiff_t i = 0; i < n; i++) {
    const float v = x[i];
    const float *base = levels;
    for (ptrdiff_t len = count; len > 1; len -= len >> 1)
      base = __builtin_unpredictable(base[len >> 1] < v) ? base + (len >> 1) : base;
    ptrdiff_t c = (base - levels) + (*base < v);
    uint32_t value_bits, level_bits;
    memcpy(&value_bits, &v, 4);
    for (; c < count && levels[c] == v; c++) {  // equal floats, other bits: only -0.0 beside +0.0
      memcpy(&level_bits, levels + c, 4);
      if (level_bits == value_bits) break;
    }
    if (c >= count || levels[c] != v) return i;
    out[i] = (uint16_t)c;
  }
  return n;
}

#if SPIQA_X86
// Up to 64 levels (a data-dependent method's per-layer levels together): 16 values against each level's bit
// pattern; the lowest matching level wins, as in the scalar search. A block with a value that is no level goes to
// the scalar path, which stops at that value.
AVX512 static ptrdiff_t codes_avx512(const float *x, ptrdiff_t n, const float *levels, ptrdiff_t count,
                                     uint16_t *out) {
  uint32_t bits[SPIQA_QUANT_CODES_VECTOR_MAX];
  memcpy(bits, levels, (size_t)count * 4);
  ptrdiff_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i v = _mm512_loadu_si512((const void *)(x + i));
    __m512i code = _mm512_setzero_si512();
    __mmask16 found = 0;
    for (ptrdiff_t j = count - 1; j >= 0; j--) {
      const __mmask16 m = _mm512_cmpeq_epi32_mask(v, _mm512_set1_epi32((int)bits[j]));
      code = _mm512_mask_mov_epi32(code, m, _mm512_set1_epi32((int)j));
      found |= m;
    }
    if (found != 0xFFFF) return i + codes_scalar(x + i, 16, levels, count, out + i);
    _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(code));
  }
  return i + codes_scalar(x + i, n - i, levels, count, out + i);
}
#endif

ptrdiff_t spiqa_quant_codes(const float *x, ptrdiff_t n, const float *levels, ptrdiff_t count, uint16_t *out) {
#if SPIQA_X86
  if (count <= SPIQA_QUANT_CODES_VECTOR_MAX && spiqa_kernels_isa() >= SPIQA_ISA_AVX512)
    return codes_avx512(x, n, levels, count, out);
#endif
  return codes_scalar(x, n, levels, count, out);
}
