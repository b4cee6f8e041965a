"""Shared fixtures: the repository, the built tools, the default model, ../shared, and streams made with the tools.

Tests that need something absent skip and say what is missing: the tools (SPIQA_BIN, or .build-test/release or
.build/release of this checkout), the default model (SPIQA_MODEL or models/all-MiniLM-L6-v2, from `make setup`),
../shared (SPIQA_SHARED).
"""
import gzip
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("spiqa-extract", "spiqa-quantize", "spiqa-hist")
SENTENCES = ["the cat sat on the mat.", "attention is all you need, they said <b>loudly</b> & clearly.",
             "a third, much longer sentence gives the heads something to look at: dogs, cats and birds."]


def _tool_dir():
    if os.environ.get("SPIQA_BIN"):
        return Path(os.environ["SPIQA_BIN"])
    for d in (REPO / ".build-test/release", REPO / ".build/release"):
        if all((d / t).is_file() for t in TOOLS):
            return d
    return None


@pytest.fixture(scope="session")
def bin_dir():
    d = _tool_dir()
    if d is None or not all((d / t).is_file() for t in TOOLS):
        pytest.skip(f"built spiqa tools not found (SPIQA_BIN={os.environ.get('SPIQA_BIN', '')!r}, "
                    f"{REPO}/.build-test/release, {REPO}/.build/release): build with `make test` or swift build")
    return d


@pytest.fixture(scope="session")
def model_dir():
    d = Path(os.environ.get("SPIQA_MODEL") or REPO / "models/all-MiniLM-L6-v2")
    if not (d / "config.json").is_file():
        pytest.skip(f"default model not found at {d} (make setup downloads it)")
    return d


@pytest.fixture(scope="session")
def shared_dir():
    d = Path(os.environ.get("SPIQA_SHARED") or REPO.parent / "shared")
    if not (d / "data").is_dir():
        pytest.skip(f"../shared not found at {d} (set SPIQA_SHARED)")
    return d


def run(args, **kw):
    """Runs a command, failing the test with its stderr when it fails."""
    p = subprocess.run([str(a) for a in args], capture_output=True, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


@pytest.fixture(scope="session")
def streams(bin_dir, model_dir, tmp_path_factory):
    """Every stream kind the tools write, on three sentences of the default model (a few seconds)."""
    d = tmp_path_factory.mktemp("streams")
    text = d / "text.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    ex = [bin_dir / "spiqa-extract", "--model", model_dir, "--task", "text", "--data", text, "--quiet"]
    q = [bin_dir / "spiqa-quantize", "--quiet"]
    s = {}
    s["f32_gz"] = d / "f32.npy.gz"
    run(ex + ["--tokens", "-o", s["f32_gz"]])
    s["f32_plain"] = d / "f32.npy"
    run(ex + ["--tokens", "--no-gzip", "-o", s["f32_plain"]])
    s["f16_hidden"] = d / "f16_hidden.npy.gz"
    run(ex + ["--dtype", "f16", "--hidden-states", "--tokens", "-o", s["f16_hidden"]])
    s["f16_plain"] = d / "f16.npy"
    run(ex + ["--dtype", "f16", "--no-gzip", "-o", s["f16_plain"]])
    s["pruned_gz"] = d / "pruned.npy.gz"
    run(ex + ["--threshold", "0.05", "--compression", "6", "-o", s["pruned_gz"]])
    s["codes_u1"] = d / "codes_u1.npy.gz"
    run(q + [s["f32_gz"], "--bits", "3", "--dtype", "codes", "-o", s["codes_u1"]])
    s["codes_u2"] = d / "codes_u2.npy"
    run(q + [s["f32_gz"], "--method", "linear", "--bits", "10", "--dtype", "codes", "--compression", "none",
             "-o", s["codes_u2"]])
    s["quant_f32"] = d / "quant_f32.npy.gz"
    run(q + [s["f32_gz"], "--bits", "3", "-o", s["quant_f32"]])
    s["hist_npy"] = d / "hist.npy"
    s["per_row"] = d / "rows.npy.gz"
    s["heads_tsv"] = d / "heads.tsv"
    out = run([bin_dir / "spiqa-hist", s["f32_gz"], "--quiet", "--npy", s["hist_npy"], "--per-row", s["per_row"],
               "--compare", s["quant_f32"]]).stdout
    s["heads_tsv"].write_bytes(out)
    s["dir"] = d
    return s


def numpy_records(path):
    """(meta, array) pairs read the independent way: np.load in a loop (gzip.open for gzip files)."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    out = []
    with (gzip.open(path) if gz else open(path, "rb")) as f:
        while True:
            try:
                m = np.load(f)
            except EOFError:
                return out
            meta = json.loads(m.tobytes())
            out.append((meta, None if meta["kind"] == "stream" else np.load(f)))
