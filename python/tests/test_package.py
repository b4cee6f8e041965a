"""The installed package is this checkout's, with its viewer assets and console script."""
import shutil
import subprocess
import sys
from pathlib import Path

import spiqa

from conftest import REPO

SRC = REPO / "python/src/spiqa"


def test_imported_package_is_this_checkout():
    """`make test` runs `pip install ./python` first; a stale install would test other code."""
    here = Path(spiqa.__file__).resolve().parent
    stale = [p.name for p in SRC.rglob("*") if p.is_file() and "__pycache__" not in p.parts and
             p.read_bytes() != (here / p.relative_to(SRC)).read_bytes()] if here != SRC.resolve() else []
    assert not stale, f"{here} differs from {SRC} in {stale}: pip install ./python"
    for asset in ("template.html", "viewer.js", "viewer.css"):
        assert (here / "viewer" / asset).is_file()


def test_console_script_and_module():
    here = Path(spiqa.__file__).resolve().parent
    out = subprocess.run([sys.executable, "-m", "spiqa.view", "--help"], capture_output=True, text=True, check=True)
    assert "--compare STREAM2" in out.stdout and "--max-mb" in out.stdout
    if here != SRC.resolve():                       # installed: the console script is on PATH next to python
        exe = shutil.which("spiqa-view") or str(Path(sys.executable).parent / "spiqa-view")
        assert Path(exe).is_file()
        assert "--compare STREAM2" in subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    assert spiqa.__version__ == "0.1.0"
