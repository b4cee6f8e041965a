#!/usr/bin/env python3
"""Write the numpy-made fixtures of Tests/SpiqaIOTests/Fixtures (run from the package root).

Every file is written by numpy itself (np.save / np.lib.format.write_array / gzip), so the Swift tests check
SpiqaIO against the real thing: reading every dtype/shape/byte order/version/memory order, byte-identical
writes, and record streams written by numpy. manifest.json lists each array's dtype, shape and values.
Deterministic: same numpy → same bytes (gzip members are written with mtime=0).
"""
import gzip
import io
import json
import os
import sys

import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/SpiqaIOTests/Fixtures"
DTYPES = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]
SHAPES = {"scalar": (), "empty": (0,), "5": (5,), "2x3": (2, 3)}


def values(dtype, shape):
    """Deterministic values that exercise sign, fractions and the byte order."""
    n = int(np.prod(shape)) if shape else 1
    k = np.arange(n)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        v = (k - 2) * 0.75 + 0.125
    elif dt.kind in "iu":
        v = ((k - 2) * 3 if dt.kind == "i" else k * 7).astype(dt)
        if n > 2:  # the extreme value of the type, to catch sign and byte-order slips
            v[-1] = np.iinfo(dt).min if dt.kind == "i" else np.iinfo(dt).max
    else:
        v = k % 2 == 0
    return np.asarray(v).astype(dt).reshape(shape)


manifest = {}


def record(name, a, **extra):
    entry = {"dtype": a.dtype.str[1:], "shape": list(a.shape),
             "values": [float(x) for x in np.ascontiguousarray(a).ravel()]}
    entry.update(extra)
    manifest[name] = entry


def save(name, a, **extra):
    with open(os.path.join(OUT, name), "wb") as f:
        np.save(f, a)
    record(name, a, **extra)


def main():
    os.makedirs(OUT, exist_ok=True)
    for d in DTYPES:
        for tag, shape in SHAPES.items():
            save(f"{d}_{tag}.npy", values("<" + d if d not in ("i1", "u1", "b1") else d, shape), numpy_written=True)
    # Big-endian descriptors ('>f4' ...): the reader converts to little-endian.
    for d in ["f2", "f4", "f8", "i2", "i4", "i8", "u2", "u4", "u8"]:
        a = values(">" + d, (2, 3))
        save(f"be_{d}_2x3.npy", a, big_endian=True)
    # Format versions 2.0 and 3.0 (numpy writes them when asked; 3.0 is UTF-8).
    for version in [(2, 0), (3, 0)]:
        a = values("<f4", (2, 3))
        name = f"v{version[0]}_f4_2x3.npy"
        with open(os.path.join(OUT, name), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        record(name, a, version=version[0])
    # Fortran order: stored column-major, read back as the same (C-order) values.
    for d, shape in [("f4", (2, 3, 4)), ("i2", (3, 2))]:
        a = np.asfortranarray(values("<" + d, shape))
        save(f"fortran_{d}_{'x'.join(map(str, shape))}.npy", a, fortran=True)
    # Long first axis: fewer spare header spaces (numpy's GROWTH_AXIS_MAX_DIGITS).
    for shape in [(123456, 0), (0, 123456), (7, 1, 1, 1, 1, 1, 1, 1, 0)]:
        a = np.zeros(shape, dtype="<f4")
        save(f"zeros_{'x'.join(map(str, shape))}.npy", a, numpy_written=True)

    # A record stream written by numpy: header, then meta + tensor pairs.
    stream = io.BytesIO()

    def meta(obj):
        b = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        np.save(stream, np.frombuffer(b, dtype=np.uint8))

    meta({"spiqa": 1, "kind": "stream", "producer": "numpy", "note": "written by make_npy_fixtures.py"})
    rng = np.random.default_rng(7)
    tensors = []
    for i, n in enumerate([3, 5]):
        logits = rng.standard_normal((2, 2, n, n)) * 3
        p = np.exp(logits)
        p = (p / p.sum(-1, keepdims=True)).astype("<f4")
        meta({"spiqa": 1, "kind": "attention", "example_id": f"ex-{i}", "example_index": i, "feature": 0,
              "n": n, "shape": [2, 2, n, n], "layers": [0, 1], "heads": [0, 1], "dtype": "f4",
              "tokens": ["[CLS]", "héllo"] + ["x"] * (n - 2), "threshold": 0.0, "method": None, "bits": None})
        np.save(stream, p)
        tensors.append(p)
    codes = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], dtype=np.uint8)
    meta({"spiqa": 1, "kind": "attention", "example_id": "codes", "shape": [2, 4], "dtype": "u1",
          "encoding": "codes", "levels": [0.0, 0.25, 0.5, 1.0]})
    np.save(stream, codes)
    with open(os.path.join(OUT, "stream_numpy.npy"), "wb") as f:
        f.write(stream.getvalue())
    with open(os.path.join(OUT, "stream_numpy.npy.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as g:
            g.write(stream.getvalue())
    manifest["stream_numpy.npy"] = {
        "tensors": [[float(x) for x in t.ravel()] for t in tensors] + [[0.0, 0.25, 0.5, 1.0, 1.0, 0.5, 0.25, 0.0]]}

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=0, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(manifest)} fixtures to {OUT} (numpy {np.__version__})")


if __name__ == "__main__":
    main()
