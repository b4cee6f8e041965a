#!/usr/bin/env python3
"""Generate results.md (docs/results.md) from the result rows of `make figures`: every number is read from a
spiqa-eval row or a spiqa-quantize report; nothing is typed by hand.

  python3 scripts/figures/results_md.py RESULTS_DIR [--figures FIG_DIR] [--output results.md]

Sections: the run (models, data, sample sizes), the paper's two claims re-measured beside the paper's statements,
then per task the pruning sweep (threshold × sparsity × score), the quantization grid (method × bits) and the JS
distances. Scores are printed as in the rows, to 6 significant digits. Relative changes are (setting − exact) /
exact. Where per-example files exist, the paired 95% interval of a relative change comes from a bootstrap over the
same questions / sentences (2,000 resamples, numpy seed 0).
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rows as R  # noqa: E402

PAPER_SPARSITY = ("“nearly 80% of attention values can be pruned to zeros with minimal (<1.0%) relative loss in "
                  "accuracy” (abstract; QA and sentiment analysis, RoBERTa-base)")
PAPER_3BIT = ("“quantizing the attention values to only a 3-bit format, without retraining, resulting in only a 0.8% "
              "accuracy reduction on question answering with fine-tuned RoBERTa” (abstract); the code prints this "
              "as the relative EM drop of linear_slog_clamped_midval at 3 bits")
PAPER_2BIT_SST2 = ("no number recovered; the authors' comparator prints the relative accuracy drop of the same "
                   "quantizer at 2 bits for SST-2 (reference §4.1, docs/reference-behaviour.md), and the README says 3-bit log "
                   "quantization stays within 1% of full precision")
LOG_PRUNED = "linear_slog_clamped_midval"


def g(x):
    return f"{x:.6g}"


def rel(x, base):
    return 100.0 * (x - base) / base if base else float("nan")


def relpct(x, base):
    v = rel(x, base)
    return f"{v:+.2f}%"


def primary(task):
    return R.metrics(task)[0][0]


def score_cell(task, row, key):
    if not R.ok(row):
        return "failed"
    if task == "sst2" and key == "accuracy":
        return f"{g(row['accuracy'])} ({row.get('correct')}/{row.get('n')})"
    return g(row[key])


def run_tasks(rdir):
    """The tasks of the run: FIG_TASKS, then the masked-LM panel's rows (mlm/, figure j) when they exist."""
    return list(R.TASKS) + [t for t in ("mlm",) if t not in R.TASKS and os.path.isdir(os.path.join(rdir, t))]


def per_example(row):
    """Per-example (sum, weight) of a row keyed by example index, or None: (EM, 1) for SQuAD, (correct, 1) for the
    sentence tasks, (nll, tokens) for the masked LM, whose score is exp(Σ nll / Σ tokens) (`aggregate`)."""
    path = row["_file"][:-len(".json")] + ".examples.jsonl"
    if not os.path.exists(path):
        return None
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                o = json.loads(line)
                if "nll" in o:
                    out[o["index"]] = (float(o["nll"]), float(o["tokens"]))
                else:
                    out[o["index"]] = (float(o["em"]) if "em" in o else float(o["prediction"] == o["label"]), 1.0)
    return out


def aggregate(task, sums, weights):
    """A task's headline score from per-example sums (numpy arrays allowed): a mean, or a pseudo-perplexity."""
    mean = sums / np.where(weights > 0, weights, np.nan)
    return np.exp(mean) if task == "mlm" else mean


def paired(row, base, boot=2000):
    """(lost, gained, lo%, hi%): examples whose score got worse / better vs exact attention and a bootstrap 95%
    interval of the relative change of the headline score; None without per-example files."""
    a, b = per_example(row), per_example(base)
    if not a or not b or set(a) != set(b):
        return None
    task = row.get("task")
    keys = sorted(a)
    x, xw = (np.array([a[k][i] for k in keys]) for i in (0, 1))
    y, yw = (np.array([b[k][i] for k in keys]) for i in (0, 1))
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(keys), size=(boot, len(keys)))
    xs, ys = aggregate(task, x[idx].sum(axis=1), xw[idx].sum(axis=1)), aggregate(task, y[idx].sum(axis=1),
                                                                                 yw[idx].sum(axis=1))
    r = 100 * (xs - ys) / np.where(ys > 0, ys, np.nan)
    lo, hi = np.nanpercentile(r, [2.5, 97.5])
    ex, ey = aggregate(task, x, xw), aggregate(task, y, yw)
    if R.lower_is_better(task, primary(task)):
        ex, ey = -ex, -ey
    return int((ex < ey).sum()), int((ex > ey).sum()), lo, hi


def paired_text(row, base):
    p = paired(row, base)
    if p is None:
        return ""
    lost, gained, lo, hi = p
    return f"95% interval {lo:+.2f}% … {hi:+.2f}%; examples worse / better: {lost} / {gained}"


def claims(rdir, out):
    out.append("## The paper's claims, re-measured\n")
    out.append("Relative change = (setting − exact attention) / exact attention, on the same examples; "
               "negative = loss. The interval is a paired bootstrap over the examples (sampling noise only).\n")
    out.append("| claim | the paper | here | rows |")
    out.append("|---|---|---|---|")
    for t in R.TASKS:
        base = R.baseline(rdir, t)
        sweep = [(th, r) for th, r in R.thresholds(rdir, t) if R.ok(r)]
        if not R.ok(base) or not sweep:
            continue
        key = primary(t)
        name = dict(R.metrics(t))[key]
        within = [(th, r) for th, r in sweep if rel(r[key], base[key]) >= -1.0]
        th, best = max(within, key=lambda x: x[1]["sparsity"])
        beyond = [(th2, r) for th2, r in sweep if r["sparsity"] > best["sparsity"]]
        text = (f"{R.TASK_TITLE[t]}: **{100 * best['sparsity']:.1f}%** of attention values are zero at threshold "
                f"{th:g} with {name} {relpct(best[key], base[key])} ({g(best[key])} vs {g(base[key])})")
        if th > 0 and paired_text(best, base):
            text += f"; {paired_text(best, base)}"
        if beyond:
            th2, nxt = min(beyond, key=lambda x: x[1]["sparsity"])
            text += (f". Next threshold {th2:g}: {100 * nxt['sparsity']:.1f}% zeros, "
                     f"{name} {relpct(nxt[key], base[key])}")
        files = f"`{best['_file']}`, `{base['_file']}`"
        out.append(f"| sparsity at ≤ 1% relative loss ({name}) | {PAPER_SPARSITY if t == 'squad' else '(same statement)'} "
                   f"| {text} | {files} |")
    for t, bits, paper in (("squad", 3, PAPER_3BIT), ("sst2", 2, PAPER_2BIT_SST2), ("sst2", 3, "(README: within 1%)")):
        base = R.baseline(rdir, t)
        hit = [r for b, r in R.grid(rdir, t, "bits").get(LOG_PRUNED, []) if b == bits]
        if not R.ok(base) or not hit:
            continue
        row = hit[0]
        if not R.ok(row):
            out.append(f"| {bits}-bit log-pruned, {R.TASK_TITLE[t]} | {paper} | failed: {row.get('error')} | "
                       f"`{row['_file']}` |")
            continue
        parts = []
        for key, name in R.metrics(t):
            parts.append(f"{name} {g(row[key])} vs {g(base[key])}: **{relpct(row[key], base[key])}**")
        text = f"{R.TASK_TITLE[t]}: " + "; ".join(parts)
        pt = paired_text(row, base)
        if pt:
            text += f" ({dict(R.metrics(t))[primary(t)]} {pt})"
        text += f"; sparsity {100 * row['sparsity']:.1f}%"
        out.append(f"| relative loss of {bits}-bit log-pruned quantization ({LOG_PRUNED}) | {paper} | {text} | "
                   f"`{row['_file']}`, `{base['_file']}` |")
    out.append("")


def sweep_table(rdir, t, out):
    base = R.baseline(rdir, t)
    sweep = R.thresholds(rdir, t)
    if not sweep:
        return
    ms = R.metrics(t)
    out.append(f"### Pruning sweep (threshold × sparsity × score)\n")
    head = "| threshold | sparsity (exact zeros) | " + " | ".join(n for _, n in ms) + " | " + " | ".join(
        f"relative change {n}" for _, n in ms) + " | paired (primary metric) | row |"
    out.append(head)
    out.append("|" + "---|" * (head.count("|") - 1))
    for th, r in sweep:
        if not R.ok(r):
            out.append(f"| {th:g} | failed: {r.get('error')} |" + " |" * (2 * len(ms) + 1) + f" `{r['_file']}` |")
            continue
        cells = [score_cell(t, r, k) for k, _ in ms]
        rels = [relpct(r[k], base[k]) if R.ok(base) else "" for k, _ in ms]
        pt = paired_text(r, base) if R.ok(base) and th > 0 else ""
        out.append(f"| {th:g} | {g(r['sparsity'])} | " + " | ".join(cells) + " | " + " | ".join(rels) +
                   f" | {pt} | `{os.path.basename(r['_file'])}` |")
    out.append("")


def bits_table(rdir, t, out):
    grid = R.grid(rdir, t, "bits")
    if not grid:
        return
    base = R.baseline(rdir, t)
    allbits = sorted({b for v in grid.values() for b, _ in v})
    for key, name in R.metrics(t):
        out.append(f"### {name} by quantizer × bits"
                   + (f" (exact attention: {g(base[key])})" if R.ok(base) else "") + "\n")
        out.append("| method (reference name) | " + " | ".join(f"{b} bit{'s' if b > 1 else ''}" for b in allbits) + " |")
        out.append("|---|" + "---|" * len(allbits))
        for m in R.method_order(grid):
            have = dict(grid[m])
            cells = []
            for b in allbits:
                r = have.get(b)
                if r is None:
                    cells.append("")
                elif not R.ok(r):
                    cells.append("failed")
                else:
                    cells.append(g(r[key]) + (f" ({relpct(r[key], base[key])})" if R.ok(base) else ""))
            out.append(f"| {R.label(m)} (`{m}`) | " + " | ".join(cells) + " |")
        out.append("")
    fails = [(m, b, r) for m in R.method_order(grid) for b, r in grid[m] if not R.ok(r)]
    if fails:
        out.append("Settings the tool rejected (exit 65; the reference code fails there too):\n")
        for m, b, r in fails:
            out.append(f"- `{m}` {b} bits: {r.get('error')}")
        out.append("")
    sp = {m: [(b, r) for b, r in v if R.ok(r)] for m, v in grid.items()}
    out.append("Sparsity (exact zeros) of the quantized attention:\n")
    out.append("| method | " + " | ".join(f"{b} bit{'s' if b > 1 else ''}" for b in allbits) + " |")
    out.append("|---|" + "---|" * len(allbits))
    for m in R.method_order(sp):
        have = dict(sp[m])
        out.append(f"| {R.label(m)} | " + " | ".join(g(have[b]["sparsity"]) if b in have else "" for b in allbits)
                   + " |")
    out.append("")


def js_table(rdir, t, out):
    grid = R.grid(rdir, t, "js")
    if not grid:
        return
    allbits = sorted({b for v in grid.values() for b, _ in v})
    some = next((r for v in grid.values() for _, r in v if R.ok(r)), {})
    out.append(f"### Jensen–Shannon distance, exact vs quantized rows ({some.get('tensors', '?')} sequences, "
               f"{some.get('js_rows', '?')} rows; spiqa-quantize --js)\n")
    out.append("| method | " + " | ".join(f"{b} bit{'s' if b > 1 else ''}" for b in allbits) + " |")
    out.append("|---|" + "---|" * len(allbits))
    for m in R.method_order(grid):
        have = dict(grid[m])
        cells = []
        for b in allbits:
            r = have.get(b)
            cells.append("" if r is None else "failed" if not R.ok(r) else g(r["js_distance_mean"]))
        out.append(f"| {R.label(m)} | " + " | ".join(cells) + " |")
    out.append("")


def timing(rdir, out):
    out.append("## Run time of the evaluation rows\n")
    out.append("| task | rows | examples per row | total seconds | examples per second (median over rows) |")
    out.append("|---|---|---|---|---|")
    for t in run_tasks(rdir):
        rows = [r for _, r in R.thresholds(rdir, t)] + [r for v in R.grid(rdir, t, "bits").values() for _, r in v]
        rows = [r for r in rows if R.ok(r)]
        if not rows:
            continue
        k = f"{R.task(t)['unit']}_per_second"
        out.append(f"| {t} | {len(rows)} | {rows[0]['n']} | {g(sum(r['seconds'] for r in rows))} | "
                   f"{g(float(np.median([r[k] for r in rows])))} |")
    out.append("")


def all_rows(rdir):
    """Every eval row and JS report of the run (failure rows included)."""
    rows = []
    for t in run_tasks(rdir):
        rows += [r for _, r in R.thresholds(rdir, t)]
        for kind in ("bits", "js"):
            rows += [r for v in R.grid(rdir, t, kind).values() for _, r in v]
        rows += [R.read(p) for p in sorted(glob.glob(os.path.join(rdir, t, "clamp", "*", "*", "*.json")))]
    return rows


def clamp_table(rdir, t, out):
    """Figure g's rows: pruning at T, then the log quantizer, beside pruning alone at the same T."""
    dirs = sorted(glob.glob(os.path.join(rdir, t, "clamp", "*", "*")))
    base = R.baseline(rdir, t)
    if not dirs or not R.ok(base):
        return
    key, name = R.metrics(t)[0]
    prune = {x: r for x, r in R.thresholds(rdir, t)}
    for d in dirs:
        method, bits = d.split(os.sep)[-2], d.split(os.sep)[-1]
        out.append(f"### Clamp-threshold sweep: pruning at T, then {R.label(method)} (`{method}`) at {bits} bits\n")
        out.append(f"| T | sparsity | {name} | relative change | pruning alone at T: {name} | row |")
        out.append("|---|---|---|---|---|---|")
        for p in sorted(glob.glob(os.path.join(d, "*.json")), key=lambda p: float(os.path.basename(p)[:-5])):
            x, r = float(os.path.basename(p)[:-5]), R.read(p)
            alone = prune.get(x)
            alone_txt = g(alone[key]) if R.ok(alone) else ""
            if not R.ok(r):
                out.append(f"| {x:g} | failed: {r.get('error')} | | | {alone_txt} | `{p}` |")
                continue
            out.append(f"| {x:g} | {g(r['sparsity'])} | {g(r[key])} | {relpct(r[key], base[key])} | {alone_txt} | "
                       f"`{p}` |")
        out.append("")


def masked_lm(rdir, out):
    """The masked-LM panel (figure j; mk/figures.mk FIG_MLM): its pruning sweep and quantization grid."""
    t = "mlm"
    if t in R.TASKS or not R.ok(R.baseline(rdir, t)):
        return
    out.append(f"## Masked LM: {R.model_name(R.baseline(rdir, t))}\n")
    out.append("The original analyzer's third case study: pseudo-perplexity (each token of a line masked in turn; "
               "docs/evaluation.md). It is a loss: lower is better, so here a **positive** relative change is a loss. "
               "The default checkpoint is `make mlm-model`'s head fitted on the frozen all-MiniLM-L6-v2 encoder "
               "(docs/evaluation.md, \"Masked LM on a fitted head\"); the paper used roberta-base.\n")
    sweep_table(rdir, t, out)
    bits_table(rdir, t, out)


def tool_of(r):
    pv = r.get("provenance") or {}
    if pv.get("tool"):
        return os.path.basename(pv["tool"])
    return "spiqa-quantize" if "js_distance_mean" in r else "spiqa-eval"


def builds(rdir, out):
    """Which builds made the rows (eval_row.py's "provenance"), and a warning when one tool's rows mix builds."""
    rows = all_rows(rdir)
    if not rows:
        return
    by_tool = {}
    for r in rows:
        pv = r.get("provenance") or {}
        tool = tool_of(r)
        key = pv.get("tool_sha256") or "unrecorded"
        by_tool.setdefault(tool, {}).setdefault(key, []).append(r)
    mixed = {tool: b for tool, b in by_tool.items() if len(b) > 1}
    out.append("## Builds\n")
    if mixed:
        out.append("**These rows come from different builds** of " + ", ".join(f"`{t}`" for t in sorted(mixed)) +
                   ": compare across them with care (`make figures-clean` and a rerun give one build).\n")
    else:
        out.append("Every row of each tool was made by one build (rows record it in `provenance`, "
                   "scripts/figures/eval_row.py).\n")
    out.append("| tool | binary SHA-256 (16 hex) | binary modified (UTC) | source tree when the rows were made "
               "(git describe) | rows | made (UTC) |")
    out.append("|---|---|---|---|---|---|")
    for tool in sorted(by_tool):
        for key, rs in sorted(by_tool[tool].items(), key=lambda kv: -len(kv[1])):
            pvs = [r.get("provenance") or {} for r in rs]
            mtimes = sorted({p.get("tool_mtime") for p in pvs if p.get("tool_mtime")})
            srcs = sorted({p.get("source") for p in pvs if p.get("source")})
            made = sorted(p.get("made") for p in pvs if p.get("made"))
            span = f"{made[0]} … {made[-1]}" if len(made) > 1 else (made[0] if made else "not recorded")
            out.append(f"| `{tool}` | `{key}` | {', '.join(mtimes) or '?'} | "
                       f"{', '.join(f'`{x}`' for x in srcs) or 'not recorded'} | {len(rs)} | {span} |")
    out.append("")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("--figures", help="figure folder to link to")
    p.add_argument("--output", default="-")
    p.add_argument("--expected-rows", type=int, help="number of eval rows the full grid has (states the coverage)")
    a = p.parse_args()
    out = ["# Results: the paper's experiments on this project's models",
           "",
           f"Generated by scripts/figures/results_md.py (`make figures`) from the result rows in `{a.results}/`; "
           "do not edit by hand. Scores are the rows' values to 6 significant digits. How to rerun, also with the "
           "paper's own checkpoints: [reproducing-the-paper.md](reproducing-the-paper.md).",
           "", "## The run", "",
           "| task | model | data | examples scored per setting | exact-attention score |",
           "|---|---|---|---|---|"]
    for t in run_tasks(a.results):
        base = R.baseline(a.results, t)
        if R.ok(base):
            sc = "; ".join(f"{n} {score_cell(t, base, k)}" for k, n in R.metrics(t))
            out.append(f"| {R.TASK_TITLE[t]} | `{base.get('model')}` | `{base.get('data')}` | {R.sample_text(base)} "
                       f"| {sc} |")
    out.append("")
    have = sum(len(R.thresholds(a.results, t)) + sum(len(v) for v in R.grid(a.results, t, "bits").values())
               for t in run_tasks(a.results))
    if a.expected_rows and have < a.expected_rows:
        out.append(f"**Partial run: {have} of the {a.expected_rows} evaluation rows of the grid exist**; empty cells "
                   "were not measured (yet). `make figures` with the same settings completes them.\n")
    else:
        out.append(f"{have} evaluation rows.\n")
    nb = {}
    for r in all_rows(a.results):
        nb.setdefault(tool_of(r), set()).add((r.get("provenance") or {}).get("tool_sha256") or "unrecorded")
    if any(len(v) > 1 for v in nb.values()):
        out.append("**The rows come from different builds** (" + "; ".join(
            f"`{t}`: {len(v)}" for t, v in sorted(nb.items()) if len(v) > 1) + "): see [Builds](#builds).\n")
    claims(a.results, out)
    for t in R.TASKS:
        out.append(f"## {R.TASK_TITLE[t]}\n")
        sweep_table(a.results, t, out)
        bits_table(a.results, t, out)
        js_table(a.results, t, out)
        clamp_table(a.results, t, out)
    masked_lm(a.results, out)
    timing(a.results, out)
    builds(a.results, out)
    if a.figures:
        out.append("## Figures\n")
        out.append(f"In `{a.figures}/` (PNG and PDF; not committed):\n")
        for name in sorted(f for f in os.listdir(a.figures) if f.endswith(".png")) if os.path.isdir(a.figures) else []:
            out.append(f"- `{name[:-4]}`")
        out.append("")
    text = "\n".join(out)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        tmp = a.output + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, a.output)
        print("wrote", a.output)


if __name__ == "__main__":
    main()
