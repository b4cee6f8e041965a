#ifndef SPIQA_QUANT_KERNELS_H
#define SPIQA_QUANT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Most segments `spiqa_quant_steps_rows` takes (it compares every value with every segment start).
#define SPIQA_QUANT_STEPS_MAX 64

/// A monotone step function on [0, 1], in place, over the `[rows, cols]` corner of a row-major matrix of row stride
/// `stride`, from flat position `from` (row · cols + column): a value in [0, 1) becomes `values[j]`, j the last
/// segment with `starts[j] <= bits(value)` (`starts[0] == 0`, ascending float32 bit patterns, `count` ≤
/// SPIQA_QUANT_STEPS_MAX), and 1.0 becomes `at_one`. Stops at the first value outside [0, 1] (negative, -0.0, above
/// 1, NaN), which the caller handles with its own formula, and returns its flat position (`rows · cols` when every
/// value was mapped); call again from the next position. Exact: only compares and selects. One setup per call.
ptrdiff_t spiqa_quant_steps_rows(float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, ptrdiff_t from,
                                 const uint32_t *starts, const float *values, int count, float at_one);

/// Buckets of the sort keys of positive float32 values (`spiqa_quant_sort_keys`) by their bits 16…30: the float's
/// exponent and top 7 mantissa bits.
#define SPIQA_QUANT_BUCKETS 32768

/// For each key: `counts[b] += 1` and `low_sums[b] += key & 0xFFFF`, b its bucket (bits 16…30); `bounds[0]` and
/// `bounds[1]` become the smallest and largest key seen (start them at UINT32_MAX and 0). For keys of positive floats,
/// a bucket's values are its lowest value plus multiples of one ulp, so its count and low-bit sum give its exact sum.
void spiqa_quant_bucket_count(const uint32_t *keys, ptrdiff_t n, uint32_t *counts, uint64_t *low_sums, uint32_t *bounds);

/// Copies the keys that fall in any of the `count` intervals `[lows[j], highs[j]]` to `out`, in order; returns how
/// many. `out` needs room for 16 keys more than are copied. Up to 16 intervals run 16 keys at a time (AVX-512) or 8
/// (AVX2).
ptrdiff_t spiqa_quant_gather_intervals(const uint32_t *keys, ptrdiff_t n, const uint32_t *lows, const uint32_t *highs,
                                       int count, uint32_t *out);

/// The most intervals for which `spiqa_quant_gather_intervals` is faster than `spiqa_quant_gather_buckets` at the
/// calling thread's level: 8 with AVX2 or AVX-512 (one compare per interval and 8 or 16 keys; the bucket table costs
/// one load per key whatever the intervals), 0 in portable C (one compare per interval and key: the table was
/// 2.4× faster for one interval, 20× for 16).
int spiqa_quant_gather_intervals_max(void);

/// Copies the keys whose bucket has `wanted[bucket] != 0` to `out`; returns how many. Every key is stored at the
/// next free slot before the test, so `out` needs room for one key more than are copied (or for `n`).
ptrdiff_t spiqa_quant_gather_buckets(const uint32_t *keys, ptrdiff_t n, const uint8_t *wanted, uint32_t *out);

/// Number of exact zeros (+0.0 or -0.0) in the `[rows, cols]` corner of a row-major matrix of row stride `stride`.
ptrdiff_t spiqa_quant_count_zeros(const float *x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride);

/// Number of `x[i] >= threshold` (float32 compare; NaN never counts).
ptrdiff_t spiqa_quant_count_at_least(const float *x, ptrdiff_t n, float threshold);

/// Writes the order-preserving sort key of each value the data-dependent statistics take to `out` (room for `n`)
/// and returns how many: every value except +0.0 when `keep_all`, else values with `(double)x > above`. The key of
/// a float is its bit pattern with the sign bit set, or all bits flipped for a negative float (integer order =
/// numeric order, NaN at the ends).
ptrdiff_t spiqa_quant_sort_keys(const float *x, ptrdiff_t n, uint32_t *out, int keep_all, double above);

/// Sorts `keys` ascending (LSD radix, three 11-bit digits, stable; one read for the three histograms, a digit
/// shared by every key skipped; insertion sort below 64 keys). `scratch` has room for `n`. The result is in `keys`.
void spiqa_quant_radix_sort(uint32_t *keys, uint32_t *scratch, ptrdiff_t n);

/// Buckets of the parallel sort's first (most significant) digit: the top 11 bits of a key.
#define SPIQA_QUANT_TOP_DIGITS 2048

/// `counts[key >> 21] += 1` for each key (the histogram of the first digit; `counts` has SPIQA_QUANT_TOP_DIGITS
/// entries).
void spiqa_quant_top_digit_counts(const uint32_t *keys, ptrdiff_t n, ptrdiff_t *counts);

/// Writes each key to `out[offsets[key >> 21]++]`: keys in order of their first digit, each digit's keys in input
/// order (`offsets` has SPIQA_QUANT_TOP_DIGITS entries, each where that digit's keys from this input start).
void spiqa_quant_scatter_top_digit(const uint32_t *keys, ptrdiff_t n, ptrdiff_t *offsets, uint32_t *out);

/// numpy's pairwise float64 sum (`pairwise_sum_DOUBLE`: blocks of 128 in 8 accumulators, halves above) of the
/// values at positions `[lo, lo + n)` of a sorted sequence given as sorted keys with `zeros` keys of +0.0 left out:
/// `keys[0 ..< zeros_at]`, then `zeros` times +0.0, then `keys[zeros_at ...]`. Bit for bit `np.add.reduce` of those
/// float32 values as float64, without the reduction's leading `0.0 +`.
double spiqa_quant_pairwise_sum(const uint32_t *keys, ptrdiff_t zeros_at, ptrdiff_t zeros, ptrdiff_t lo,
                                ptrdiff_t n);

/// The code of each value: `out[i]` = the index of the first level with `x[i]`'s bit pattern (`levels`: `count`
/// ≥ 1 ascending floats, no NaN, at most 65536). Up to 64 levels, 16 values are compared with every level at once
/// (AVX-512); beyond, a branch-free binary search finds the lower bound. Stops at the first value whose bit pattern
/// is not a level and returns its index (`n` when every value was coded).
ptrdiff_t spiqa_quant_codes(const float *x, ptrdiff_t n, const float *levels, ptrdiff_t count, uint16_t *out);

#ifdef __cplusplus
}
#endif

#endif
