#!/usr/bin/env python3
"""Attention heatmaps of one feature, read straight from an attention stream (with the spiqa package, python/).

  python3 scripts/plot_heatmap.py STREAM OUT_PREFIX --example-id ID [--feature 0] [--layer L] [--heads 0-11]
                                  [--scale linear|log|binary] [--bar 0.0005]

One panel per head of the chosen layer: query tokens (rows, top to bottom) × key tokens (columns), as the
reference's plot_heatmap (§3.4); --scale log shows small values, --scale binary shows values > --bar.
Token labels are drawn when the record carries "tokens", at 8 pt: a panel grows with n up to MAX_PANEL inches, and
beyond that only every k-th token is labelled (the axis caption says so).
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

# Token labels are 8-pt text (spiqa.plot's minimum): one needs about 0.13 in along the axis.
LABEL_PITCH = 0.13
MIN_PANEL, MAX_PANEL = 2.4, 4.5

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python", "src"))
import spiqa  # noqa: E402  (this checkout's python/src; `pip install ./python` installs the same package)
import spiqa.plot  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stream")
    p.add_argument("out")
    p.add_argument("--example-id", required=True)
    p.add_argument("--feature", type=int, default=0)
    p.add_argument("--layer", type=int, default=0, help="model layer index")
    p.add_argument("--heads", help="e.g. 0-3,7 (default: all)")
    p.add_argument("--scale", choices=["linear", "log", "binary"], default="linear")
    p.add_argument("--bar", type=float, default=0.0005, help="binary threshold (reference: 0.0005)")
    a = p.parse_args()
    found = None
    for meta, arr in spiqa.open(a.stream):
        if meta.get("kind") == "attention" and str(meta.get("example_id")) == a.example_id \
                and int(meta.get("feature", 0)) == a.feature:
            found = (meta, spiqa.decode_attention(meta, arr))
            break
    if found is None:
        sys.exit(f"plot_heatmap: no attention record with example_id {a.example_id!r} feature {a.feature}")
    meta, x = found
    layers = meta.get("layers", list(range(x.shape[0])))
    heads = meta.get("heads", list(range(x.shape[1])))
    if a.layer not in layers:
        sys.exit(f"plot_heatmap: layer {a.layer} not in {layers}")
    li = layers.index(a.layer)
    want = heads
    if a.heads:
        want = []
        for part in a.heads.split(","):
            s, _, e = part.partition("-")
            want += list(range(int(s), int(e or s) + 1))
    hs = [heads.index(h) for h in want]
    n = x.shape[-1]
    tokens = meta.get("tokens")
    label = tokens is not None
    C = min(4, len(hs))
    R = math.ceil(len(hs) / C)
    size = min(max(n * LABEL_PITCH, MIN_PANEL), MAX_PANEL) if label else MIN_PANEL
    every = math.ceil(n * LABEL_PITCH / size) if label else 1
    # Room for the rotated key tokens above each panel and the query tokens left of it.
    longest = max((len(str(t)) for t in tokens), default=0) if label else 0
    extra = min(longest, 14) * 0.075 if label else 0.3
    fig, axes = plt.subplots(R, C, figsize=((size + extra) * C + 1.2, (size + extra + 0.35) * R + 0.9), squeeze=False,
                             layout="constrained")
    if a.scale == "log":
        norm, cmap = LogNorm(vmin=1e-6, vmax=1), "magma"
    elif a.scale == "binary":
        norm, cmap = None, "Greys"
    else:
        norm, cmap = None, "viridis"
    im = None
    for k, ax in enumerate(axes.flat):
        if k >= len(hs):
            ax.axis("off")
            continue
        m = x[li, hs[k]]
        if a.scale == "binary":
            img = (m > a.bar).astype(float)
            im = ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        elif a.scale == "log":
            im = ax.imshow(np.maximum(m, 1e-6), cmap=cmap, norm=norm, interpolation="nearest")
        else:
            im = ax.imshow(m, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        frac = float(np.mean(m <= a.bar))
        # Key tokens label the top edge, so the panel caption goes below.
        thin = f"; 1 token in {every} labelled" if every > 1 else ""
        ax.set_xlabel(f"head {heads[hs[k]]}: max {m.max():.2f}, ≤ {a.bar:g}: {frac:.0%}{thin}", fontsize=8)
        ax.xaxis.tick_top()
        if label:
            ticks = range(0, n, every)
            ax.set_xticks(ticks, [tokens[i] for i in ticks], rotation=90, fontsize=8)
            ax.set_yticks(ticks, [tokens[i] for i in ticks], fontsize=8)
        else:
            ax.tick_params(labelsize=8)
    cb = fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.03, pad=0.01)
    cb.set_label({"linear": "attention probability", "log": "attention probability (log; < 1e-6 shown as 1e-6)",
                  "binary": f"> {a.bar:g}"}[a.scale])
    if a.scale == "log":
        spiqa.plot.log_labels(cb.ax.yaxis)
    src = spiqa.plot.stream_text(a.stream)
    fig.suptitle(f"Attention of {a.example_id} feature {a.feature}, layer {a.layer} (n = {n} tokens; rows = queries, "
                 "columns = keys)" + (f"\none sequence of {src}" if src else ""), fontsize=9)
    spiqa.plot.save_figure(fig, a.out)


if __name__ == "__main__":
    main()
