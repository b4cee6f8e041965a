#!/usr/bin/env python3
"""Layer × head grid of attention-value histograms with their CDF, from `spiqa-hist --npy` arrays.

  python3 scripts/plot_hist_grid.py HIST.npy OUT_PREFIX [--layers 0,1] [--heads 0-3] [--own-y]

Writes OUT_PREFIX.png and .pdf. Each panel: the fraction of the head's values per bin (bars, log-spaced x for
log bins) and the cumulative fraction (line, right axis). Title: sparsity = exact-zero fraction (§3.2). The bars
share one y scale across the grid, so panels compare at a glance; --own-y gives each panel its own (the y label says
which).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python", "src"))
import spiqa  # noqa: E402  (this checkout's python/src; `pip install ./python` installs the same package)
import spiqa.plot  # noqa: E402


def index_list(s, have):
    if not s:
        return list(range(len(have)))
    out = []
    for part in s.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return [list(have).index(v) for v in out]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("npy")
    p.add_argument("out")
    p.add_argument("--layers")
    p.add_argument("--heads")
    p.add_argument("--own-y", action="store_true", help="a y scale per panel (default: one for the whole grid)")
    a = p.parse_args()
    A = spiqa.hist_arrays(a.npy)
    hdr = A.header
    edges = A["edges"]
    log = hdr.get("bins") in ("log", "log20", "js") or (edges[0] > 0 and edges[-1] / edges[0] > 1e3)
    li = index_list(a.layers, A["layers"])
    hi = index_list(a.heads, A["heads"])
    H = A["histogram"]
    R, C = len(li), len(hi)
    # 8-pt text at the saved size (spiqa.plot): a panel fits its title and three log ticks at 1.8 × 1.45 in.
    fig, axes = plt.subplots(R, C, figsize=(1.8 * C + 1.3, 1.45 * R + 1.3), squeeze=False, sharex=True,
                             sharey=not a.own_y)
    left = edges[:-1]
    widths = np.diff(edges)
    peaks = {}  # axes → its highest bar
    for r, l in enumerate(li):
        for c, h in enumerate(hi):
            ax = axes[r, c]
            counts = H[l, h].astype(float)
            tot = counts.sum()
            frac = counts / tot if tot else counts
            ax.bar(left, frac, width=widths, align="edge", color="tab:blue", linewidth=0)
            ax2 = ax.twinx()
            ax2.plot(edges[1:], np.cumsum(frac), color="tab:red", linewidth=1)
            ax2.set_ylim(0, 1.02)
            if c == C - 1:
                ax2.set_ylabel("CDF", color="tab:red", fontsize=8)
                ax2.tick_params(labelsize=8, colors="tab:red")
                ax2.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
            else:
                ax2.set_yticks([0, 0.5, 1], [])
            if log:
                ax.set_xscale("log")
                ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(numticks=4))
                spiqa.plot.log_labels(ax.xaxis)
            sp = A["zeros"][l, h] / max(A["values"][l, h], 1)
            ax.set_title(f"L{A['layers'][l]} H{A['heads'][h]}  zeros {sp:.1%}", fontsize=8)
            peaks[ax] = float(frac.max())
            if a.own_y:
                ax.set_ylim(0, max(peaks[ax] * 1.15, 1e-3))
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3))
            ax.tick_params(labelsize=8)
    if not a.own_y:
        # One scale for the grid; a few outlier panels (e.g. a head with most values in one bin) would flatten all the
        # others, so the scale grows from 3× the median peak only in steps of at most 1.5×, and a peak beyond that is
        # cut at the top with its height written in the panel.
        ordered = sorted(peaks.values())
        top = max([v for v in ordered if v <= 3 * float(np.median(ordered))] or ordered[:1])
        for v in ordered:
            if top < v <= 1.5 * top:
                top = v
        axes[0, 0].set_ylim(0, max(top * 1.05, 1e-3))
        for ax, v in peaks.items():
            if v > top * 1.05:
                ax.text(0.05, 0.45, f"peak {v:.2f}\n(cut off)", transform=ax.transAxes, ha="left", va="center",
                        fontsize=8, color="tab:blue", bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1))
    recs = hdr.get("records", "?")
    src = spiqa.plot.source_text(hdr)
    fig.suptitle(f"Attention value distribution per layer × head ({hdr.get('bins', '')} bins; bars = fraction per bin, "
                 f"red = CDF" + (f")\n{src} · {recs} records" if src else f"; {recs} records)"), fontsize=9)
    fig.supxlabel("attention value" + (f" + {hdr.get('offset', 0):g}" if hdr.get("offset") else "")
                  + (" (log-spaced bins)" if log else ""), fontsize=9)
    fig.supylabel("fraction of values per bin " + ("(own scale per panel)" if a.own_y else
                                                   "(one scale, all panels)"), fontsize=9)
    fig.tight_layout(rect=(0.012, 0, 1, 1))
    spiqa.plot.save_figure(fig, a.out)


if __name__ == "__main__":
    main()
