"""The make-figures helpers that need no model: head_stats.py on a hand-made stream, eval_row.py's provenance, and
results_md.py's warning when rows come from different builds (scripts/figures/, docs/reproducing-the-paper.md)."""
import json
import os
import subprocess
import sys

import numpy as np

from conftest import REPO

import spiqa.writer

FIG = REPO / "scripts/figures"


def test_head_stats_per_example(tmp_path):
    """Two records of one example and one of another: fraction ≤ 1e-3 and normalised row entropy per head."""
    one_hot = np.eye(4, dtype=np.float32)                       # entropy 0, 12 of 16 values ≤ 1e-3
    uniform = np.full((4, 4), 0.25, dtype=np.float32)           # entropy 1, nothing ≤ 1e-3
    rec = lambda a, b: np.stack([np.stack([a, b])])             # [1 layer, 2 heads, 4, 4]
    path = tmp_path / "a.npy.gz"
    w = spiqa.writer.Writer(str(path), header={})
    w.write({"example_id": "x", "feature": 0, "layers": [0], "heads": [0, 1]}, rec(one_hot, uniform))
    w.write({"example_id": "x", "feature": 1, "layers": [0], "heads": [0, 1]}, rec(uniform, uniform))
    w.write({"example_id": "y", "feature": 0, "layers": [0], "heads": [0, 1]}, rec(one_hot, one_hot))
    w.close()
    out = tmp_path / "s.npz"
    subprocess.run([sys.executable, FIG / "head_stats.py", path, out], check=True, capture_output=True)
    d = np.load(out)
    assert list(d["example_id"]) == ["x", "y"]
    np.testing.assert_allclose(d["sparsity"][:, 0, :], [[12 / 32, 0], [12 / 16, 12 / 16]])
    np.testing.assert_allclose(d["entropy"][:, 0, :], [[0.5, 1], [0, 0]], atol=1e-6)


def test_eval_row_provenance_and_mixed_builds(tmp_path):
    """Each row gets provenance (binary hash, git describe); results.md warns when one tool's rows mix builds."""
    tool = tmp_path / "spiqa-eval"
    row = {"task": "sst2", "model": "m", "data": "d", "n": 2, "accuracy": 0.5, "correct": 1, "sparsity": 0.0,
           "seconds": 1.0, "sentences_per_second": 2.0, "threshold": 0.0, "method": None, "bits": None}
    rdir = tmp_path / "results"
    (rdir / "sst2/threshold").mkdir(parents=True)
    for name, extra in (("0.json", "# build one\n"), ("1e-3.json", "# build two\n")):
        tool.write_text("#!/bin/sh\n" + extra + f"echo '{json.dumps(row)}'\n")
        tool.chmod(0o755)
        subprocess.run([sys.executable, FIG / "eval_row.py", rdir / "sst2/threshold" / name, "--", tool],
                       check=True, capture_output=True, cwd=REPO)
    rows = [json.loads((rdir / "sst2/threshold" / n).read_text()) for n in ("0.json", "1e-3.json")]
    for r in rows:
        pv = r["provenance"]
        assert pv["tool"] == str(tool) and len(pv["tool_sha256"]) == 16 and pv["source"] and pv["made"]
        assert r["accuracy"] == 0.5
    assert rows[0]["provenance"]["tool_sha256"] != rows[1]["provenance"]["tool_sha256"]
    md = subprocess.run([sys.executable, FIG / "results_md.py", rdir], check=True, capture_output=True, text=True,
                        env=dict(os.environ, MPLBACKEND="Agg")).stdout
    assert "**The rows come from different builds** (`spiqa-eval`: 2)" in md
    assert "## Builds" in md and rows[1]["provenance"]["tool_sha256"] in md
    (rdir / "sst2/threshold/1e-3.json").unlink()
    md = subprocess.run([sys.executable, FIG / "results_md.py", rdir], check=True, capture_output=True, text=True,
                        env=dict(os.environ, MPLBACKEND="Agg")).stdout
    assert "different builds" not in md and "made by one build" in md


def test_hidden_state_hist_matches_numpy_and_plots(bin_dir, tmp_path):
    """spiqa-hist --hidden-states --npy on the committed sample equals scripts/hs_hist_reference.py (numpy, the
    reference's per-token np.histogram), and figure (i)'s script draws it."""
    stream = REPO / "Tests/CLITests/Fixtures/hist/hs_sample.npy.gz"
    npy = tmp_path / "hs.npy"
    subprocess.run([str(bin_dir / "spiqa-hist"), stream, "--hidden-states", "--quiet", "--npy", npy], check=True,
                   capture_output=True)
    subprocess.run([sys.executable, REPO / "scripts/hs_hist_reference.py", "check-npy", stream, npy], check=True,
                   capture_output=True)
    out = tmp_path / "fig"
    subprocess.run([sys.executable, FIG / "plot_hidden_states.py", npy, out, "--title", "sample"], check=True,
                   capture_output=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert (tmp_path / "fig.png").stat().st_size > 0 and (tmp_path / "fig.pdf").stat().st_size > 0
