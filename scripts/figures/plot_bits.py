#!/usr/bin/env python3
"""Figure (d): score against the number of attention bits, one line per quantizer (one task per figure).

  python3 scripts/figures/plot_bits.py RESULTS_DIR TASK OUT_PREFIX

Reads RESULTS_DIR/TASK/bits/<method>/<b>.json and the exact-attention row RESULTS_DIR/TASK/threshold/0.json
(spiqa-eval rows). SQuAD: EM and F1 panels; SST-2: accuracy. The x axis is broken between 8 and 16 bits like the
paper's plots; boolean (binarization) is a single point at 1 bit. Settings the tool rejected (failure rows) are
listed under the plot.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from rows import plt  # noqa: E402


def xpos(b):
    """Bits 1..8 at their value; anything above 8 after a gap (16 → 10)."""
    return b if b <= 8 else 10 + (b - 16) / 8


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("task", choices=R.TASKS)
    p.add_argument("out")
    a = p.parse_args()
    g = R.grid(a.results, a.task, "bits")
    if not g:
        sys.exit(f"plot_bits: no rows under {a.results}/{a.task}/bits")
    base = R.baseline(a.results, a.task)
    ms = R.metrics(a.task)
    any_row = next(r for v in g.values() for _, r in v if R.ok(r)) if any(
        R.ok(r) for v in g.values() for _, r in v) else None
    # The metrics of a task (SQuAD's EM and F1) are percentages of the same questions: one y scale.
    fig, axes = plt.subplots(1, len(ms), figsize=(max(6.4 * len(ms), 10.5), 5.2), squeeze=False, sharey=True)
    failed = []
    allbits = sorted({b for v in g.values() for b, _ in v})
    for ax, (key, name) in zip(axes[0], ms):
        for m in R.method_order(g):
            pts = [(b, r) for b, r in g[m] if R.ok(r)]
            failed += [(m, b, r) for b, r in g[m] if not R.ok(r)] if key == ms[0][0] else []
            if not pts:
                continue
            st = dict(R.METHOD_STYLE.get(m, {}))
            xs = [xpos(b) for b, _ in pts]
            ys = [R.pct(r, key) for _, r in pts]
            lo = [(x, y) for x, y in zip(xs, ys) if x <= 8]
            hi = [(x, y) for x, y in zip(xs, ys) if x > 8]
            line, = ax.plot([x for x, _ in lo], [y for _, y in lo], label=R.label(m), **st)
            if hi:  # across the axis break: a dotted connector, then the 16-bit point
                st.pop("linestyle", None)
                if lo:
                    ax.plot([lo[-1][0], hi[0][0]], [lo[-1][1], hi[0][1]], linestyle=":", color=line.get_color(),
                            linewidth=0.8)
                ax.plot([x for x, _ in hi], [y for _, y in hi], linestyle="none", **st)
        if R.ok(base):
            ax.axhline(R.pct(base, key), color="black", linestyle="--", linewidth=1,
                       label=f"exact attention ({name} {R.pct(base, key):.2f})")
        ticks = [xpos(b) for b in allbits]
        ax.set_xticks(ticks, [str(b) for b in allbits])
        if any(b > 8 for b in allbits):  # axis break marks between 8 and 16 bits
            ax.text(9.0, 0.0, "//", transform=ax.get_xaxis_transform(), ha="center", va="center", fontsize=12,
                    backgroundcolor="white", clip_on=False)
        ax.set_xlabel("attention bits (quantizer bit width; boolean = 1 bit)")
        ax.set_ylabel(f"{name} (%)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.set_title(f"{name} against bits", fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[0, 1:]:  # each metric's exact-attention line
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncol=5, fontsize=8, frameon=False)
    who = f"{R.model_name(any_row)}, {R.sample_text(any_row)}" if any_row else ""
    fig.suptitle(f"{R.TASK_TITLE[a.task]}: attention quantization ({who})", fontsize=11)
    if failed:
        note = "not measured (tool rejected the setting): " + "; ".join(
            f"{R.label(m)} {b} bit{'s' if b > 1 else ''}" for m, b, _ in sorted(failed, key=lambda x: (x[0], x[1])))
        fig.text(0.01, 0.005, note, fontsize=8, color="dimgrey", wrap=True)
    fig.tight_layout(rect=(0, 0.15, 1, 1))
    R.save(fig, a.out)


if __name__ == "__main__":
    main()
