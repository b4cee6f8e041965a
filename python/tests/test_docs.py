"""docs/python.md is a notebook: every python cell runs, in order, as one script (in a scratch folder)."""
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

DOC = REPO / "docs/python.md"


def cells():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def script():
    """The cells as one script; a marker line before each cell's output."""
    return "\n".join(f'print("### cell {i}", flush=True)\n{c}' for i, c in enumerate(cells()))


def test_walkthrough_runs(bin_dir, shared_dir, tmp_path):
    pytest.importorskip("pandas", reason="the walkthrough reads tables with pandas (make test installs it)")
    pytest.importorskip("matplotlib", reason="the walkthrough plots with matplotlib (make test installs it)")
    assert len(cells()) >= 8
    (tmp_path / "walkthrough.py").write_text(script())
    env = dict(os.environ, SPIQA_BIN=str(bin_dir), SPIQA_SHARED=str(shared_dir), MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, "walkthrough.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    for name in ("head.png", "hist.png", "hist.npy", "heads.tsv", "q.npy.gz", "view.html", "mine.npy.gz"):
        assert (tmp_path / name).is_file(), name
    out = p.stdout
    assert "spiqa-extract sst2 bert" in out and "rows sum to 1: True" in out and "uint8 <- np.load" in out
    assert "NPY header is not a Python literal" in out and "owned" not in out.split("NPY header")[0]


if __name__ == "__main__":          # python python/tests/test_docs.py > walk.py: the script, to refresh outputs
    print(script())
