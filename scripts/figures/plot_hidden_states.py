#!/usr/bin/env python3
"""Figure (i): per-token histograms of hidden-state values (reference §3.6 `-hs`; docs/hist.md "Hidden states").

  python3 scripts/figures/plot_hidden_states.py HS_HIST.npy OUT_PREFIX --title TEXT [--all-layers]

Reads `spiqa-hist --hidden-states --npy`: 100 linear bins over [-5, 5], each token's histogram weighted 1/hidden.
One panel per layer output (hidden-state indices 1…L, as the reference's 3 × 4 grid; --all-layers adds the
embedding output 0). Bars: the mean over tokens of a token's fraction per bin; shaded: the 10–90 % range of the
tokens' fractions (exact, from the per-bin token counts `row_count_spread`); red, right axis: the cumulative
fraction of all values; the title gives min/max and the share of values outside [-5, 5].
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python", "src"))
import rows as R  # noqa: E402
from rows import plt  # noqa: E402
import spiqa  # noqa: E402


def quantile(spread, q):
    """Per bin, the q-quantile of the tokens' fractions k/hidden: spread [bins, hidden + 1] token counts by k."""
    c = np.cumsum(spread, axis=-1)
    k = np.argmax(c >= q * np.maximum(c[..., -1:], 1), axis=-1)
    return k / (spread.shape[-1] - 1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("npy")
    p.add_argument("out")
    p.add_argument("--title", required=True)
    p.add_argument("--all-layers", action="store_true")
    a = p.parse_args()
    A = spiqa.hist_arrays(a.npy)
    layers = [int(x) for x in A["layers"]]
    keep = [i for i, l in enumerate(layers) if a.all_layers or l > 0]
    E = np.asarray(A["edges"])
    width = np.diff(E)
    cols = min(len(keep), 4 if len(keep) > 6 else 3)
    rows_ = int(np.ceil(len(keep) / cols))
    # One y scale for every layer (ymax over all of them), so the layers compare at a glance.
    fig, axes = plt.subplots(rows_, cols, figsize=(4.3 * cols, 3.5 * rows_ + 0.9), squeeze=False, sharex=True,
                             sharey=True)
    ymax = 0
    for i in keep:
        ymax = max(ymax, float(quantile(A["row_count_spread"][i], 0.9).max()))
    ymax = min(1.0, ymax * 1.1 + 0.01)
    for ax in axes.ravel()[len(keep):]:
        ax.axis("off")
    for ax, i in zip(axes.ravel(), keep):
        l = layers[i]
        mean = A["row_fraction_mean"][i]
        lo = quantile(A["row_count_spread"][i], 0.1)
        hi = quantile(A["row_count_spread"][i], 0.9)
        ax.fill_between(E, np.append(lo, lo[-1]), np.append(hi, hi[-1]), step="post", color="tab:blue", alpha=0.25, linewidth=0,
                        label="tokens 10–90 %")
        ax.bar(E[:-1], mean, width=width, align="edge", color="tab:blue", label="mean per token")
        ax.set_ylim(0, ymax)
        ax.set_xlim(E[0], E[-1])
        ax.grid(linestyle="--", color="grey", alpha=0.4)
        ax.tick_params(labelsize=9)
        v = float(A["values"][i])
        out = (float(A["below"][i]) + float(A["above"][i])) / v
        name = "embeddings" if l == 0 else f"layer {l - 1} output"
        ax.set_title(f"h[{l}] ({name})\nmin {float(A['min'][i]):.2f}, max {float(A['max'][i]):.2f}, "
                     f"outside [{E[0]:g}, {E[-1]:g}]: {100 * out:.2f} %", fontsize=9)
        ax2 = ax.twinx()
        ax2.plot(E[1:], np.cumsum(A["histogram"][i]) / v, color="tab:red", linewidth=1.2, label="CDF, all values")
        ax2.set_ylim(0, 1)
        ax2.tick_params(labelsize=9, colors="tab:red")
    for ax in axes[-1]:
        ax.set_xlabel("hidden-state value", fontsize=9)
    for r in axes:
        r[0].set_ylabel("fraction of a token's values", fontsize=9)
    h1, l1 = axes[0, 0].get_legend_handles_labels()
    fig.legend(h1 + [plt.Line2D([], [], color="tab:red")], l1 + ["CDF of all values (right axis)"],
               loc="lower center", ncol=3, fontsize=9, frameon=False)
    n_tokens = int(A["rows"][keep[0]]) if keep else 0
    fig.suptitle(f"{a.title}\n{len(E) - 1} linear bins over [{E[0]:g}, {E[-1]:g}] per token "
                 f"({n_tokens} tokens, {int(A.header.get('hidden', 0))} values each)", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    R.save(fig, a.out)


if __name__ == "__main__":
    main()
