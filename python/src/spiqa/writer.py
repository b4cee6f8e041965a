"""Writing spiqa record streams from Python: exactly what repeated ``np.save`` gives, optionally gzip."""
import gzip
import json
import math
import os
import sys

import numpy as np
import numpy.lib.format as npf

from .npy import DTYPES

CODE_DTYPES = ("u1", "u2")   # the tensors "encoding": "codes" can describe (DecodeAttention.swift)


def _plain(v):
    """JSON-ready value: numpy scalars and arrays become Python ones, non-finite numbers null (as the tools)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, np.generic):
        return _plain(v.item())
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def meta_bytes(obj):
    """Compact sorted UTF-8 JSON, as the tools write metadata records."""
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def meta_array(obj):
    """A metadata record: the 1-D uint8 array of ``meta_bytes(obj)``."""
    return np.frombuffer(meta_bytes(obj), dtype=np.uint8)


def dtype_name(dtype):
    """``"f4"``, ``"u1"``, ... for a numpy dtype of the stream (ValueError otherwise)."""
    dt = np.dtype(dtype)
    name = dt.kind + str(dt.itemsize)
    if name not in DTYPES:
        raise ValueError(f"dtype {dt} cannot go into a spiqa stream; use one of {' '.join(DTYPES)}")
    return name


class Writer:
    """Writes a stream: ``header(...)`` once, then ``write(meta, array)`` per tensor.

    ``dest``: a path (gzip when ``compress`` is true, the default for names ending in ``.gz``), ``"-"``
    (standard output) or a binary file object. Records are what ``np.save`` writes; metadata is compact sorted
    JSON with ``"spiqa": 1``; ``shape`` and ``dtype`` always come from the tensor, so ``w.write(rec.meta, new)``
    never carries stale ones over (see ``write`` for ``"encoding": "codes"``).
    """

    def __init__(self, dest, *, compress=None, compresslevel=1, header=None):
        self._close_raw = None
        if isinstance(dest, (str, bytes, os.PathLike)) and os.fsdecode(dest) != "-":
            path = os.fsdecode(dest)
            if compress is None:
                compress = path.endswith(".gz")
            raw = open(path, "wb")
            self._close_raw = raw.close
        elif isinstance(dest, str):
            raw = sys.stdout.buffer
        else:
            raw = dest
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0) if compress else None
        self._f = self._gz or raw
        if header is not None:
            self.header(header)

    def _save(self, a):
        npf.write_array(self._f, a, allow_pickle=False)

    def header(self, meta=None, **fields):
        """Writes a stream header ``{"spiqa": 1, "kind": "stream", ...}``."""
        m = dict(meta or {}, **fields)
        m.update(spiqa=1, kind="stream")
        self._save(meta_array(m))

    def write(self, meta, array):
        """Writes a metadata record (kind ``"attention"`` unless given) and its tensor.

        ``shape`` and ``dtype`` are set from the tensor. Metadata of a codes record (``"encoding": "codes"``
        with its ``levels``) fits only u1/u2 codes: with a float tensor (e.g. ``rec.attention()`` transformed)
        both keys are dropped, since the tensor now holds the values; any other dtype is a ValueError.
        """
        a = np.asarray(array)
        name = dtype_name(a.dtype)
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype)
        m = dict(meta)
        m.setdefault("kind", "attention")
        if m["kind"] == "stream":
            raise ValueError('a tensor record cannot have kind "stream"')
        if m.get("encoding") == "codes" and name not in CODE_DTYPES:
            if a.dtype.kind != "f":
                raise ValueError(f'"encoding": "codes" needs u1 or u2 codes, not a {name} tensor: convert the '
                                 "codes (astype(np.uint8) or np.uint16), or write rec.attention() as floats")
            del m["encoding"]
            m.pop("levels", None)
        m["spiqa"] = 1
        m["shape"] = list(a.shape)
        m["dtype"] = name
        self._save(meta_array(m))
        self._save(a)

    def close(self):
        if self._gz is not None:
            self._gz.close()
            self._gz = None
        if self._close_raw is not None:
            self._close_raw()
            self._close_raw = None
        else:
            try:
                self._raw.flush()
            except (AttributeError, ValueError):
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
