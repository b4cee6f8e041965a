#!/usr/bin/env python3
"""Figure (e): Jensen–Shannon distance between exact and quantized attention rows, per quantizer.

  python3 scripts/figures/plot_js.py RESULTS_DIR OUT_PREFIX [--bits 3]

Reads RESULTS_DIR/<task>/js/<method>/<b>.json (`spiqa-quantize --js --report`: js_distance_mean = mean over rows
of scipy's jensenshannon, natural log, between 100-bin log histograms of the original and quantized row,
reference §3.6). Left: one bar per quantizer and task at --bits (the paper's -qv used 3; boolean is always its
1-bit form). Right: the distance against bits, one panel per task.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from rows import plt  # noqa: E402

TASK_COLOR = {"squad": "tab:blue", "sst2": "tab:green"}


def js(row):
    v = row.get("js_distance_mean") if R.ok(row) else None
    return None if v is None else float(v)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("out")
    p.add_argument("--bits", type=int, default=3)
    a = p.parse_args()
    grids = {t: R.grid(a.results, t, "js") for t in R.TASKS}
    tasks = [t for t in R.TASKS if grids[t]]
    if not tasks:
        sys.exit("plot_js: no js reports under " + a.results)
    methods = R.method_order({m for t in tasks for m in grids[t]})
    # One JS-distance scale for every panel, so the tasks and the two views compare directly.
    fig, axes = plt.subplots(1, 1 + len(tasks), figsize=(5.6 + 4.6 * len(tasks), 5.4), squeeze=False, sharey=True,
                             gridspec_kw={"width_ratios": [1.3] + [1] * len(tasks)})
    ax = axes[0, 0]
    w = 0.8 / len(tasks)
    for i, t in enumerate(tasks):
        vals = []
        for m in methods:
            want = 1 if m == "binarization" else a.bits
            hit = [r for b, r in grids[t].get(m, []) if b == want]
            vals.append(js(hit[0]) if hit and js(hit[0]) is not None else np.nan)
        x = np.arange(len(methods)) + (i - (len(tasks) - 1) / 2) * w
        ax.bar(x, vals, width=w, color=TASK_COLOR[t], label=R.TASK_TITLE[t])
        for xi, v in zip(x, vals):
            if not np.isnan(v):
                ax.text(xi, v, f"{v:.3f}", ha="center", va="bottom", fontsize=8, rotation=90)
    ax.set_xticks(np.arange(len(methods)),
                  [R.label(m) + (" (1 bit)" if m == "binarization" else "") for m in methods],
                  rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("JS distance (mean over rows)")
    ax.set_title(f"per quantizer at {a.bits} bits", fontsize=10)
    top = np.nanmax([js(r) or 0 for t in tasks for v in grids[t].values() for _, r in v] + [0.1])
    ax.set_ylim(0, top * 1.2)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    for ax, t in zip(axes[0, 1:], tasks):
        for m in methods:
            pts = [(b, js(r)) for b, r in grids[t].get(m, []) if js(r) is not None]
            if pts:
                ax.plot([b for b, _ in pts], [v for _, v in pts], label=R.label(m), **R.METHOD_STYLE.get(m, {}))
        allbits = sorted({b for v in grids[t].values() for b, _ in v})
        ax.set_xticks(allbits)
        ax.set_xlabel("attention bits")
        ax.grid(alpha=0.3)
        any_row = next((r for v in grids[t].values() for _, r in v if R.ok(r)), {})
        rows_n = any_row.get("js_rows", "?")
        n = any_row.get("tensors", "?")
        src = R.stream_sample(a.results, t, "attention-js.npy.gz")
        base = R.baseline(a.results, t)
        model = R.model_name(base) if base else ""
        ax.set_title(f"{R.TASK_TITLE[t]}: against bits\n{model + ', ' if model else ''}{src}\n"
                     f"{n} sequence{'' if n == 1 else 's'}, {rows_n} rows", fontsize=9)
    handles, labels = axes[0, -1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=8, fontsize=8, frameon=False)
    fig.suptitle("Distortion of the attention distribution: Jensen–Shannon distance between exact and quantized rows\n"
                 "(100-bin log histograms of each row, natural log; 0 = identical, at most √ln 2 ≈ 0.83)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    R.save(fig, a.out)


if __name__ == "__main__":
    main()
