#!/usr/bin/env python3
"""Per-row (per-token) histogram spread of one head, like the reference's at_hist_per_token_layer_L_head_H.png
(§3.3): row histograms on a log x axis, the row CDF on a twin axis, and a side strip with the distribution of
row sparsity.

  python3 scripts/plot_row_spread.py HIST.npy OUT_PREFIX --layer L --head H [--per-row ROWS.npy.gz] [--max-rows N]

From `spiqa-hist --npy` alone the rows are drawn as a density (share of rows whose fraction in a bin falls in
each level) with the mean row histogram on top; with `--per-row` (spiqa-hist --per-row) every row is drawn as a
faint line as the reference did (at most --max-rows rows, the first ones of the stream).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python", "src"))
import spiqa  # noqa: E402  (this checkout's python/src; `pip install ./python` installs the same package)
import spiqa.plot  # noqa: E402


def quantile_from_levels(counts, q):
    """Per bin, the level edge below which a fraction q of rows lie: counts [bins, levels] → [bins] in [0,1]."""
    c = np.cumsum(counts, axis=1)
    tot = c[:, -1:]
    idx = np.argmax(c >= q * np.maximum(tot, 1), axis=1)
    return (idx + 1) / counts.shape[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("npy")
    p.add_argument("out")
    p.add_argument("--layer", type=int, required=True, help="model layer index")
    p.add_argument("--head", type=int, required=True, help="head index")
    p.add_argument("--per-row", help="spiqa-hist --per-row output for faint per-row lines")
    p.add_argument("--max-rows", type=int, default=3000)
    p.add_argument("--ymax", type=float, default=None, help="upper limit of the fraction axis (reference: 0.2)")
    a = p.parse_args()
    A = spiqa.hist_arrays(a.npy)
    layers, heads = list(A["layers"]), list(A["heads"])
    if a.layer not in layers or a.head not in heads:
        sys.exit(f"plot_row_spread: layer {a.layer} / head {a.head} not in layers {layers} heads {heads}")
    l, h = layers.index(a.layer), heads.index(a.head)
    edges = A["edges"]
    left = edges[:-1]
    B = len(left)
    spread = A["row_hist_spread"][l, h].astype(float)  # [bins, levels]
    cdf_spread = A["row_cdf_spread"][l, h].astype(float)
    levels = spread.shape[1]
    rows = int(A["rows"][l, h])

    fig = plt.figure(figsize=(10, 5.2))
    if a.per_row:
        gs = fig.add_gridspec(1, 2, width_ratios=[5, 1.1], wspace=0.3)
        side_slot = gs[1]
    else:
        gs = fig.add_gridspec(1, 4, width_ratios=[5, 0.12, 0.25, 1.1], wspace=0.3)
        side_slot = gs[3]
    ax = fig.add_subplot(gs[0])
    ax2 = ax.twinx()
    drawn = 0
    nonzero = []  # fractions > 0 of drawn rows, for the default y range
    if a.per_row:
        for meta, arr in spiqa.open(a.per_row):
            if meta.get("name") != "row_histogram":
                continue
            li, hi = meta["layers"].index(a.layer), meta["heads"].index(a.head)
            c = arr[li, hi].astype(float)
            tot = c.sum(axis=1, keepdims=True)
            c = c[tot[:, 0] > 0] / tot[tot[:, 0] > 0]
            nonzero.append(c[c > 0])
            for row in c:
                if drawn >= a.max_rows:
                    break
                ax.plot(left, row, color="tab:blue", alpha=max(0.01, min(0.3, 20 / max(rows, 1))), linewidth=0.6)
                ax2.plot(left, np.cumsum(row), color="tab:red", alpha=max(0.005, min(0.15, 10 / max(rows, 1))),
                         linewidth=0.6)
                drawn += 1
            if drawn >= a.max_rows:
                break
    else:
        share = spread / np.maximum(spread.sum(axis=1, keepdims=True), 1)
        share[:, 0] = np.nan  # level 0 (fraction < 1/levels) is the background
        share[share == 0] = np.nan
        ylev = np.linspace(0, 1, levels + 1)
        mesh = ax.pcolormesh(edges, ylev, share.T, cmap="Blues", norm=LogNorm(vmin=1e-3, vmax=1), shading="flat")
        cb = fig.colorbar(mesh, cax=fig.add_subplot(gs[1]))
        cb.set_label("share of rows at this fraction", fontsize=8)
        spiqa.plot.log_labels(cb.ax.yaxis)
        per_level = spread[:, 1:].sum(axis=0)
        if per_level.sum() > 0:
            k = int(np.argmax(np.cumsum(per_level) >= 0.99 * per_level.sum()))
            nonzero.append(np.array([(k + 2) / levels]))
        lo, hi_ = quantile_from_levels(cdf_spread, 0.1), quantile_from_levels(cdf_spread, 0.9)
        ax2.fill_between(edges[1:], lo, hi_, step="pre", color="tab:red", alpha=0.15, label="row CDF 10–90%")
    mean = A["row_hist_mean"][l, h]
    ax.plot(left, mean, color="black", linewidth=1.4, label="mean row histogram")
    ax2.plot(edges[1:], A["row_cdf_mean"][l, h], color="tab:red", linewidth=1.4, label="mean row CDF")
    ax.set_xscale("log")
    spiqa.plot.log_labels(ax.xaxis)
    top = float(np.quantile(np.concatenate(nonzero), 0.99)) if nonzero and sum(map(len, nonzero)) else 0.0
    ymax = a.ymax if a.ymax is not None else min(1.0, max(0.05, float(np.nanmax(mean)) * 2.2, top * 1.05))
    ax.set_ylim(0, ymax)
    ax2.set_ylim(0, 1.0)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(f"attention value + {A.header.get('offset', 0):g} (log bins, left edges)")
    ax.set_ylabel("fraction of the row's values in the bin")
    ax2.set_ylabel("row CDF", color="tab:red")
    ax2.tick_params(axis="y", colors="tab:red")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8, frameon=False)
    note = f", {drawn} drawn" if a.per_row else ""
    src = spiqa.plot.source_text(A.header)
    fig.suptitle(f"Layer {a.layer} head {a.head}: per-row histograms of {rows} rows{note}"
                 + (f"\n{src} · {A.header.get('records', '?')} records" if src else
                    f" ({A.header.get('records', '?')} records)"), fontsize=9)
    # Tokens to majority is 0-based (spiqa-hist, reference §3.3): 0 means the largest value alone is over half the
    # row, so the title gives the count of tokens that hold the majority (ttm + 1) beside the raw column.
    tm, ts = float(A["ttm_mean"][l, h]), float(A["ttm_std"][l, h])
    ax.set_title(f"majority (> ½ of a row) held by {tm + 1:.2f} ± {ts:.2f} tokens "
                 f"(tokens to majority, 0-based: {tm:.2f})", fontsize=9)

    side = fig.add_subplot(side_slot)
    sh = A["row_sparsity_hist"][l, h].astype(float)
    sh = sh / max(sh.sum(), 1)
    nb = len(sh)
    side.barh(np.arange(nb) / nb, sh, height=1 / nb, align="edge", color="tab:gray")
    side.set_ylim(0, 1)
    side.set_xlim(0, 1)
    side.yaxis.set_label_position("right")
    side.yaxis.tick_right()
    side.set_ylabel(f"row sparsity (share of values ≤ {A.header.get('row_sparsity_bar', 1e-8):g})")
    side.set_xlabel("share of rows")
    side.set_title(f"row sparsity\nmean {A['row_sparsity_mean'][l, h]:.2f}", fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.12, top=0.84 if src else 0.87)
    spiqa.plot.save_figure(fig, a.out)


if __name__ == "__main__":
    main()
