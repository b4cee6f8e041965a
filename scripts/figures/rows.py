"""Reading the result rows of `make figures` (results/<run>/...), shared by the plot scripts and results_md.py.

Layout (mk/figures.mk):
  <task>/threshold/<t>.json          one `spiqa-eval` row per pruning threshold (0 = exact attention)
  <task>/bits/<method>/<b>.json      one `spiqa-eval` row per quantizer and bit width
  <task>/js/<method>/<b>.json        one `spiqa-quantize --js --report` JSON per quantizer and bit width
A row with "failed": true records a setting the tool rejected as bad data (exit 65; see eval_row.py).
"""
import glob
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TASKS = ("squad", "sst2")
TASK_TITLE = {"squad": "SQuAD v1.1 dev", "sst2": "SST-2 dev"}

# Reference function name → the paper's plot label (docs/quantizers.md), in legend order.
METHOD_LABEL = {
    "linear_slinear_midval": "linear",
    "linear_slinear_clamped_midval": "linear-pruned",
    "linear_slog_midval": "log",
    "linear_slog_clamped_midval": "log-pruned (paper)",
    "uniform_slinear_clamped_mean": "uniform linear-pruned",
    "uniform_slog_clamped_mean": "uniform log-pruned",
    "uniform_slog_mean": "uniform log",
    "binarization": "boolean",
}
METHOD_STYLE = {
    "linear_slinear_midval": dict(color="tab:blue", marker="o", linestyle="-"),
    "linear_slinear_clamped_midval": dict(color="tab:cyan", marker="s", linestyle="-"),
    "linear_slog_midval": dict(color="tab:orange", marker="^", linestyle="-"),
    "linear_slog_clamped_midval": dict(color="tab:red", marker="D", linestyle="-", linewidth=2.2),
    "uniform_slinear_clamped_mean": dict(color="tab:green", marker="v", linestyle="--"),
    "uniform_slog_clamped_mean": dict(color="tab:purple", marker="P", linestyle="--"),
    "uniform_slog_mean": dict(color="tab:brown", marker="X", linestyle="--"),
    "binarization": dict(color="black", marker="*", linestyle="none", markersize=11),
}


def label(method):
    return METHOD_LABEL.get(method, method)


def method_order(methods):
    known = [m for m in METHOD_LABEL if m in methods]
    return known + sorted(m for m in methods if m not in METHOD_LABEL)


def read(path):
    with open(path) as f:
        row = json.loads(f.read())
    row["_file"] = path
    return row


def _num(name):
    return float(os.path.splitext(os.path.basename(name))[0])


def thresholds(rdir, task):
    """Pruning-sweep rows of a task, sorted by threshold: [(threshold, row)]."""
    files = glob.glob(os.path.join(rdir, task, "threshold", "*.json"))
    return sorted(((_num(p), read(p)) for p in files), key=lambda x: x[0])


def baseline(rdir, task):
    """The exact-attention row (threshold 0), or None."""
    p = os.path.join(rdir, task, "threshold", "0.json")
    return read(p) if os.path.exists(p) else None


def grid(rdir, task, kind="bits"):
    """{method: [(bits, row)]} sorted by bits, for kind 'bits' (eval rows) or 'js' (quantize reports)."""
    out = {}
    for p in glob.glob(os.path.join(rdir, task, kind, "*", "*.json")):
        m = os.path.basename(os.path.dirname(p))
        out.setdefault(m, []).append((int(_num(p)), read(p)))
    return {m: sorted(v, key=lambda x: x[0]) for m, v in out.items()}


# Score keys of spiqa-eval's result line per task (the task registry; docs/evaluation.md), the primary one first.
METRICS = {
    "squad": [("em", "EM"), ("f1", "F1")], "squad_v2": [("f1", "F1"), ("em", "EM")],
    "cola": [("matthews_correlation", "Matthews corr.")], "mrpc": [("f1", "F1"), ("accuracy", "accuracy")],
    "qqp": [("accuracy", "accuracy"), ("f1", "F1")], "stsb": [("pearson", "Pearson"), ("spearmanr", "Spearman")],
}


def is_qa(task):
    return (task or "").startswith("squad")


def metrics(task):
    """Score keys of a task's eval rows with a display name; all shown in percent."""
    return METRICS.get(task, [("accuracy", "accuracy")])


def pct(row, key):
    """A score in percent (SQuAD EM/F1 already are; accuracy, F1 and correlations of the others are fractions)."""
    v = row[key]
    return v if is_qa(row.get("task")) and key in ("em", "f1") else 100.0 * v


def ok(row):
    return row is not None and not row.get("failed")


def model_name(row):
    m = row.get("model", "?").rstrip("/")
    return os.path.basename(m) if os.path.isdir(m) or m.startswith((".", "/")) else m


def sample_text(row):
    """'300 questions (seed 123 sample)' from a row's selection fields."""
    unit = "questions" if is_qa(row.get("task")) else "sentences"
    if "samples" in row:
        how = f"random.sample, seed {row.get('seed')}"
    elif row.get("selection") == "all":
        how = "all"
    else:
        how = f"offset {row.get('offset')}, limit {row.get('limit')}"
    return f"{row.get('n')} {unit} ({how})"


def save(fig, prefix):
    """OUT.png and OUT.pdf without dates or version strings (reproducible files)."""
    fig.savefig(prefix + ".png", dpi=130, metadata={"Software": None})
    fig.savefig(prefix + ".pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    plt.close(fig)
    print("wrote", prefix + ".png", prefix + ".pdf")
