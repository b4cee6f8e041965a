#!/usr/bin/env python3
"""Analysis figures of `make figures` (issue 21 item 4): head consistency, per-head sparsity against the threshold
grid, pretrained vs fine-tuned attention, and the clamp-threshold sweep of the log quantizer.

  plot_heads.py consistency RDIR TASK OUT     f_head_consistency_<task>: per head, mean ± std across examples of the
                                              sparsity at 1e-3 and the normalised row entropy (head_stats.py), and
                                              mean ± std over rows of tokens-to-majority (heads.tsv, reference §3.3)
  plot_heads.py thresholds RDIR TASK OUT      f_sparsity_vs_threshold_<task>: per head, fraction of values ≤ t for
                                              every t of the pruning grid (heads-thresholds.tsv), one panel a layer
  plot_heads.py pretrained RDIR TASK OUT      h_pretrained_vs_finetuned_<task>: per head, pretrained against
                                              fine-tuned (same examples): sparsity at 1e-3, entropy, tokens-to-majority
  plot_heads.py clamp RDIR OUT                g_clamp_sweep: score against the pruning threshold T with and without
                                              the 3-bit log-pruned quantizer after it (clamp/<method>/<bits>/<T>.json)
"""
import argparse
import csv
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402
from rows import plt, spiqa  # noqa: E402

LAYER_COLORS = plt.get_cmap("viridis")


def read_tsv(path):
    with open(path) as f:
        lines = [l for l in f if l.strip() and not l.startswith("#")]
    rd = csv.DictReader(lines, delimiter="\t")
    return [r for r in rd]


def per_head(table, col):
    """{(layer, head): float} of a spiqa-hist heads table column."""
    return {(int(r["layer"]), int(r["head"])): float(r[col]) for r in table}


def grid_of(d):
    """[L, H] array from a {(layer, head): value} dict."""
    L = max(k[0] for k in d) + 1
    H = max(k[1] for k in d) + 1
    a = np.full((L, H), np.nan)
    for (l, h), v in d.items():
        a[l, h] = v
    return a


def caption(fig, text, y=0.995):
    fig.suptitle(text, fontsize=10, y=y)


def head_axis(ax, L, H):
    """x = layer·H + head; layer separators and labels."""
    for l in range(1, L):
        ax.axvline(l * H - 0.5, color="0.75", lw=0.8)
    ax.set_xticks([l * H + (H - 1) / 2 for l in range(L)])
    ax.set_xticklabels([f"layer {l}" for l in range(L)])
    ax.set_xlim(-0.8, L * H - 0.2)
    ax.tick_params(axis="x", length=0)


def sample_caption(rdir, task, what):
    """'SQuAD v1.1 dev · minilm-squad · 2 questions (random.sample, seed 123) · WHAT': data, model and the sample of
    the task's exact-attention stream (the one these figures are made from)."""
    base = R.baseline(rdir, task)
    model = R.model_name(base) if base else "?"
    sample = R.stream_sample(rdir, task)
    return f"{R.TASK_TITLE[task]} · {model} · {sample + ' · ' if sample else ''}{what}"


# Tokens to majority (spiqa-hist ttm_*, reference §3.3) is 0-based: 0 = the largest value alone is over half the row,
# not "no token". The labels say so, so that a bar at 0 does not read as zero tokens.
TTM_LABEL = "tokens to majority ÷ the row's n tokens"
TTM_ZERO = "0 = one token holds > ½ of the row"


def consistency(a):
    stats = np.load(os.path.join(a.results, a.task, "head-stats.npz"))
    heads = read_tsv(os.path.join(a.results, a.task, "heads.tsv"))
    sp, en = stats["sparsity"], stats["entropy"]
    E, L, H = sp.shape
    x = np.arange(L * H)
    colors = [LAYER_COLORS(l / max(L - 1, 1)) for l in range(L) for _ in range(H)]
    fig = plt.figure(figsize=(13, 11.6))
    gs = fig.add_gridspec(4, 1, height_ratios=[1, 1, 1, 0.8], hspace=0.28)
    axes = [fig.add_subplot(gs[0])]
    axes += [fig.add_subplot(gs[i], sharex=axes[0]) for i in (1, 2)]
    panels = [
        (sp.reshape(E, -1), f"fraction ≤ {float(stats['threshold']):g}\n(mean ± std over examples)", (0, 1)),
        (en.reshape(E, -1), "row entropy / ln n\n(mean ± std over examples)", (0, 1)),
    ]
    for ax, (v, ylabel, ylim) in zip(axes, panels):
        m, s = v.mean(axis=0), v.std(axis=0)
        ax.bar(x, m, color=colors, width=0.8, alpha=0.85)
        ax.errorbar(x, m, yerr=s, fmt="none", ecolor="black", elinewidth=0.9, capsize=1.5)
        ax.set_ylabel(ylabel)
        ax.set_ylim(*ylim)
        ax.grid(axis="y", alpha=0.3)
    tm = grid_of(per_head(heads, "ttm_frac_mean")).ravel()
    ts = grid_of(per_head(heads, "ttm_frac_std")).ravel()
    ax = axes[2]
    ax.bar(x, tm, color=colors, width=0.8, alpha=0.85)
    ax.errorbar(x, tm, yerr=ts, fmt="none", ecolor="black", elinewidth=0.9, capsize=1.5)
    ax.set_ylabel("tokens to majority\n÷ the row's n tokens\n(mean ± std over rows;\n0 = one token holds > ½)")
    ax.set_ylim(0, max(0.05, float(np.nanmax(tm + ts)) * 1.08) if np.isfinite(tm).any() else 1)
    ax.grid(axis="y", alpha=0.3)
    head_axis(ax, L, H)
    for ax in axes[:2]:
        ax.tick_params(axis="x", labelbottom=False, length=0)
        for l in range(1, L):
            ax.axvline(l * H - 0.5, color="0.75", lw=0.8)
    # The reference's "diversity" (tv.get_diversity, dist_spread.pdf): per layer, the mean over heads of the std over
    # rows of the row's median bin (heads.tsv median_bin_std; = spiqa-hist --table layers' diversity column).
    ax = fig.add_subplot(gs[3])
    mb = grid_of(per_head(heads, "median_bin_std"))
    if np.isfinite(mb).any():
        ls = list(range(L))
        dv = [float(np.nanmean(mb[l])) for l in ls]
        ax.bar(ls, dv, color=[LAYER_COLORS(l / max(L - 1, 1)) for l in ls], width=0.6)
        for l, v in zip(ls, dv):
            ax.annotate(f"{v:.3g}", (l, v), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)
        ax.set_xticks(ls)
        ax.set_xticklabels([f"layer {l}" for l in ls])
        ax.set_ylim(0, max(dv) * 1.2 if max(dv) > 0 else 1)
    ax.set_ylabel("diversity: std of the row\nmedian bin (mean of heads)")
    ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("Head consistency: a short error bar = the head behaves the same on every example (row); "
                      "bars differ across heads = diversity", fontsize=10)
    # Panels 1–2 share the scale [0, 1] (both normalised to it); tokens to majority and diversity are other quantities
    # with their own scales.
    caption(fig, sample_caption(a.results, a.task, f"exact attention; heads 0–{H - 1} within each layer"))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.93, bottom=0.04)
    R.save(fig, a.out)


def thresholds(a):
    heads = read_tsv(os.path.join(a.results, a.task, "heads-thresholds.tsv"))
    cols = sorted((c for c in heads[0] if c.startswith("le_")), key=lambda c: float(c[3:]))
    ts = np.array([float(c[3:]) for c in cols])
    vals = np.stack([grid_of(per_head(heads, c)) for c in cols], axis=-1)   # [L, H, T]
    L, H, _ = vals.shape
    ncol = 3 if L > 4 else L
    nrow = int(np.ceil(L / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.5 * nrow + 0.6), sharex=True, sharey=True,
                             squeeze=False)
    cmap = plt.get_cmap("tab20")
    for l in range(nrow * ncol):
        ax = axes.flat[l]
        if l >= L:
            ax.axis("off")
            continue
        for h in range(H):
            ax.plot(ts, vals[l, h], color=cmap(h % 20), lw=1.1, marker=".", ms=4, label=f"head {h}")
        ax.plot(ts, vals[l].mean(axis=0), color="black", lw=2.4, ls="--", label="mean of heads")
        ax.set_xscale("log")
        spiqa.plot.log_labels(ax.xaxis)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"layer {l}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.axvline(1e-3, color="tab:red", lw=0.8, ls=":")
        if l % ncol == 0:
            ax.set_ylabel("fraction of values ≤ t")
        if l >= L - ncol:
            ax.set_xlabel("pruning threshold t")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    caption(fig, sample_caption(a.results, a.task, "per-head sparsity of exact attention against the pruning "
                                "threshold (dotted: 1e-3)"))
    fig.tight_layout(rect=(0, 0, 0.89, 0.96))
    R.save(fig, a.out)


def pretrained(a):
    ft_dir = os.path.join(a.results, a.task)
    pt_dir = os.path.join(a.results, a.task, "pretrained")
    ft_s, pt_s = np.load(os.path.join(ft_dir, "head-stats.npz")), np.load(os.path.join(pt_dir, "head-stats.npz"))
    ft_h, pt_h = read_tsv(os.path.join(ft_dir, "heads.tsv")), read_tsv(os.path.join(pt_dir, "heads.tsv"))
    panels = [
        ("fraction of values ≤ 1e-3", grid_of(per_head(ft_h, "le_0.001")), grid_of(per_head(pt_h, "le_0.001"))),
        ("row entropy / ln n (mean over examples)", ft_s["entropy"].mean(axis=0), pt_s["entropy"].mean(axis=0)),
        (f"{TTM_LABEL} (mean over rows;\n{TTM_ZERO})", grid_of(per_head(ft_h, "ttm_frac_mean")),
         grid_of(per_head(pt_h, "ttm_frac_mean"))),
    ]
    L, H = panels[0][1].shape
    # Three different quantities: each panel has its own scale (pretrained and fine-tuned share it within a panel).
    fig, axes = plt.subplots(1, 3, figsize=(15, 6.4))
    for ax, (name, ft, pt) in zip(axes, panels):
        lo = float(np.nanmin([ft.min(), pt.min()]))
        hi = float(np.nanmax([ft.max(), pt.max()]))
        pad = 0.05 * (hi - lo or 1)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=1, ls="--", zorder=0)
        for l in range(L):
            ax.scatter(pt[l], ft[l], color=LAYER_COLORS(l / max(L - 1, 1)), s=26, label=f"layer {l}",
                       edgecolor="black", linewidth=0.3)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_xlabel("pretrained")
        ax.set_ylabel("fine-tuned")
        ax.set_title(f"{name}\nall heads: pretrained {np.nanmean(pt):.3g}, fine-tuned {np.nanmean(ft):.3g}",
                     fontsize=10)
        ax.grid(alpha=0.3)
    axes[-1].legend(loc="lower right", fontsize=8)
    for ax in axes:
        ax.set_xlabel("pretrained", labelpad=2)
    pm = os.path.basename(os.path.normpath(read_model(pt_dir)))
    caption(fig, sample_caption(a.results, a.task, f"vs pretrained {pm} on the same examples (exact attention)")
            + "\none dot per head; on the dashed line fine-tuning did not change it")
    fig.tight_layout(rect=(0, 0.02, 1, 0.92))
    R.save(fig, a.out)


def read_model(d):
    """The model= entry of the pretrained stream's settings file (pre.settings beside it), else '?'."""
    p = os.path.join(os.path.dirname(d), "pre.settings")
    if os.path.exists(p):
        for word in open(p).read().split():
            if word.startswith("model="):
                return word[len("model="):]
    return "?"


def clamp(a):
    tasks = [t for t in R.TASKS if glob.glob(os.path.join(a.results, t, "clamp", "*", "*", "*.json"))]
    if not tasks:
        sys.exit(f"plot_heads clamp: no rows under {a.results}/<task>/clamp")
    # One panel per task: their scores (EM, accuracy) are not on one scale, so each has its own y axis.
    fig, axes = plt.subplots(1, len(tasks), figsize=(6.4 * len(tasks), 5.8), squeeze=False)
    for ax, t in zip(axes[0], tasks):
        key, name = R.metrics(t)[0]
        base = R.baseline(a.results, t)
        prune = [(x, r) for x, r in R.thresholds(a.results, t) if x > 0 and R.ok(r)]
        ax.plot([x for x, _ in prune], [R.pct(r, key) for _, r in prune], color="tab:blue", marker="o",
                label="pruning only (p ≤ T → 0)")
        for d in sorted(glob.glob(os.path.join(a.results, t, "clamp", "*", "*"))):
            method, bits = d.split(os.sep)[-2], d.split(os.sep)[-1]
            pts = sorted((float(os.path.basename(p)[:-5]), R.read(p)) for p in glob.glob(os.path.join(d, "*.json")))
            pts = [(x, r) for x, r in pts if R.ok(r)]
            ax.plot([x for x, _ in pts], [R.pct(r, key) for _, r in pts], color="tab:red", marker="D", lw=2,
                    label=f"pruning at T, then {R.label(method)} {bits} bits")
            for x, r in pts:
                ax.annotate(f"{100 * r['sparsity']:.0f}%", (x, R.pct(r, key)), textcoords="offset points",
                            xytext=(0, 7), ha="center", fontsize=8, color="tab:red")
        if R.ok(base):
            ax.axhline(R.pct(base, key), color="black", ls="--", lw=1, label="exact attention")
        ax.set_xscale("log")
        spiqa.plot.log_labels(ax.xaxis)
        ax.set_xlabel("pruning threshold T (the quantizer's own clamp stays 1e-3)")
        ax.set_ylabel(f"{name} (%)")
        exact = f" · exact {R.pct(base, key):.4g}" if R.ok(base) else ""
        who = f"{R.model_name(base)}, {R.sample_text(base)}" if base else ""
        ax.set_title(f"{R.TASK_TITLE[t]}{exact}\n{who}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.margins(x=0.08, y=0.15)
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles, labels = handles[:2], labels[:2]   # the exact-attention value differs per task: named in each title
    fig.legend(handles + [plt.Line2D([], [], color="black", ls="--")], labels + ["exact attention"],
               loc="lower center", ncol=3, fontsize=9, frameon=False)
    caption(fig, "Clamp-threshold sweep of the log quantizer (red labels: sparsity of the quantized attention)")
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    R.save(fig, a.out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="kind", required=True)
    for k in ("consistency", "thresholds", "pretrained"):
        s = sub.add_parser(k)
        s.add_argument("results")
        s.add_argument("task", choices=R.TASKS)
        s.add_argument("out")
    s = sub.add_parser("clamp")
    s.add_argument("results")
    s.add_argument("out")
    a = p.parse_args()
    {"consistency": consistency, "thresholds": thresholds, "pretrained": pretrained, "clamp": clamp}[a.kind](a)


if __name__ == "__main__":
    main()
