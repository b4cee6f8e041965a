"""spiqa-hist outputs as DataFrames (pandas) and arrays; the np.load trap."""
import subprocess
import sys

import numpy as np
import pytest

import spiqa

from conftest import run


@pytest.fixture(scope="module")
def pd():
    return pytest.importorskip("pandas", reason="pandas is not installed (make test installs it)")


def test_heads_from_npy_equal_heads_from_tsv(streams, pd):
    a = spiqa.read_heads(streams["hist_npy"])
    b = spiqa.read_heads(streams["heads_tsv"])
    assert list(b.columns)[:5] == ["layer", "head", "values", "zeros", "sparsity"] and "js_mean" in b.columns
    assert list(a.columns) == list(b.columns) + ["nans", "empty_rows"]
    assert a.equals(spiqa.read_heads(streams["hist_npy"].read_bytes()))
    assert b.equals(spiqa.read_heads(streams["heads_tsv"].read_text()))
    with open(streams["heads_tsv"]) as f:
        assert b.equals(spiqa.read_heads(f))
    assert len(a) == len(b) == 72
    for c in b.columns:
        np.testing.assert_allclose(a[c].astype(float), b[c].astype(float), rtol=1e-7, atol=1e-12, equal_nan=True,
                                   err_msg=c)


def test_hist_from_npy_equals_hist_table(streams, bin_dir, pd):
    text = run([bin_dir / "spiqa-hist", streams["f32_gz"], "--quiet", "--table", "hist", "--table", "layers",
                "--table", "rows", "--table", "ref-stats", "--table", "heads"]).stdout.decode()
    tables = spiqa.read_tables(text)
    assert list(tables) == ["hist", "layers", "rows", "ref-stats", "heads"]
    assert tables["layers"]["layer"].tolist()[-1] == "all" and tables["layers"]["layer"].tolist()[0] == 0
    h = spiqa.read_hist(streams["hist_npy"])
    t = tables["hist"]
    assert list(h.columns) == list(t.columns) and len(h) == len(t) == 72 * 100
    for c in t.columns:
        np.testing.assert_allclose(h[c].astype(float), t[c].astype(float), rtol=1e-7, equal_nan=True, err_msg=c)
    assert h.groupby(["layer", "head"])["fraction"].sum().round(6).eq(1).all()
    (streams["dir"] / "hist.tsv").write_text(text)
    assert spiqa.read_hist(streams["dir"] / "hist.tsv").equals(t)
    with pytest.raises(ValueError, match="no 'hist' table .*found: heads"):
        spiqa.read_hist(streams["heads_tsv"])


def test_np_load_trap_and_the_right_call(streams):
    """np.load("hist.npy") returns only the first record: the JSON header as bytes. hist_arrays reads them all,
    and np.savez makes a file that plain np.load reads by name."""
    first = np.load(streams["hist_npy"])
    assert first.dtype == np.uint8 and first.ndim == 1 and first.tobytes().startswith(b'{"bins":')
    A = spiqa.hist_arrays(streams["hist_npy"])
    assert A.header["content"] == "hist-arrays" and A["histogram"].shape == (6, 12, 100)
    npz = streams["dir"] / "hist.npz"
    np.savez(npz, **A)
    with np.load(npz) as z:
        assert sorted(z.files) == sorted(A) and np.array_equal(z["histogram"], A["histogram"])


def test_pandas_is_optional(streams):
    """Without pandas the readers say what to install; the numpy ones work."""
    code = ("import sys; sys.modules['pandas'] = None\n"
            "import spiqa\n"
            "A = spiqa.hist_arrays(sys.argv[1]); assert A['values'].shape == (6, 12)\n"
            "try:\n    spiqa.read_heads(sys.argv[1])\n"
            "except ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(streams["hist_npy"])], capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": ":".join(sys.path)}).stdout
    assert "need pandas, which is not installed: pip install pandas" in out
