"""NPY records without trusting them: numpy's header rules, checked before anything is allocated.

The header is a Python dict literal. It is parsed with `ast.literal_eval` (literals only: a header such as
``__import__('os').system(...)`` is refused, never run) and then held to numpy's rules and the Swift reader's
(Sources/SpiqaIO/NPYHeader.swift, NPYReader.swift, PythonLiteral.swift): format 1.0, 2.0 or 3.0; at most
10000 header characters (numpy's ``max_header_size``), refused before the header is read; exactly the keys
``descr``, ``fortran_order``, ``shape``; ``shape`` a tuple of non-negative ints, ``fortran_order`` a bool;
``descr`` one of the stream's dtypes; at most numpy's number of dimensions (64; numpy 1.x: 32). A shape whose
byte size does not fit 63 bits is refused before any allocation, and so is an empty one numpy cannot make either
(``(0, 2**62)``: numpy multiplies the non-zero dimensions); data is read in pieces of at most 64 MiB, so a
header claiming more than the input holds fails as truncated input without allocating what it claims (a regular
file is checked against its remaining size first).
"""
import ast
import os

import numpy as np

from ._errors import StreamError

MAGIC = b"\x93NUMPY"
MAX_HEADER_CHARS = 10000          # numpy's _MAX_HEADER_SIZE
MAX_EAGER_ALLOCATION = 1 << 26    # bytes allocated before they have arrived (RecordReader.maxEagerAllocation)
SCRATCH = 1 << 22                 # bytes per read of a payload larger than that
_INT64_MAX = (1 << 63) - 1
_MAX_BYTES = _INT64_MAX // 2
#: numpy's NPY_MAXDIMS: an array of more dimensions cannot be made, whatever its size.
MAX_DIMS = 64 if int(np.__version__.split(".")[0]) >= 2 else 32

#: Limits on one record, as the tools have them (docs/robustness.md, "Limits on memory"): variable, default bytes.
RECORD_BYTES = ("SPIQA_MAX_RECORD_BYTES", 1 << 30)
METADATA_BYTES = ("SPIQA_MAX_METADATA_BYTES", 16 << 20)


def parse_size(text):
    """``1234``, ``64K``, ``512M``, ``4G``, ``1T`` (binary multiples; ``KiB``, ``MB``... too) in bytes, or None."""
    s = text.upper()
    s = s[:-2] if s.endswith("IB") else s[:-1] if s.endswith("B") else s
    shift = {"K": 10, "M": 20, "G": 30, "T": 40}.get(s[-1:], 0)
    if shift:
        s = s[:-1]
    if not s.isascii() or not s.isdigit():
        return None
    v = int(s) << shift
    return v if v <= _INT64_MAX else None


def resource_limit(limit):
    """The byte limit ``(variable, default)`` as the environment sets it; ValueError for a value that is not a
    positive size (the tools' usage error)."""
    variable, default = limit
    text = os.environ.get(variable, "")
    if not text:
        return default
    v = parse_size(text)
    if not v:
        raise ValueError(f"{variable}={text!r} is not a size; expected bytes such as 1073741824, 512M or 4G")
    return v


#: The element types of a stream (NPYDType.swift): kind letter and size → numpy type.
DTYPES = {
    "f2": np.float16, "f4": np.float32, "f8": np.float64,
    "i1": np.int8, "i2": np.int16, "i4": np.int32, "i8": np.int64,
    "u1": np.uint8, "u2": np.uint16, "u4": np.uint32, "u8": np.uint64,
    "b1": np.bool_,
}


def parse_descr(descr):
    """``(numpy dtype in little-endian form, big_endian)`` for a descriptor such as ``'<f4'``, ``'>i8'``,
    ``'|u1'``, ``'f2'`` or ``'?'``; None for anything else (complex, strings, structured, object)."""
    if not isinstance(descr, str):
        return None
    body, big = descr, False
    if body[:1] in ("<", ">", "|", "="):
        big = body[0] == ">"
        body = body[1:]
    if body == "?":
        return np.dtype(np.bool_), False
    t = DTYPES.get(body)
    if t is None:
        return None
    dt = np.dtype(t).newbyteorder("<")
    if dt.itemsize == 1:
        big = False
    return dt, big


def parse_header(text):
    """Checks the header dict the way numpy does; returns ``(dtype, big_endian, fortran_order, shape)``.

    Raises StreamError (without location) naming what is wrong.
    """
    try:
        d = ast.literal_eval(text)
    except Exception as e:  # SyntaxError, ValueError (code, names), MemoryError/RecursionError (nesting)
        raise StreamError(f"NPY header is not a Python literal ({type(e).__name__}): {_quoted(text)}",
                          "a dict like {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") from None
    if not isinstance(d, dict):
        raise StreamError(f"NPY header is not a dictionary: {_quoted(text)}",
                          "a dict with keys descr, fortran_order, shape")
    keys = sorted(repr(k) if not isinstance(k, str) else k for k in d)
    if keys != ["descr", "fortran_order", "shape"]:
        raise StreamError(f"NPY header has keys [{', '.join(keys)}]",
                          "exactly descr, fortran_order, shape (numpy refuses any other key)")
    shape, fortran, descr = d["shape"], d["fortran_order"], d["descr"]
    if type(shape) is not tuple or not all(type(x) is int for x in shape) or any(x > _INT64_MAX for x in shape):
        raise StreamError(f"NPY shape is not valid: {_short(shape)}", "a tuple of ints such as (5,) or ()")
    if any(x < 0 for x in shape):
        raise StreamError(f"NPY shape has a negative dimension: {_short(shape)}", "dimensions ≥ 0")
    if len(shape) > MAX_DIMS:
        raise StreamError(f"NPY shape has {len(shape)} dimensions", f"at most {MAX_DIMS} (numpy's limit)")
    if type(fortran) is not bool:
        raise StreamError(f"NPY fortran_order is not a valid bool: {_short(fortran)}", "True or False")
    if not isinstance(descr, str):
        raise StreamError(f"NPY descr is not a valid dtype descriptor: {_short(descr)}", "a string such as '<f4'")
    parsed = parse_descr(descr)
    if parsed is None:
        known = " ".join(DTYPES)
        raise StreamError(f"unsupported NPY dtype {_short(descr)}", f"one of {known} with byte order <, > or |")
    dtype, big = parsed
    return dtype, big, fortran, shape


def data_size(shape, itemsize):
    """``(count, bytes)``, or None when either overflows 63 bits (counted in the Swift reader's order), or when
    numpy could not make the array: it multiplies the item size by the non-zero dimensions only, so an empty
    ``(0, 2**62)`` is as impossible for it as a full one."""
    nonzero = itemsize
    for d in shape:
        if d:
            nonzero *= d
            if nonzero > _INT64_MAX:
                return None
    count = 1
    for d in shape:
        count *= d
        if count > _INT64_MAX:
            return None
    nbytes = count * itemsize
    if nbytes > _MAX_BYTES:
        return None
    return count, nbytes


def _short(v):
    s = repr(v)
    return s if len(s) <= 120 else s[:117] + "..."


def _quoted(text):
    t = text.rstrip(" \n")
    if len(t) > 120:
        t = t[:117] + "..."
    return '"' + "".join(c if _printable(c) else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"
                         for c in t) + '"'


def _printable(c):
    """Not a C0 or C1 control, DEL or a line/paragraph separator: safe inside a one-line message."""
    o = ord(c)
    return 0x20 <= o and not 0x7F <= o <= 0x9F and o not in (0x2028, 0x2029)


class ArrayReader:
    """Reads NPY arrays one after another from a source (see _source.py), counting records and bytes."""

    def __init__(self, source, name):
        self.src = source
        self.name = name
        self.index = 0       # NPY arrays read so far
        self.offset = 0      # uncompressed bytes consumed

    def _fail(self, what, expected, offset=None):
        return StreamError(what, expected, source=self.name, record=self.index,
                           offset=self.offset if offset is None else offset)

    def _read(self, n, what):
        buf = bytearray(n)
        got = self._fill(memoryview(buf))
        if got != n:
            raise self._fail(f"truncated input: {what} has {got} of {n} bytes", f"the complete {what}")
        return bytes(buf)

    def _fill(self, mv):
        try:
            got = self.src.readinto(mv)
        except StreamError as e:
            raise e.located(self.name, self.index, self.offset) from None
        self.offset += got
        return got

    def read(self, limit=None, metadata=False):
        """The next array (writable, C order, little-endian), or None at the clean end of the input.

        ``limit``: most data bytes, checked from the header before anything is read (a metadata record's limit
        when ``metadata``, else a tensor record's, for the message)."""
        start = self.offset
        prefix = bytearray(8)
        got = self._fill(memoryview(prefix))
        if got == 0:
            return None
        if got < 8:
            raise self._fail(f"truncated input: NPY magic and version has {got} of 8 bytes",
                             "the complete NPY magic and version", start)
        if bytes(prefix[:6]) != MAGIC:
            raise self._fail(f"bad magic {prefix[:6].hex(' ')}",
                             "an NPY record starting with 93 4e 55 4d 50 59 (\\x93NUMPY)", start)
        major, minor = prefix[6], prefix[7]
        if major not in (1, 2, 3) or minor != 0:
            raise self._fail(f"NPY format version {major}.{minor}", "1.0, 2.0 or 3.0", start)
        length_size = 2 if major == 1 else 4
        hlen = int.from_bytes(self._read(length_size, "NPY header length"), "little")
        # numpy counts characters after decoding: latin-1 has one byte per character, UTF-8 up to four.
        max_bytes = MAX_HEADER_CHARS * 4 if major == 3 else MAX_HEADER_CHARS
        if hlen > max_bytes:
            raise self._fail(f"NPY header length {hlen} is larger than numpy's limit",
                             f"at most {MAX_HEADER_CHARS} characters", start)
        raw = self._read(hlen, "NPY header")
        if major == 3:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise self._fail("NPY 3.0 header is not valid UTF-8", "UTF-8 text", start) from None
            if len(text) > MAX_HEADER_CHARS:
                raise self._fail("NPY header longer than numpy's limit", f"at most {MAX_HEADER_CHARS} characters",
                                 start)
        else:
            text = raw.decode("latin-1")
        try:
            dtype, big, fortran, shape = parse_header(text)
        except StreamError as e:
            raise e.located(self.name, self.index, start) from None
        sizes = data_size(shape, dtype.itemsize)
        if sizes is None:
            raise self._fail(f"NPY shape {_short(list(shape))} is too large",
                             "a shape whose byte size (zero dimensions aside) fits in 63 bits", start)
        count, nbytes = sizes
        if limit is not None and nbytes > limit:
            what, variable = (("where a metadata record belongs", METADATA_BYTES[0]) if metadata
                              else ("in one record", RECORD_BYTES[0]))
            raise self._fail(f"NPY shape {_short(list(shape))} of {dtype.str} is {nbytes} bytes {what}",
                             f"at most {limit} bytes (set {variable} to change the limit)", start)
        left = self.src.remaining()
        if left is not None and left < nbytes:
            raise self._fail(f"truncated input: NPY data has {left} of {nbytes} bytes (shape {list(shape)}, "
                             f"{dtype.str})", "the complete data", self.offset + left)
        try:
            data = self._payload(nbytes)
        except MemoryError:
            raise self._fail(f"no memory for the {nbytes} bytes of NPY shape {_short(list(shape))}",
                             "a record that fits in memory (or a lower SPIQA_MAX_RECORD_BYTES)", start) from None
        try:
            a = np.frombuffer(data, dtype=dtype.newbyteorder(">") if big else dtype, count=count)
            if big:
                a = a.byteswap().view(dtype)   # little-endian values in a fresh, writable array
            if fortran:
                a = a.reshape(shape[::-1]).transpose().copy(order="C")   # (ascontiguousarray makes () (1,))
            else:
                a = a.reshape(shape)
        except ValueError as e:  # a numpy limit the checks above do not know of
            raise self._fail(f"numpy cannot make an array of shape {_short(list(shape))} ({e})",
                             "a shape numpy can hold", start) from None
        self.index += 1
        return a

    def _payload(self, n):
        """n data bytes in a writable buffer; memory grows with the data that actually arrives."""
        if n <= MAX_EAGER_ALLOCATION:
            buf = bytearray(n)
            got = self._fill(memoryview(buf))
            if got != n:
                raise self._fail(f"truncated input: NPY data has {got} of {n} bytes", "the complete data")
            return buf
        # Larger than any honest spiqa record needs at once: copy through a scratch piece, so a header that
        # claims terabytes costs only what the input really holds.
        buf = bytearray()
        scratch = bytearray(SCRATCH)
        with memoryview(scratch) as mv:
            while len(buf) < n:
                want = min(n - len(buf), SCRATCH)
                got = self._fill(mv[:want])
                buf += mv[:got]
                if got != want:
                    raise self._fail(f"truncated input: NPY data has {len(buf)} of {n} bytes", "the complete data")
        return buf
