"""Reading the result rows of `make figures` (results/<run>/...), shared by the plot scripts and results_md.py.

Layout (mk/figures.mk):
  <task>/threshold/<t>.json          one `spiqa-eval` row per pruning threshold (0 = exact attention)
  <task>/bits/<method>/<b>.json      one `spiqa-eval` row per quantizer and bit width
  <task>/js/<method>/<b>.json        one `spiqa-quantize --js --report` JSON per quantizer and bit width
A row with "failed": true records a setting the tool rejected as bad data (exit 65; see eval_row.py).
"""
import functools
import glob
import json
import os
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "python", "src"))
import spiqa.plot  # noqa: E402  (this checkout's package: the one save rule of every figure)

# The tasks come from spiqa-eval's task registry (`spiqa-eval --list-tasks`): titles, units and metrics are not kept
# here. TASKS (the tasks `make figures` runs: $FIG_TASKS) and TASK_TITLE are read on first use (module __getattr__).

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


def zero_position(ts):
    """Where threshold 0 is drawn on a log axis of thresholds: one decade below the smallest positive one."""
    pos = [t for t in ts if t > 0]
    return (min(pos) if pos else 1e-4) / 10


def grid(rdir, task, kind="bits"):
    """{method: [(bits, row)]} sorted by bits, for kind 'bits' (eval rows) or 'js' (quantize reports)."""
    out = {}
    for p in glob.glob(os.path.join(rdir, task, kind, "*", "*.json")):
        m = os.path.basename(os.path.dirname(p))
        out.setdefault(m, []).append((int(_num(p)), read(p)))
    return {m: sorted(v, key=lambda x: x[0]) for m, v in out.items()}


def _eval_tool():
    """spiqa-eval of the figures run: $SPIQA_EVAL (mk/figures.mk exports it), else $SPIQA_BIN/spiqa-eval, else on
    PATH, else .build/release/spiqa-eval."""
    if os.environ.get("SPIQA_EVAL"):
        return os.environ["SPIQA_EVAL"]
    if os.environ.get("SPIQA_BIN"):
        return os.path.join(os.environ["SPIQA_BIN"], "spiqa-eval")
    return shutil.which("spiqa-eval") or ".build/release/spiqa-eval"


@functools.lru_cache(maxsize=None)
def registry():
    """name → the task's registry entry (title, unit, metrics [{key, label, percent}], default_data)."""
    try:
        out = subprocess.run([_eval_tool(), "--list-tasks"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"figures: cannot read the task registry from {_eval_tool()} --list-tasks: {e}")
    return {t["name"]: t for t in (json.loads(line) for line in out.splitlines() if line.strip())}


def task(name):
    t = registry().get(name)
    if t is None:
        raise SystemExit(f"figures: task '{name}' is not in the registry ({', '.join(registry())})")
    return t


def __getattr__(name):
    if name == "TASKS":
        wanted = tuple(os.environ.get("FIG_TASKS", "squad sst2").split())
        for t in wanted:
            task(t)
        return wanted
    if name == "TASK_TITLE":
        return {n: t["title"] for n, t in registry().items()}
    raise AttributeError(name)


def is_qa(name):
    return bool(name) and task(name)["unit"] == "questions"


def metrics(name):
    """Score keys of a task's eval rows with a display name, the headline first (the registry's order)."""
    return [(m["key"], m["label"]) for m in task(name)["metrics"]]


def _metric(task_name, key):
    """The registry's entry of one metric of a task ({} when the task does not report it)."""
    return next((m for m in task(task_name)["metrics"] if m["key"] == key), {})


def scale(task_name, key):
    """How a score reads (the registry's `scale`): 'percent' (SQuAD's EM/F1), 'fraction' (accuracy, correlations:
    plotted ×100) or 'value' (pseudo-perplexity: as it is). Registries of older builds only say `percent`."""
    m = _metric(task_name, key)
    return m.get("scale") or ("percent" if m.get("percent") else "fraction")


def lower_is_better(task_name, key):
    """True for losses (pseudo-perplexity): a relative change above 0 is then a loss."""
    return bool(_metric(task_name, key).get("lower_is_better"))


def pct(row, key):
    """A score as plotted: percent for 'percent' and 'fraction' metrics, the value itself for 'value' ones."""
    v = row[key]
    return 100.0 * v if scale(row.get("task"), key) == "fraction" else v


def ok(row):
    return row is not None and not row.get("failed")


def model_name(row):
    m = row.get("model", "?").rstrip("/")
    return os.path.basename(m) if os.path.isdir(m) or m.startswith((".", "/")) else m


def sample_text(row):
    """'300 questions (seed 123 sample)' from a row's selection fields."""
    unit = task(row["task"])["unit"] if row.get("task") in registry() else "sentences"
    if "samples" in row:
        how = f"random.sample, seed {row.get('seed')}"
    elif row.get("selection") == "all":
        how = "all"
    else:
        how = f"offset {row.get('offset')}, limit {row.get('limit')}"
    return f"{row.get('n')} {unit} ({how})"


def stream_sample(rdir, task, name="attention.npy.gz"):
    """'2 questions (random.sample, seed 123)': the sample of one of a task's attention streams, from its header
    (spiqa.plot.stream_parts), or '' when the stream is not there."""
    return (spiqa.plot.stream_parts(os.path.join(rdir, task, name)) or {}).get("sample", "")


def save(fig, prefix):
    """OUT.png and OUT.pdf without dates or version strings (reproducible files), through spiqa.plot.save_figure:
    it refuses a figure with text under 8 pt."""
    spiqa.plot.save_figure(fig, prefix)
    plt.close(fig)
