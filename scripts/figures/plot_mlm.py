#!/usr/bin/env python3
"""Figure (j): the masked-LM case study (the original analyzer's third one): pseudo-perplexity against the pruning
threshold and against the attention bits.

  python3 scripts/figures/plot_mlm.py RESULTS_DIR OUT_PREFIX

Reads RESULTS_DIR/mlm/threshold/<t>.json and RESULTS_DIR/mlm/bits/<method>/<b>.json (spiqa-eval --task mlm rows;
mk/figures.mk, FIG_MLM). Pseudo-perplexity is a loss: lower is better, and it is drawn on a log scale (1-bit
quantizers reach thousands). Left: pseudo-perplexity and the sparsity (right axis) against the threshold, 0 drawn
at the left end of the log axis as in figure (c). Right: one line per quantizer against the bits, the exact
attention dashed, as in figure (d). Settings the tool rejected are listed under the plot.
"""
import argparse
import os
import sys

import matplotlib.ticker

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from rows import plt  # noqa: E402

TASK = "mlm"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("out")
    a = p.parse_args()
    key, name = R.metrics(TASK)[0]
    sweep = [(t, r) for t, r in R.thresholds(a.results, TASK) if R.ok(r)]
    grid = R.grid(a.results, TASK, "bits")
    if not sweep and not grid:
        sys.exit(f"plot_mlm: no rows under {a.results}/{TASK}")
    base = R.baseline(a.results, TASK)
    any_row = next((r for _, r in sweep), None) or next((r for v in grid.values() for _, r in v if R.ok(r)), None)

    fig, (left, right) = plt.subplots(1, 2, figsize=(12.4, 5.0))
    if sweep:
        ts = [t for t, _ in sweep]
        z = R.zero_position(ts)
        x = [t if t > 0 else z for t in ts]
        left.plot(x, [r[key] for _, r in sweep], marker="o", color="tab:blue", label=name)
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xticks(x, ["0" if v == z else f"{v:g}" for v in x], rotation=45, fontsize=8)
        left.minorticks_off()
        left.set_xlabel("pruning threshold t (attention p ≤ t set to 0; log scale, 0 = exact)")
        left.set_ylabel(f"{name} (log scale; lower is better)")
        twin = left.twinx()
        twin.plot(x, [100 * r["sparsity"] for _, r in sweep], color="grey", linestyle=":", marker=".",
                  label="sparsity (right axis)")
        twin.set_ylim(0, 100)
        twin.set_ylabel("sparsity: exact zeros (% of attention values)", color="grey")
        twin.tick_params(axis="y", colors="grey")
        h1, l1 = left.get_legend_handles_labels()
        h2, l2 = twin.get_legend_handles_labels()
        left.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
        left.grid(alpha=0.3)
        left.set_title(f"{name} against the pruning threshold", fontsize=10)

    failed = []
    allbits = sorted({b for v in grid.values() for b, _ in v})
    for m in R.method_order(grid):
        pts = [(b, r) for b, r in grid[m] if R.ok(r)]
        failed += [(m, b) for b, r in grid[m] if not R.ok(r)]
        if pts:
            right.plot([b for b, _ in pts], [r[key] for _, r in pts], label=R.label(m), **R.METHOD_STYLE.get(m, {}))
    if R.ok(base):
        right.axhline(base[key], color="black", linestyle="--", linewidth=1,
                      label=f"exact attention ({base[key]:.1f})")
    right.set_yscale("log")
    if allbits:
        right.set_xticks(allbits, [str(b) for b in allbits])
    right.set_xlabel("attention bits (quantizer bit width; boolean = 1 bit)")
    right.set_ylabel(f"{name} (log scale; lower is better)")
    right.grid(alpha=0.3)
    right.legend(fontsize=8, loc="best", ncol=2)
    right.set_title(f"{name} against bits", fontsize=10)

    who = f"{R.model_name(any_row)}, {R.sample_text(any_row)}" if any_row else ""
    fig.suptitle(f"{R.TASK_TITLE[TASK]}: attention pruning and quantization ({who})", fontsize=11)
    if failed:
        note = "not measured (tool rejected the setting): " + "; ".join(
            f"{R.label(m)} {b} bit{'s' if b > 1 else ''}" for m, b in sorted(failed))
        fig.text(0.01, 0.005, note, fontsize=8, color="dimgrey", wrap=True)
    for ax in (left, right):  # plain numbers on the log axes (mathtext powers come out under 8 pt)
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.tick_params(axis="both", labelsize=8)
    fig.tight_layout(rect=(0, 0.05 if failed else 0, 1, 1))
    R.save(fig, a.out)


if __name__ == "__main__":
    main()
