"""Minimal reader for spiqa record streams (docs/stream-format.md) shared by the figure scripts.

A stream is a sequence of .npy records (plain or gzip): a JSON metadata record (1-D uint8) before each tensor;
`"kind": "stream"` headers have no tensor. Works on files and pipes.
"""
import gzip
import json
import sys

import numpy as np


def _open(path):
    f = sys.stdin.buffer if path in (None, "-") else open(path, "rb")
    if f.peek(2)[:2] == b"\x1f\x8b":
        return gzip.open(f)
    return f


def _read_array(f):
    """One .npy array from a (possibly non-seekable) stream; None at the end."""
    magic = f.read(6)
    if not magic:
        return None
    if magic != b"\x93NUMPY":
        raise ValueError("not an NPY record (bad magic %r)" % magic)
    major, minor = f.read(2)
    hlen = int.from_bytes(f.read(2 if major == 1 else 4), "little")
    header = eval(f.read(hlen).decode("latin1"))  # the NPY header is a Python dict literal
    dtype = np.dtype(header["descr"])
    shape = header["shape"]
    count = int(np.prod(shape)) if shape else 1
    data = f.read(count * dtype.itemsize)
    return np.frombuffer(data, dtype).reshape(shape)


def records(path):
    """Yields (meta dict, array) for every tensor record; headers are skipped."""
    f = _open(path)
    while True:
        m = _read_array(f)
        if m is None:
            return
        meta = json.loads(m.tobytes())
        if meta.get("kind") == "stream":
            continue
        yield meta, _read_array(f)


def header(path):
    """The first stream header (dict) or {}."""
    f = _open(path)
    m = _read_array(f)
    if m is None:
        return {}
    meta = json.loads(m.tobytes())
    return meta if meta.get("kind") == "stream" else {}


def named_arrays(path):
    """`spiqa-hist --npy` output as {name: array}, plus "_header"."""
    out = {"_header": header(path)}
    for meta, a in records(path):
        out[meta["name"]] = a
    return out


def attention(meta, a):
    """Float32 attention [layers, heads, n, n] of a record (f2/f4, or codes + levels)."""
    if meta.get("encoding") == "codes":
        return np.asarray(meta["levels"], np.float32)[a]
    return a.astype(np.float32)


def save(fig, out_prefix):
    """Writes OUT.png and OUT.pdf deterministically (no dates or version strings)."""
    fig.savefig(out_prefix + ".png", dpi=130, metadata={"Software": None})
    fig.savefig(out_prefix + ".pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    print("wrote", out_prefix + ".png", out_prefix + ".pdf")
