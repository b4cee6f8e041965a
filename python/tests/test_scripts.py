"""The repository's Python uses the package: nothing evaluates data as code, the figure scripts and the numpy
reference run on tool outputs."""
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, run

EVAL_CALL = re.compile(r"(?<![\w.])eval\(")


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True).stdout
        names = out.split()
    except (OSError, subprocess.CalledProcessError):
        names = [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file() and ".build" not in p.parts]
    return [REPO / n for n in names if n.endswith((".py", ".sh", ".swift", ".js", ".md", ".mk", ".html")) or
            n in ("Makefile",)]


def test_no_eval_in_the_repository():
    """No Python (scripts, tests, snippets in Swift tests and docs) or JavaScript calls the builtin eval; model.eval()
    (a method) is fine."""
    hits = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for i, line in enumerate(text.splitlines(), 1):
            if EVAL_CALL.search(line):
                hits.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not hits, "calls of the builtin eval:\n" + "\n".join(hits)
    assert not (REPO / "scripts/spiqa_stream.py").exists()


@pytest.fixture(scope="module")
def matplotlib_ok():
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (make test installs it)")


def test_hist_figures_script(streams, bin_dir, model_dir, matplotlib_ok, tmp_path):
    """scripts/hist_figures.sh: spiqa-hist once, then every plot script (hist grid, sparsity, row spread with and
    without --per-row, heatmaps) through the package. Two layers × three heads keep the grid quick (the full
    6 × 12 grid takes a minute of matplotlib)."""
    stream = tmp_path / "small.npy.gz"
    run([bin_dir / "spiqa-extract", "--model", model_dir, "--task", "text", "--data", streams["dir"] / "text.txt",
         "--layers", "0-1", "--heads", "0-2", "--tokens", "--quiet", "-o", stream])
    out = tmp_path / "fig"
    env = dict(os.environ, PYTHON=sys.executable, MPLBACKEND="Agg")
    p = subprocess.run(["bash", str(REPO / "scripts/hist_figures.sh"), str(bin_dir), str(stream), str(out),
                        "", "1", "2"], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    names = sorted(f.name for f in out.iterdir())
    for stem in ("hist_grid", "sparsity_zeros", "sparsity_le_1e-3", "row_spread_L1_H2",
                 "at_hist_per_token_layer_1_head_2", "heatmap_text-0_L1", "heatmap_log_text-0_L1"):
        assert f"{stem}.png" in names and f"{stem}.pdf" in names, (stem, names)
        assert (out / f"{stem}.png").stat().st_size > 5000


def test_captioned_wrapper(streams, matplotlib_ok, tmp_path):
    run([sys.executable, REPO / "scripts/figures/captioned.py", "a caption", REPO / "scripts/plot_sparsity_grid.py",
         streams["hist_npy"], tmp_path / "cap"])
    assert (tmp_path / "cap.png").stat().st_size > 5000


def test_hist_reference_reads_through_the_package(streams, bin_dir, tmp_path):
    """scripts/hist_reference.py (numpy) agrees with spiqa-hist: the heads table character for character and
    every --npy array, the stream read from a pipe ("-")."""
    ref = REPO / "scripts/hist_reference.py"
    with open(streams["f32_gz"], "rb") as f:
        mine = subprocess.run([sys.executable, ref, "stats", "-"], stdin=f, capture_output=True, text=True)
    assert mine.returncode == 0, mine.stderr
    theirs = run([bin_dir / "spiqa-hist", streams["f32_gz"], "--quiet"]).stdout.decode()
    assert mine.stdout == theirs
    h = tmp_path / "h.npy"
    run([bin_dir / "spiqa-hist", streams["f32_gz"], "--quiet", "--npy", h])
    check = subprocess.run([sys.executable, ref, "check-npy", streams["f32_gz"], h], capture_output=True, text=True)
    assert check.returncode == 0 and "FAIL" not in check.stdout and check.stdout.count("ok") >= 10, check.stdout
