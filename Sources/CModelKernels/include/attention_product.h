#ifndef SPIQA_ATTENTION_PRODUCT_H
#define SPIQA_ATTENTION_PRODUCT_H

#include <stddef.h>
#include <stdint.h>

/// P·V for attention that is mostly zeros or takes few values (docs/runtime.md, "P·V from the codes"): one
/// (item, head) block at a time, P `[n, n]` (row stride `ldp`), V `[n, d]` (row stride `ldv`), out `[n, d]`
/// (row stride `ldo`). Only the nonzero entries of P are read past the scan; each row's products are summed in
/// column order within a level, so results differ from sgemm's in the last bits only.

#ifdef __cplusplus
extern "C" {
#endif

/// Largest `count` of `spiqa_pv_levels`.
#define SPIQA_PV_LEVELS_MAX 64

/// `out[r] = Σ_c P[r, c] · V[c]` over the entries kept: `P[r, c] != 0` and not `P[r, c] < prune_below` (pruning
/// fused in: `prune_below = 0` keeps every nonzero; NaN is kept, as sgemm would propagate it). P is not written.
/// Returns the number of entries kept (the block's nonzeros after pruning).
ptrdiff_t spiqa_pv_sparse(const float *p, ptrdiff_t n, ptrdiff_t ldp, float prune_below, const float *v,
                          ptrdiff_t ldv, ptrdiff_t d, float *out, ptrdiff_t ldo);

/// Quantization fused into P·V, from the codes: an entry whose bit pattern `u` is below `prune_bits` has code 0
/// (pruned); otherwise, in `[0, 1.0)`, the segment `j` with `starts[j] <= u < starts[j+1]` (`starts[0] == 0`,
/// ascending, `count` of them, ≤ SPIQA_PV_LEVELS_MAX), standing for `values[j]`; the input 1.0 stands for
/// `at_one`. `values[0]` must be 0 and no other value 0 (`at_one` may be). Per row, the V rows of each code are
/// summed, then `out[r] = Σ_j values[j] · sum_j` (one multiply per code and column instead of one per entry). P is
/// not written.
/// Returns the number of nonzero codes, or −1 (out partly written) when an entry is negative, above 1 or NaN,
/// which the quantizer's formula, not its segments, maps: the caller then quantizes P in place and uses sgemm.
ptrdiff_t spiqa_pv_levels(const float *p, ptrdiff_t n, ptrdiff_t ldp, uint32_t prune_bits, const uint32_t *starts,
                          const float *values, int count, float at_one, const float *v, ptrdiff_t ldv, ptrdiff_t d,
                          float *out, ptrdiff_t ldo);

/// `spiqa_pv_levels`'s quantization with a plain sparse product: each kept entry's value (`values[j]`, or
/// `at_one` for 1.0) is looked up from its code and multiplied into its V row, as in `spiqa_pv_sparse` — no
/// grouping by code. Same arguments, result and −1 as `spiqa_pv_levels`; the results differ from it in the
/// last bits only. The faster of the two on CPUs, where an add costs what a multiply-add does (docs/runtime.md).
ptrdiff_t spiqa_pv_codes(const float *p, ptrdiff_t n, ptrdiff_t ldp, uint32_t prune_bits, const uint32_t *starts,
                         const float *values, int count, float at_one, const float *v, ptrdiff_t ldv, ptrdiff_t d,
                         float *out, ptrdiff_t ldo);

/// `out = P·V` as sgemm computes it, less the columns of P that are zero in every row of a group of 4 rows: each
/// kept column's V row is loaded once for the group and multiplied by the group's 4 entries (zeros included), so
/// the work is the share of (group, column) pairs kept — on pruned or quantized attention often half or less
/// (docs/runtime.md, "P·V by row groups"). When `prune_below` is positive, entries below it are first set to 0 in
/// P (pruning fused in); P is otherwise not written. NaN counts as nonzero. Each row's products are summed in
/// column order, so results differ from sgemm's in the last bits only. Returns the nonzero entries of the `[n, n]`
/// block (after pruning) and, when `columns` is not NULL, the (group, column) pairs multiplied in `*columns`; −1
/// when out of memory (P and out not written).
ptrdiff_t spiqa_pv_groups(float *p, ptrdiff_t n, ptrdiff_t ldp, float prune_below, const float *v, ptrdiff_t ldv,
                          ptrdiff_t d, float *out, ptrdiff_t ldo, ptrdiff_t *columns);

#ifdef __cplusplus
}
#endif

#endif
