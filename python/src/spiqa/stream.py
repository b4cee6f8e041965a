"""Reading spiqa record streams (docs/stream-format.md): files, "-", file objects and subprocess pipes."""
import builtins
import io
import json
import os
import signal
import subprocess
import sys
import threading
from typing import NamedTuple, Optional

import numpy as np

from ._errors import StreamError, shown
from ._source import RawInput, open_source
from ._values import as_int, valid_levels
from .npy import METADATA_BYTES, RECORD_BYTES, ArrayReader, resource_limit

SPIQA_STREAM_VERSION = 1
CODE_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16))   # "encoding": "codes" tensors (DecodeAttention.swift)
STDERR_TAIL = 1 << 16          # bytes of a producer's standard error kept for CalledProcessError


class Record(NamedTuple):
    """One record: its metadata (a dict) and its tensor (a writable numpy array; None for a stream header).

    Unpacks as ``meta, array = record``.
    """

    meta: dict
    array: Optional[np.ndarray]

    @property
    def kind(self):
        """``"stream"`` (header), ``"attention"``, ``"hidden_states"``, ``"hist_array"``, ``"hist_rows"``, ..."""
        return self.meta.get("kind")

    @property
    def tokens(self):
        """The record's tokens (``spiqa-extract --tokens``), or None."""
        return self.meta.get("tokens")

    def attention(self, dtype=np.float32):
        """The tensor as probabilities: u1/u2 codes are looked up in ``levels``, f2/f4 are converted."""
        return decode_attention(self.meta, self.array, dtype)


def check_tensor(meta, array):
    """Refuses a tensor its metadata contradicts, as the Swift tools do (DecodeAttention.swift): a ``shape``
    other than the tensor's, or ``"encoding": "codes"`` on anything but u1/u2. StreamError without location."""
    label = f"example_id {shown(meta['example_id'])}: " if isinstance(meta.get("example_id"), (str, int)) else ""
    shape = meta.get("shape")
    if shape is not None and (not isinstance(shape, list) or [type(x) for x in shape] != [int] * len(shape)
                              or shape != list(array.shape)):
        raise StreamError(f"{label}metadata shape {json.dumps(shape)[:120]} but the tensor has shape "
                          f"{list(array.shape)}", "matching shapes")
    if meta.get("encoding") == "codes" and array.dtype not in CODE_DTYPES:
        raise StreamError(f"{label}codes record of dtype {array.dtype.kind}{array.dtype.itemsize}", "u1 or u2 codes")


def decode_attention(meta, array, dtype=np.float32):
    """Attention values of a record: ``levels[codes]`` for ``"encoding": "codes"``, else ``array`` as dtype.

    Raises StreamError when the metadata contradicts the tensor (``check_tensor``) or a code is past ``levels``.
    """
    if array is None:
        raise ValueError("a stream header has no tensor")
    check_tensor(meta, array)
    if meta.get("encoding") == "codes":
        raw = meta.get("levels")
        if not valid_levels(raw):
            raise StreamError('codes record without a "levels" list of numbers', '"levels": [...] in the metadata')
        levels = np.asarray(raw, dtype=dtype)
        if array.size and int(array.max()) >= levels.size:
            raise StreamError(f"record codes reach {int(array.max())} but levels has {levels.size} entries",
                              "codes < len(levels)")
        return levels[array]
    return array.astype(dtype, copy=False)


def attention_axes(meta, shape):
    """``(layers, heads)`` of an attention record: its ``layers``/``heads`` metadata lists (default 0, 1, ...),
    held to the tools' rules (Sources/SpiqaIO/AttentionLayout.swift): ``[layers, heads, n, n]`` with every size
    ≥ 1, one distinct index ≥ 0 per layer and head, and ``n`` (when given) equal to the tensor's. StreamError
    without location."""
    shape = list(shape)
    if len(shape) != 4 or shape[2] != shape[3] or min(shape) < 1:
        raise StreamError(f"attention tensor of shape {shape}", "[layers, heads, n, n] with every size ≥ 1")
    n = meta.get("n")
    if n is not None and as_int(n) != shape[2]:   # 4.0 is 4, as in the tools
        raise StreamError(f'record metadata "n" = {shown(n)} for a tensor of shape {shape}', f"n = {shape[2]}")
    axes = []
    for key, count in (("layers", shape[0]), ("heads", shape[1])):
        v = meta.get(key)
        ints = [as_int(x) for x in v] if isinstance(v, list) else None
        if v is None:
            ints = list(range(count))
        elif ints is None or len(ints) != count or any(x is None or x < 0 for x in ints) or len(set(ints)) != count:
            raise StreamError(f'record metadata "{key}" = {shown(v)} for a tensor of shape {shape}',
                              f"{count} distinct model indices ≥ 0, one per {key[:-1]} of the tensor")
        axes.append(ints)
    return axes[0], axes[1]


class Stream:
    """An open record stream; iterate it for ``Record`` s (tensors only, unless opened with ``headers=True``).

    ``header`` is the first stream header (``{}`` if the stream has none), ``headers`` every header seen so far
    (``cat a b`` repeats them). Use as a context manager, or call ``close()``.
    """

    def __init__(self, raw, name, closer=None, process=None, include_headers=False):
        self.name = name
        self._raw = raw
        self._closer = closer
        self._process = process
        self._include_headers = include_headers
        # A process's stderr is drained from the start: read only at the end, a tool that logs more than a pipe
        # holds (~64 KiB) would block on it, never finish its stdout, and the stream would hang.
        self._record_limit = resource_limit(RECORD_BYTES)      # (a bad value fails before a thread starts)
        self._metadata_limit = resource_limit(METADATA_BYTES)
        self._stderr = _StderrTail(process.stderr) if process is not None and process.stderr is not None else None
        self._arrays = ArrayReader(open_source(raw), name)
        self._lookahead = []          # records read to find the header, not yet handed out
        self._done = False
        self._error = None
        self.headers = []
        self.tensors = 0               # tensor records returned so far

    # -- the low level: one logical record -------------------------------------------------------------------
    def read(self):
        """The next record (a header comes as ``Record(meta, None)``), or None at the end of the stream."""
        if self._lookahead:
            return self._lookahead.pop(0)
        return self._next(self._read)

    def _next(self, step):
        """``step()``, the producer's failure taking precedence over the bad data it left; at the end (None) the
        producer's exit status is checked."""
        if self._error is not None:
            raise self._error
        if self._done:
            return None
        try:
            out = step()
        except StreamError as e:
            self._error = e
            failed = self._producer_failure()
            if failed is not None:        # the producer died first: its exit status and stderr say why
                self._error = failed
                raise failed from e
            raise
        if out is None:
            self._done = True
            self._finish_process()
        return out

    def _next_array(self):
        """The next NPY array, metadata or tensor alike (``arrays``), or None at the end."""
        return self._next(lambda: self._arrays.read(self._record_limit))

    def _read(self):
        arrays = self._arrays
        start, index = arrays.offset, arrays.index
        first = arrays.read(self._metadata_limit, metadata=True)
        if first is None:
            return None
        meta = self._parse_meta(first, index, start)
        if meta["kind"] == "stream":
            self.headers.append(meta)
            return Record(meta, None)
        start, index = arrays.offset, arrays.index
        tensor = arrays.read(self._record_limit)
        if tensor is None:
            raise StreamError(f"the stream ends after a metadata record of kind {shown(meta['kind'])}",
                              "its tensor record",
                              source=self.name, record=arrays.index, offset=arrays.offset)
        try:
            check_tensor(meta, tensor)
        except StreamError as e:
            raise e.located(self.name, index, start) from None
        self.tensors += 1
        return Record(meta, tensor)

    def _parse_meta(self, a, index, offset):
        def bad(what, expected):
            return StreamError(what, expected, source=self.name, record=index, offset=offset)
        if a.dtype != np.uint8 or a.ndim != 1:
            raise bad(f"a {a.dtype.str} array of shape {list(a.shape)} where a metadata record belongs",
                      "a 1-D |u1 array of JSON (stream header or metadata) before each tensor")
        try:
            text = a.tobytes().decode("utf-8")
            meta = json.loads(text, parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise bad(f"metadata record is not valid JSON ({type(e).__name__}: {str(e)[:120]})",
                      "UTF-8 JSON text") from None
        if not isinstance(meta, dict):
            raise bad("metadata JSON is not an object", "a JSON object")
        v = meta.get("spiqa")
        if type(v) not in (int, float) or v != SPIQA_STREAM_VERSION:   # 1.0 is the number 1, as in the tools
            raise bad(f"metadata JSON has spiqa = {json.dumps(v) if 'spiqa' in meta else 'nothing'}", '"spiqa": 1')
        kind = meta.get("kind")
        if not isinstance(kind, str) or not kind:
            raise bad('metadata JSON has no "kind" string', '"kind": "stream", "attention", ...')
        return meta

    # -- the usual interface ---------------------------------------------------------------------------------
    @property
    def header(self):
        """The first stream header, read ahead if needed; ``{}`` when the stream does not start with one."""
        if self.headers:
            return self.headers[0]
        if not self._lookahead and not self._done:
            rec = self.read()
            if rec is not None:
                self._lookahead.append(rec)
        return self.headers[0] if self.headers else {}

    def __iter__(self):
        while True:
            rec = self.read()
            if rec is None:
                return
            if rec.array is None and not self._include_headers:
                continue
            yield rec

    def records(self, kind=None):
        """Tensor records, only those of ``kind`` if given (e.g. ``"attention"``)."""
        for rec in self:
            if kind is None or rec.kind == kind:
                yield rec

    def _finish_process(self):
        p = self._process
        if p is None:
            return
        self._process = None
        code = p.wait()
        if code != 0:
            raise ToolError(code, p.args, stderr=self._stderr_text())

    def _producer_failure(self):
        """After bad data from a process: stops it (EPIPE) and returns CalledProcessError if it had failed."""
        p = self._process
        if p is None:
            return None
        self._process = None
        if p.stdout is not None:
            p.stdout.close()
        code = p.wait()
        if code in (0, -signal.SIGPIPE):
            return None
        return ToolError(code, p.args, stderr=self._stderr_text())

    def _stderr_text(self):
        return self._stderr.result() if self._stderr is not None else None

    def close(self):
        if self._closer is not None:
            closer, self._closer = self._closer, None
            closer()
        if self._process is not None:
            p, self._process = self._process, None
            if p.stdout is not None:
                p.stdout.close()   # an unfinished producer gets EPIPE and stops
            if p.stderr is not None and self._stderr is None:
                p.stderr.close()   # (a drained stderr is closed by its thread at its end)
            p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return f"<spiqa.Stream {self.name!r}: {self.tensors} tensor records read>"


class ToolError(subprocess.CalledProcessError):
    """A producer's non-zero exit (a ``subprocess.CalledProcessError``) whose message ends with the last line of
    its standard error, where the tools say what went wrong (``stderr`` holds the last 64 KiB)."""

    def __str__(self):
        text = super().__str__()
        err = self.stderr
        if isinstance(err, bytes):
            err = err.decode("utf-8", errors="replace")
        lines = [x.strip() for x in err.splitlines() if x.strip()] if isinstance(err, str) else []
        if lines:
            last = lines[-1] if len(lines[-1]) <= 300 else lines[-1][:297] + "..."
            text += f" Its last stderr line: {last}"
        return text


class _StderrTail:
    """Reads a process's standard error on a thread while its output is read, keeping the last STDERR_TAIL
    bytes (characters in text mode); closes it at its end."""

    def __init__(self, f):
        self._f = f
        self._parts = []
        self._size = 0
        self._thread = threading.Thread(target=self._drain, name="spiqa-stderr", daemon=True)
        self._thread.start()

    def _drain(self):
        f = self._f
        read = getattr(f, "read1", None) or f.read
        try:
            while True:
                b = read(8192)
                if not b:
                    break
                self._parts.append(b)
                self._size += len(b)
                while self._size - len(self._parts[0]) >= STDERR_TAIL:
                    self._size -= len(self._parts.pop(0))
        except (OSError, ValueError):   # closed under us: what was read is what there is
            pass
        finally:
            try:
                f.close()
            except (OSError, ValueError):
                pass

    def result(self):
        """Everything kept, once the process has closed its standard error."""
        self._thread.join()
        if not self._parts:
            return b"" if not isinstance(self._f, io.TextIOBase) else ""
        return self._parts[0][:0].join(self._parts)[-STDERR_TAIL:]


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _raw_input(src):
    """``(RawInput, name, closer, process)`` for a path, "-", bytes, a binary file object or a Popen."""
    if isinstance(src, subprocess.Popen):
        if src.stdout is None:
            raise ValueError("the process was started without stdout=subprocess.PIPE")
        return RawInput(src.stdout, _process_name(src)), _process_name(src), None, src
    if src is None:   # e.g. an unset option: reading standard input instead would wait for a terminal
        raise TypeError('cannot read a stream from None: give a path, "-" for standard input, bytes, a binary '
                        "file object or a subprocess.Popen with stdout=PIPE")
    if isinstance(src, str) and src == "-":
        return RawInput(sys.stdin.buffer, "stdin"), "stdin", None, None
    if isinstance(src, (bytes, bytearray, memoryview)):   # the stream itself, as read_heads and read_hist take it
        return RawInput(io.BytesIO(src), "<bytes>"), "<bytes>", None, None
    if isinstance(src, (str, os.PathLike)):
        path = os.fsdecode(src)
        f = builtins.open(path, "rb")
        try:
            return RawInput(f, path), path, f.close, None
        except BaseException:
            f.close()
            raise
    if hasattr(src, "read"):
        name = getattr(src, "name", None)
        name = name if isinstance(name, str) else "<stream>"
        return RawInput(src, name), name, None, None
    raise TypeError(f"cannot read a stream from {type(src).__name__}: give a path, \"-\", bytes, a binary file "
                    "object or a subprocess.Popen with stdout=PIPE")


def _process_name(p):
    args = p.args if isinstance(p.args, (list, tuple)) else [p.args]
    return os.path.basename(os.fsdecode(args[0])) if args else "process"


def open(src, *, headers=False):  # noqa: A001 - the package's entry point, spiqa.open
    """Opens a record stream: a path (``str`` or ``os.PathLike``), ``"-"`` (standard input), the stream's bytes
    (``bytes``, ``bytearray``, ``memoryview``: content, not a file name), a binary file object
    (``sys.stdin.buffer``, ``proc.stdout``, ``io.BytesIO``, ``gzip.open(...)``) or a ``subprocess.Popen`` started
    with ``stdout=subprocess.PIPE`` (its exit status is checked at the end of the stream; a non-zero one raises
    ``subprocess.CalledProcessError`` whose message ends with the tool's last stderr line). ``None`` is a
    TypeError.

    Plain and gzip input (one or many members) are recognised by their first bytes; concatenated streams and
    repeated headers are fine. Records are read one at a time (memory: one record). Bad data raises
    ``StreamError``.
    """
    raw, name, closer, process = _raw_input(src)
    try:
        return Stream(raw, name, closer, process, include_headers=headers)
    except BaseException:
        if closer:
            closer()
        raise


def pipe(args, **popen_kwargs):
    """Runs a command (the first word may be a spiqa tool name, found by ``find_tool``) and opens its standard
    output as a stream; a non-zero exit raises ``subprocess.CalledProcessError`` at the end of the stream.

    Standard error is read on a thread as the stream is read (however much the tool logs) and its last 64 KiB
    kept for the exception: ``e.stderr``, and its last line in ``str(e)``.
    """
    from .tools import find_tool
    args = [os.fspath(a) for a in args]
    if args and os.sep not in args[0]:
        args[0] = find_tool(args[0])
    popen_kwargs.setdefault("stderr", subprocess.PIPE)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, **popen_kwargs)
    return open(proc)


def arrays(src):
    """Every NPY array of ``src`` in order, metadata records included (what a loop of ``np.load`` would give,
    also for pipes and gzip); arrays are writable. Strict as ``open``: the same limits, and a process's exit
    status is checked at the end."""
    with open(src) as stream:
        while True:
            a = stream._next_array()
            if a is None:
                return
            yield a
