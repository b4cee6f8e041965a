#!/usr/bin/env python3
"""Figure (c): SQuAD EM/F1 and SST-2 accuracy against the attention pruning threshold and the achieved sparsity.

  python3 scripts/figures/plot_pruning.py RESULTS_DIR FIGURES_DIR

Reads RESULTS_DIR/<task>/threshold/<t>.json (spiqa-eval rows) and writes
FIGURES_DIR/c_score_vs_threshold.{png,pdf} (score, and sparsity on a right axis, against the threshold; 0 drawn at
the left end of the log axis) and FIGURES_DIR/c_score_vs_sparsity.{png,pdf} (score and relative change against
the fraction of attention values that are exactly zero, with the paper's ±1% band and its 80% mark).
"""
import argparse
import os
import sys

import matplotlib.ticker
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from rows import plt  # noqa: E402

COLORS = {"em": "tab:blue", "f1": "tab:orange", "accuracy": "tab:green"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("figures")
    a = p.parse_args()
    data = {t: [(th, r) for th, r in R.thresholds(a.results, t) if R.ok(r)] for t in R.TASKS}
    tasks = [t for t in R.TASKS if data[t]]
    if not tasks:
        sys.exit("plot_pruning: no threshold rows under " + a.results)

    # Score and sparsity against the threshold. One panel per task with its own score axis: the tasks' metrics (EM/F1,
    # accuracy) are not one scale; the sparsity axis is 0–100 % in every panel.
    fig, axes = plt.subplots(1, len(tasks), figsize=(6.2 * len(tasks), 4.6), squeeze=False)
    for ax, t in zip(axes[0], tasks):
        ts = [th for th, _ in data[t]]
        z = R.zero_position(ts)
        x = [th if th > 0 else z for th in ts]
        for key, name in R.metrics(t):
            ax.plot(x, [R.pct(r, key) for _, r in data[t]], marker="o", color=COLORS.get(key), label=name)
        ax.set_xscale("log")
        ticks = sorted(set(x))
        ax.set_xticks(ticks, ["0" if v == z else f"{v:g}" for v in ticks], rotation=45, fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("pruning threshold t (attention p ≤ t set to 0; log scale, 0 = exact)")
        ax.set_ylabel("score (%)")
        ax2 = ax.twinx()
        ax2.plot(x, [100 * r["sparsity"] for _, r in data[t]], color="grey", linestyle=":", marker=".",
                 label="sparsity (right axis)")
        ax2.set_ylim(0, 100)
        ax2.set_ylabel("sparsity: exact zeros (% of attention values)", color="grey")
        ax2.tick_params(axis="y", colors="grey")
        base = data[t][0][1]
        ax.set_title(f"{R.TASK_TITLE[t]}: {R.model_name(base)}, {R.sample_text(base)}", fontsize=9)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="lower left", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Attention pruning: score against the pruning threshold", fontsize=11)
    fig.tight_layout()
    R.save(fig, os.path.join(a.figures, "c_score_vs_threshold"))

    # Score and relative change against the achieved sparsity. The scores (top) keep a scale per task, as above; the
    # relative changes (bottom) are one quantity and share one scale, so the tasks' losses compare directly.
    fig, axes = plt.subplots(2, len(tasks), figsize=(6.2 * len(tasks), 7.6), squeeze=False, sharex="col")
    lowest, highest = -2.0, 1.0
    for c, t in enumerate(tasks):
        base = R.baseline(a.results, t)
        sp = np.array([100 * r["sparsity"] for _, r in data[t]])
        top, bottom = axes[0, c], axes[1, c]
        for key, name in R.metrics(t):
            y = np.array([R.pct(r, key) for _, r in data[t]])
            top.plot(sp, y, marker="o", color=COLORS.get(key), label=name)
            if R.ok(base):
                b = R.pct(base, key)
                rel = 100 * (y - b) / b if b else np.zeros_like(y)
                bottom.plot(sp, rel, marker="o", color=COLORS.get(key), label=f"{name} relative change")
                lowest = min(lowest, float(rel.min()))
                highest = max(highest, float(rel.max()))
        for (th, r), s, yv in zip(data[t], sp, [R.pct(r, R.metrics(t)[0][0]) for _, r in data[t]]):
            right = s > 85  # near the right edge the label goes left of its point, inside the axes
            top.annotate(f"t={th:g}", (s, yv), textcoords="offset points", xytext=(-3 if right else 3, 5),
                         ha="right" if right else "left", fontsize=8, color="dimgrey")
        top.margins(y=0.15)  # room above the points for their t= labels
        for ax in (top, bottom):
            ax.axvline(80, color="grey", linestyle="--", linewidth=0.8)
            ax.grid(alpha=0.3)
            ax.set_xlim(0, 100)
        bottom.axhspan(-1, 1, color="tab:red", alpha=0.08, label="±1% (the paper's bound)")
        bottom.axhline(0, color="black", linewidth=0.6)
        bottom.set_xlabel("achieved sparsity: exact zeros (% of attention values); dashed = 80%")
        bottom.set_ylabel("relative change vs exact attention (%; symlog)")
        top.set_ylabel("score (%)")
        top.set_title(f"{R.TASK_TITLE[t]}: {R.model_name(data[t][0][1])}, {R.sample_text(data[t][0][1])}",
                      fontsize=9)
        top.legend(fontsize=8, loc="lower left")
        bottom.legend(fontsize=8, loc="lower left")
    # Linear within ±1% (the paper's bound), logarithmic beyond, so both small and large losses show.
    lo = max(lowest * 1.3, -100)
    hi = min(highest * 1.3, 100) if highest > 1 else 1.5  # gains above the ±1% band stay in view
    ticks = [v for v in (100, 50, 20, 10, 5, 2, 1, 0, -1, -2, -5, -10, -20, -50, -100) if lo <= v <= hi]
    for bottom in axes[1]:
        bottom.set_yscale("symlog", linthresh=1.0, linscale=0.6)
        bottom.set_ylim(lo, hi)
        bottom.set_yticks(ticks, [f"{v:g}" for v in ticks])
        bottom.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    fig.suptitle("Attention pruning: score against the fraction of attention values set to zero", fontsize=11)
    fig.tight_layout()
    R.save(fig, os.path.join(a.figures, "c_score_vs_sparsity"))


if __name__ == "__main__":
    main()
