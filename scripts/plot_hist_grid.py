#!/usr/bin/env python3
"""Layer × head grid of attention-value histograms with their CDF, from `spiqa-hist --npy` arrays.

  python3 scripts/plot_hist_grid.py HIST.npy OUT_PREFIX [--layers 0,1] [--heads 0-3]

Writes OUT_PREFIX.png and .pdf. Each panel: the fraction of the head's values per bin (bars, log-spaced x for
log bins) and the cumulative fraction (line, right axis). Title: sparsity = exact-zero fraction (§3.2).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
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
    a = p.parse_args()
    A = spiqa.hist_arrays(a.npy)
    hdr = A.header
    edges = A["edges"]
    log = hdr.get("bins") in ("log", "log20", "js") or (edges[0] > 0 and edges[-1] / edges[0] > 1e3)
    li = index_list(a.layers, A["layers"])
    hi = index_list(a.heads, A["heads"])
    H = A["histogram"]
    R, C = len(li), len(hi)
    fig, axes = plt.subplots(R, C, figsize=(1.55 * C + 1.2, 1.35 * R + 1.1), squeeze=False, sharex=True)
    left = edges[:-1]
    widths = np.diff(edges)
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
                ax2.set_ylabel("CDF", color="tab:red", fontsize=7)
                ax2.tick_params(labelsize=6, colors="tab:red")
            else:
                ax2.set_yticklabels([])
            if log:
                ax.set_xscale("log")
            sp = A["zeros"][l, h] / max(A["values"][l, h], 1)
            ax.set_title(f"L{A['layers'][l]} H{A['heads'][h]}  zeros {sp:.1%}", fontsize=7)
            ax.set_ylim(0, max(float(frac.max()) * 1.15, 1e-3))
            ax.tick_params(labelsize=6)
    recs = hdr.get("records", "?")
    fig.suptitle(f"Attention value distribution per layer × head ({recs} records, {hdr.get('bins', '')} bins; "
                 "bars = fraction per bin, red = CDF)", fontsize=9)
    fig.supxlabel("attention value" + (f" + {hdr.get('offset', 0):g}" if hdr.get("offset") else "")
                  + (" (log-spaced bins)" if log else ""), fontsize=8)
    fig.supylabel("fraction of values per bin (own scale per panel)", fontsize=8)
    fig.tight_layout(rect=(0.012, 0, 1, 1))
    spiqa.plot.save_figure(fig, a.out)


if __name__ == "__main__":
    main()
