"""Round trips with the Swift tools: Python writes (np.save + JSON records, plain or gzip; spiqa.Writer) and
spiqa-quantize / spiqa-hist read; they write and Python reads the same values back."""
import gzip
import json

import numpy as np
import pytest

import spiqa

from conftest import run


def attention(rng, n, layers=2, heads=3):
    x = rng.standard_normal((layers, heads, n, n)).astype(np.float32) * 3
    p = np.exp(x - x.max(axis=-1, keepdims=True))
    p = (p / p.sum(axis=-1, keepdims=True)).astype(np.float32)
    p[0, 0, 0, :] = 0
    p[0, 0, 0, 0] = 1                      # a one-hot row: exact zeros
    return p


def meta(obj):
    return np.frombuffer(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(), np.uint8)


def write_with_numpy(path, records, compress):
    """docs/stream-format.md §6: np.save of JSON records and tensors, into gzip.open or a plain file."""
    with (gzip.open(path, "wb") if compress else open(path, "wb")) as f:
        np.save(f, meta({"spiqa": 1, "kind": "stream", "producer": "pytest"}))
        for i, p in enumerate(records):
            np.save(f, meta({"spiqa": 1, "kind": "attention", "example_id": f"py-{i}", "feature": 0,
                             "n": p.shape[-1], "layers": [0, 1], "heads": [0, 1, 2]}))
            stored = p
            if i == 1:
                stored = p.astype(">f4")                       # big-endian on disk
            elif i == 2:
                stored = np.asfortranarray(p)                  # np.save writes fortran_order: True
            np.save(f, stored)
            if i == 0:
                np.save(f, meta({"spiqa": 1, "kind": "hidden_states", "example_id": "py-0"}))
                np.save(f, np.zeros((3, p.shape[-1], 4), np.float16))


@pytest.fixture(scope="module")
def records():
    rng = np.random.default_rng(7)
    return [attention(rng, n) for n in (5, 17, 9, 1)]


@pytest.mark.parametrize("how", ["numpy-gzip", "numpy-plain", "writer-gzip", "writer-plain"])
def test_python_writer_swift_reader(bin_dir, tmp_path, records, how):
    src = tmp_path / ("in.npy.gz" if how.endswith("gzip") else "in.npy")
    if how.startswith("numpy"):
        write_with_numpy(src, records, how.endswith("gzip"))
    else:
        with spiqa.Writer(src, header={"producer": "pytest"}) as w:
            for i, p in enumerate(records):
                w.write({"example_id": f"py-{i}", "n": p.shape[-1], "layers": [0, 1], "heads": [0, 1, 2]}, p)
    # spiqa-quantize reads it: pruning p > 0.1 gives numpy's np.where, value for value.
    out = tmp_path / "pruned.npy"
    run([bin_dir / "spiqa-quantize", src, "--threshold", "0.1", "--compression", "none", "--quiet", "-o", out])
    got = [r for r in spiqa.open(out) if r.kind == "attention"]
    assert [r.meta["example_id"] for r in got] == [f"py-{i}" for i in range(len(records))]
    for r, p in zip(got, records):
        assert r.array.dtype == np.float32
        np.testing.assert_array_equal(r.array, np.where(p > np.float32(0.1), p, np.float32(0)))
    # ... and codes: u1 codes into the levels give the quantized floats of the f32 output.
    codes, floats = tmp_path / "codes.npy.gz", tmp_path / "q.npy.gz"
    run([bin_dir / "spiqa-quantize", src, "--bits", "3", "--output-dtype", "codes", "--quiet", "-o", codes])
    run([bin_dir / "spiqa-quantize", src, "--bits", "3", "--quiet", "-o", floats])
    for c, q in zip(spiqa.open(codes), spiqa.open(floats)):
        if c.kind == "attention":
            np.testing.assert_array_equal(c.attention(), q.array)
    # spiqa-hist reads it: value and zero counts, min and max per head.
    h = tmp_path / "h.npy"
    run([bin_dir / "spiqa-hist", src, "--quiet", "--npy", h])
    A = spiqa.hist_arrays(h)
    allp = [p for p in records]
    np.testing.assert_array_equal(A["values"], np.full((2, 3), sum(p.shape[-1] ** 2 for p in allp)))
    np.testing.assert_array_equal(A["zeros"], sum((p == 0).sum(axis=(2, 3)) for p in allp))
    np.testing.assert_array_equal(A["max"], np.max([p.max(axis=(2, 3)) for p in allp], axis=0))
    np.testing.assert_array_equal(A["min"], np.min([p.min(axis=(2, 3)) for p in allp], axis=0))
    assert A["histogram"].sum() == 6 * sum(p.shape[-1] ** 2 for p in allp)


def test_swift_writer_python_reader_values(bin_dir, tmp_path, records):
    """What Python wrote comes back bit for bit after a pass through spiqa-quantize (no pruning) in every
    compression the tools write."""
    src = tmp_path / "in.npy"
    write_with_numpy(src, records, False)
    for comp in ("fast", "none", "6", "1:rle", "best"):
        out = tmp_path / f"out-{comp.replace(':', '')}"
        run([bin_dir / "spiqa-quantize", src, "--compression", comp, "--quiet", "-o", out])
        got = [r for r in spiqa.open(out)]
        assert [r.kind for r in got] == ["attention", "hidden_states"] + ["attention"] * 3
        att = [r.array for r in got if r.kind == "attention"]
        for a, p in zip(att, records):
            assert a.dtype == np.float32 and a.flags.c_contiguous
            np.testing.assert_array_equal(a, p)
    f16 = tmp_path / "f16.npy.gz"
    run([bin_dir / "spiqa-quantize", src, "--dtype", "f16", "--quiet", "-o", f16])
    for r, p in zip([r for r in spiqa.open(f16) if r.kind == "attention"], records):
        assert r.array.dtype == np.float16
        np.testing.assert_array_equal(r.array, p.astype(np.float16))


def test_transformed_codes_stream_reads_in_the_tools(bin_dir, streams, tmp_path):
    """The notebook pattern w.write(rec.meta, f(rec.attention())) on a codes stream: the tools read the result
    (they refused a float tensor still labelled as codes)."""
    out = tmp_path / "pruned.npy.gz"
    with spiqa.open(streams["codes_u1"]) as s, spiqa.Writer(out, header=s.header) as w:
        for rec in s:
            p = rec.attention()
            w.write(rec.meta, np.where(p > np.float32(0.1), p, np.float32(0)))
    h = tmp_path / "h.npy"
    run([bin_dir / "spiqa-hist", out, "--quiet", "--npy", h])
    exact = [r.attention() for r in spiqa.open(streams["codes_u1"])]
    zeros = sum((p <= np.float32(0.1)).sum(axis=(2, 3)) for p in exact)
    np.testing.assert_array_equal(spiqa.hist_arrays(h)["zeros"], zeros)
