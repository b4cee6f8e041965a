#!/usr/bin/env python3
"""Layers × heads sparsity heatmap with the value in each cell, from `spiqa-hist --npy` arrays.

  python3 scripts/plot_sparsity_grid.py HIST.npy OUT_PREFIX [--threshold T]

Without --threshold: the exact-zero fraction per head (§3.2 sparsity over real n×n blocks). With --threshold T
(one of the thresholds spiqa-hist was run with): the fraction of values ≤ T.
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("npy")
    p.add_argument("out")
    p.add_argument("--threshold", type=float)
    a = p.parse_args()
    A = spiqa.hist_arrays(a.npy)
    values = A["values"].astype(float)
    if a.threshold is None:
        S = A["zeros"] / values
        what = "exact zeros"
    else:
        th = A["thresholds"]
        j = int(np.argmin(np.abs(np.log(th + 1e-300) - np.log(a.threshold + 1e-300))))
        if not np.isclose(th[j], a.threshold, rtol=1e-6):
            sys.exit(f"plot_sparsity_grid: threshold {a.threshold} not among {th.tolist()}")
        S = A["le_counts"][:, :, j] / values
        what = f"values ≤ {th[j]:g}"
    L, H = S.shape
    # A cell fits its value at 8 pt (the smallest text spiqa.plot lets a figure have); 6 in fit the title.
    fig, ax = plt.subplots(figsize=(max(0.62 * H + 2.2, 6.0), 0.5 * L + 1.8))
    im = ax.imshow(S, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for l in range(L):
        for h in range(H):
            v = S[l, h]
            ax.text(h, l, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
    ax.set_xticks(range(H), [str(h) for h in A["heads"]])
    ax.set_yticks(range(L), [str(l) for l in A["layers"]])
    ax.set_xlabel("head")
    ax.set_ylabel("layer")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(f"fraction of {what}")
    overall = (S * values).sum() / values.sum()
    src = spiqa.plot.source_text(A.header)
    ax.set_title(f"Sparsity per head: fraction of {what} (all heads: {overall:.3f}; "
                 f"{A.header.get('records', '?')} records)" + (f"\n{src}" if src else ""), fontsize=9)
    fig.tight_layout()
    spiqa.plot.save_figure(fig, a.out)


if __name__ == "__main__":
    main()
