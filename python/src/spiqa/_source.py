"""Byte sources under the record reader: plain bytes or gzip members (one or many, e.g. `cat a.gz b.gz`).

Both fill caller-owned buffers (`readinto`) so a record's payload is read straight into its array; memory is one
record plus one input chunk and one decompressed piece, whatever the stream length.
"""
import io
import os
import stat
import zlib

from ._errors import StreamError

RAW_CHUNK = 1 << 18          # compressed bytes per read of the underlying file
MAX_PIECE = 1 << 22          # decompressed bytes per zlib call
GZIP_MAGIC = b"\x1f\x8b"


class RawInput:
    """A binary file object read with short reads looped; `read(n)` returns b"" only at the end."""

    def __init__(self, f, name):
        self.f = f
        self.name = name
        probe = f.read(0)
        if not isinstance(probe, (bytes, bytearray)):
            raise TypeError(f"{name}: open the file in binary mode (got {type(probe).__name__} from read); "
                            "for standard input use sys.stdin.buffer or \"-\"")
        self._readinto = getattr(f, "readinto", None)

    def read(self, n):
        """Up to n bytes (at least one unless at the end)."""
        try:
            while True:
                b = self.f.read(n)
                if b is None:        # a non-blocking file with nothing yet
                    continue
                return bytes(b)
        except OSError as e:
            raise OSError(f"{self.name}: {e}") from e

    def readinto(self, mv):
        """Fills `mv` (a byte memoryview) as far as the input goes; returns the count."""
        got = 0
        n = len(mv)
        while got < n:
            if self._readinto is not None:
                k = self._readinto(mv[got:])
                if k is None:
                    continue
            else:
                b = self.read(n - got)
                k = len(b)
                mv[got:got + k] = b
            if not k:
                break
            got += k
        return got

    def remaining(self):
        """Bytes left in a regular file or a BytesIO, else None (pipes, sockets, decompressing wrappers).

        Only a plain binary file (``open(path, "rb")``: ``io.FileIO``, or a buffered reader over one) counts as a
        file here: ``gzip.open``, ``bz2.open`` and ``lzma.open`` objects also have ``fileno()``, but that is the
        compressed file's, whose size says nothing about the decompressed bytes that ``tell()`` counts.
        """
        f = self.f
        try:
            if isinstance(f, io.BytesIO):
                return f.getbuffer().nbytes - f.tell()
            if not _plain_file(f):
                return None
            st = os.fstat(f.fileno())
            if stat.S_ISREG(st.st_mode):
                return st.st_size - f.tell()
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            pass
        return None


def _plain_file(f):
    """Whether `f` reads a file descriptor's bytes unchanged (so its size and `tell()` count the same bytes)."""
    if isinstance(f, (io.BufferedReader, io.BufferedRandom)):
        f = f.raw
    return isinstance(f, io.FileIO)


class PlainSource:
    """Uncompressed records; `head` holds bytes already read to detect the format."""

    compressed = False

    def __init__(self, raw, head=b""):
        self.raw = raw
        self.head = head

    def readinto(self, mv):
        got = 0
        if self.head:
            k = min(len(self.head), len(mv))
            mv[:k] = self.head[:k]
            self.head = self.head[k:]
            got = k
        if got < len(mv):
            got += self.raw.readinto(mv[got:])
        return got

    def remaining(self):
        r = self.raw.remaining()
        return None if r is None else r + len(self.head)


MAX_INDEXED_MEMBER = 1 << 26   # larger SQ sizes are ignored, as by the Swift reader (Gzip.maxIndexedMember)


def _extra_end(header):
    """Where a member header's extra field ends: 10 without FEXTRA, 12 while XLEN has not arrived."""
    if len(header) < 4 or header[3] & 0x04 == 0:
        return 10
    if len(header) < 12:
        return 12
    return 12 + (header[10] | header[11] << 8)


def _sq_sizes(header):
    """``(header length or None, CSIZE, USIZE)`` from spiqa's ``SQ`` subfield of a member header (its extra field
    complete in ``header``; docs/stream-format.md, "gzip members"), else None. The header's length is given only
    for FLG = FEXTRA alone, as spiqa writes it; then the compressed size is checked too."""
    end = _extra_end(header)
    if end <= 12 or len(header) < end:
        return None
    p, found = 12, None
    while p + 4 <= end:
        length = header[p + 2] | header[p + 3] << 8
        if p + 4 + length > end:
            break
        if header[p:p + 2] == b"SQ" and length == 8:
            c = int.from_bytes(header[p + 4:p + 8], "little")
            u = int.from_bytes(header[p + 8:p + 12], "little")
            if c <= MAX_INDEXED_MEMBER and u <= MAX_INDEXED_MEMBER:
                found = (c, u)
        p += 4 + length
    if found is None:
        return None
    return (end if header[3] == 0x04 else None), found[0], found[1]


class GzipSource:
    """gzip members, inflated by zlib one after another (header flags, CRC-32 and ISIZE checked by zlib).

    As strict as spiqa's reader: a truncated member, corrupt data, or bytes after a member that are not another
    member are errors (Python's gzip module would skip trailing zeros), and a member with spiqa's ``SQ`` field
    must inflate to the USIZE it announces from the CSIZE it announces.
    """

    compressed = True

    def __init__(self, raw, head=b""):
        self.raw = raw
        self.pending = head          # compressed input not yet handed to zlib
        self.raw_eof = False
        self.member = None           # the zlib object of the current member, None between members
        self.members = 0
        self.out = b""
        self.out_pos = 0
        self.sq = None               # (header length or None, CSIZE, USIZE) of the current member's SQ field
        self.member_in = 0           # bytes of the current member consumed by zlib (header and trailer included)
        self.member_out = 0          # bytes it has inflated to

    def _start_member(self):
        """Reads the SQ field of the member at the front of ``pending`` (before zlib consumes its header)."""
        while len(self.pending) < _extra_end(self.pending) and not self.raw_eof:
            self._read_raw()
        self.sq = _sq_sizes(self.pending)   # None for a truncated header too: zlib reports that
        self.member_in = self.member_out = 0
        self.member = zlib.decompressobj(31)

    def _check_sq(self, ended):
        """The member's output so far (and its input at its end) against the SQ field."""
        if self.sq is None:
            return
        header, csize, usize = self.sq
        if self.member_out > usize:
            raise StreamError(f"gzip member inflates to more than the {usize} bytes its SQ field announces",
                              "a consistent member")
        if not ended:
            return
        deflate = self.member_in - header - 8 if header is not None else csize
        if self.member_out != usize or deflate != csize:
            raise StreamError(f"gzip member size does not match its SQ field ({self.member_out} bytes from "
                              f"{deflate} compressed bytes)", f"{usize} bytes from {csize}")

    def _read_raw(self):
        b = self.raw.read(RAW_CHUNK)
        if b:
            self.pending = self.pending + b if self.pending else b
        else:
            self.raw_eof = True

    def _inflate(self, want):
        """The next piece of decompressed bytes (at most `want`), or b"" at the clean end of the input."""
        while True:
            if self.member is None:
                while len(self.pending) < 2 and not self.raw_eof:
                    self._read_raw()
                if not self.pending:
                    return b""
                if self.pending[:2] != GZIP_MAGIC:
                    raise StreamError(
                        f"bytes after gzip member {self.members} that are not another gzip member "
                        f"(they start {self.pending[:4].hex(' ')})",
                        "another member starting 1f 8b, or the end of the input")
                self._start_member()
            if not self.pending:
                if self.raw_eof:
                    raise StreamError(f"truncated gzip member {self.members}: the input ends inside it",
                                      "the complete member")
                self._read_raw()
                continue
            fed = len(self.pending)
            try:
                piece = self.member.decompress(self.pending, max(1, min(want, MAX_PIECE)))
            except zlib.error as e:
                raise StreamError(f"corrupt gzip member {self.members}: {e}", "valid deflate data with its CRC-32 "
                                  "and length") from None
            ended = self.member.eof
            self.pending = self.member.unused_data if ended else self.member.unconsumed_tail
            self.member_in += fed - len(self.pending)
            self.member_out += len(piece)
            self._check_sq(ended)
            if ended:
                self.member = None
                self.members += 1
            if piece:
                return piece

    def readinto(self, mv):
        got = 0
        n = len(mv)
        while got < n:
            if self.out_pos < len(self.out):
                k = min(len(self.out) - self.out_pos, n - got)
                mv[got:got + k] = self.out[self.out_pos:self.out_pos + k]
                self.out_pos += k
                got += k
                continue
            piece = self._inflate(n - got)
            if not piece:
                break
            k = len(piece)
            if k <= n - got:
                mv[got:got + k] = piece
                got += k
            else:
                self.out, self.out_pos = piece, 0
        return got

    def remaining(self):
        return None


def open_source(raw):
    """The plain or gzip source for `raw` (a RawInput), recognised by the first two bytes."""
    head = b""
    while len(head) < 2:
        b = raw.read(2 - len(head))
        if not b:
            break
        head += b
    if head == GZIP_MAGIC:
        return GzipSource(raw, head)
    return PlainSource(raw, head)
