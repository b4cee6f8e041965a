"""Writing spiqa record streams from Python: exactly what repeated ``np.save`` gives, optionally gzip."""
import gzip
import io
import json
import math
import os
import warnings

import numpy as np
import numpy.lib.format as npf

from ._output import OutputFile
from ._values import valid_levels
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
    """Compact sorted UTF-8 JSON, as the tools write metadata records (a string with a lone surrogate, which a
    stream may hold as an escape, keeps it as an escape: ASCII JSON then)."""
    plain = _plain(obj)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("ascii")


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
    (standard output) or a binary file object. A path is written as the tools write theirs: under a temporary
    name, renamed into place by ``close()`` (the end of a ``with`` block); an exception inside the block, or
    ``discard()``, leaves no file (a symbolic link's target is written, a device or FIFO written through).
    Records are what ``np.save`` writes; metadata is compact sorted JSON with ``"spiqa": 1``; ``shape`` and
    ``dtype`` always come from the tensor, so ``w.write(rec.meta, new)`` never carries stale ones over (see
    ``write`` for ``"encoding": "codes"``).
    """

    def __init__(self, dest, *, compress=None, compresslevel=1, header=None):
        self._out = None             # the OutputFile of a path or "-"
        self._gz = None
        if isinstance(dest, (str, bytes, os.PathLike)):
            path = os.fsdecode(dest)
            if compress is None:
                compress = path.endswith(".gz")
            raw = self._out = OutputFile(path)
        else:
            raw = dest
        self._raw = raw
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0) if compress else None
        self._f = self._gz or raw
        if header is not None:
            try:
                self.header(header)
            except BaseException:
                self.discard()
                raise

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
        # C order and little-endian; asarray keeps a 0-d array 0-d (ascontiguousarray would make it (1,)).
        a = np.asarray(a, dtype=a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype, order="C")
        m = dict(meta)
        m.setdefault("kind", "attention")
        if not isinstance(m["kind"], str) or not m["kind"]:
            raise ValueError(f'"kind" must be a non-empty string (e.g. "attention"), not {m["kind"]!r}')
        if m["kind"] == "stream":
            raise ValueError('a tensor record cannot have kind "stream"')
        if m.get("encoding") == "codes" and name not in CODE_DTYPES:
            if a.dtype.kind != "f":
                raise ValueError(f'"encoding": "codes" needs u1 or u2 codes, not a {name} tensor: convert the '
                                 "codes (astype(np.uint8) or np.uint16), or write rec.attention() as floats")
            del m["encoding"]
            m.pop("levels", None)
        if m.get("encoding") == "codes":
            if not valid_levels(_plain(m.get("levels"))):
                raise ValueError('a codes record needs "levels": a non-empty list of finite numbers (the tools '
                                 "cannot read anything else)")
        m["spiqa"] = 1
        m["shape"] = list(a.shape)
        m["dtype"] = name
        self._save(meta_array(m))
        self._save(a)

    def close(self):
        """Finishes the stream: the gzip trailer, and a path's file renamed into place."""
        if self._gz is not None:
            gz, self._gz = self._gz, None
            gz.close()
        if self._out is not None:
            out, self._out = self._out, None
            out.commit()
        else:
            try:
                self._raw.flush()
            except (AttributeError, ValueError):
                pass

    def discard(self):
        """Drops the stream written to a path (nothing is left under its name); for a file object, only stops
        (no gzip trailer is written to it)."""
        if self._gz is not None:
            gz, self._gz = self._gz, None
            gz.fileobj = io.BytesIO()    # what it still flushes (its buffer, the trailer) goes nowhere
            gz.close()
        if self._out is not None:
            out, self._out = self._out, None
            out.discard()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        else:
            self.discard()
        return False

    def __del__(self):
        # Never closed, as a forgotten Python file: keep what was written (an exception inside `with` discards).
        if self._gz is not None or self._out is not None:
            warnings.warn("spiqa.Writer was not closed; closing it now (use `with spiqa.Writer(...)` or close())",
                          ResourceWarning, stacklevel=2)
            try:
                self.close()
            except Exception:
                self.discard()
