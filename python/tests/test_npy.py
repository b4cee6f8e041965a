"""NPY records: numpy's own fixtures read equal to np.load, numpy's header rules, and hostile headers refused
before anything runs or is allocated."""
import io
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import spiqa
from spiqa.npy import parse_header

from conftest import REPO

FIXTURES = REPO / "Tests/SpiqaIOTests/Fixtures"
MANIFEST_ALL = json.loads((FIXTURES / "manifest.json").read_text()) if (FIXTURES / "manifest.json").is_file() else {}
MANIFEST = {k: v for k, v in MANIFEST_ALL.items() if "dtype" in v}     # single arrays; streams: test_stream.py


def npy(header, data=b"", version=(1, 0)):
    """An NPY record with this header text (no padding added) and data bytes."""
    h = header.encode("utf-8" if version[0] == 3 else "latin-1")
    return b"\x93NUMPY" + bytes(version) + len(h).to_bytes(2 if version[0] == 1 else 4, "little") + h + data


class Pipe(io.RawIOBase):
    """A non-seekable reader handing out at most `step` bytes per read, like a pipe."""

    def __init__(self, data, step=4096):
        self.data, self.pos, self.step = data, 0, step

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.step, len(self.data) - self.pos)
        b[:k] = self.data[self.pos:self.pos + k]
        self.pos += k
        return k


def read_one(data, pipe=False):
    arrays = list(spiqa.arrays(Pipe(data) if pipe else io.BytesIO(data)))
    assert len(arrays) == 1
    return arrays[0]


@pytest.mark.skipif(not MANIFEST, reason=f"numpy fixtures not found in {FIXTURES}")
@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_numpy_fixture(name):
    """Every dtype, shape, byte order, memory order and format version numpy writes."""
    entry = MANIFEST[name]
    data = (FIXTURES / name).read_bytes()
    a = read_one(data)
    ref = np.load(io.BytesIO(data))
    assert a.dtype == np.dtype(entry["dtype"]).newbyteorder("<") and a.dtype.byteorder in "=|<"
    assert list(a.shape) == entry["shape"]
    assert a.flags.c_contiguous and a.flags.writeable
    np.testing.assert_array_equal(a, ref)
    np.testing.assert_array_equal(a.astype(np.float64).ravel(), np.asarray(entry.get("values") or [], np.float64))
    assert np.array_equal(read_one(data, pipe=True), ref)


ACCEPTED = [
    ("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i2\"}", np.int16),
    ("{'descr':'<i2','fortran_order':False,'shape':(2,)}", np.int16),
    ("{'descr': 'i2', 'fortran_order': False, 'shape': (2,), }   \n", np.int16),
    ("{'descr': '=i2', 'fortran_order': False, 'shape': (2,), }", np.int16),
]


@pytest.mark.parametrize("header,dtype", ACCEPTED)
def test_accepted_variants(header, dtype):
    a = read_one(npy(header, b"\x01\x00\x02\x00"))
    assert a.dtype == dtype and a.tolist() == [1, 2]


STRICT = [  # the Swift reader's list (Tests/SpiqaIOTests/NPYTests.swift) and more
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'layer': 3}", "keys"),
    ("{'descr': '<f4', 'fortran_order': False}", "keys"),
    ("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "not a valid bool"),
    ("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}", "Python literal"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a')}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 2)}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", "shape is not valid"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "negative"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "shape is not valid"),
    ("{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': '<U3', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': '|S8', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': '|V8', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': '<f3', 'fortran_order': False, 'shape': (2,)}", "unsupported NPY dtype"),
    ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "descr"),
    ("{'descr': 4, 'fortran_order': False, 'shape': (2,)}", "descr"),
    ("[1, 2]", "not a dictionary"),
    ("{1: '<f4', 'fortran_order': False, 'shape': (2,)}", "keys"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999, 99999999999)}", "too large"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (5L,)}", "Python literal"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 300 + ")" * 300 + "}", "Python literal"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9" * 5000 + ",)}", "Python literal"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (-" + "-" * 3000 + "1,)}", "Python literal"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\x00", "Python literal"),
]


@pytest.mark.parametrize("header,message", STRICT, ids=[m + str(i) for i, (_, m) in enumerate(STRICT)])
def test_numpy_header_rules(header, message):
    with pytest.raises(spiqa.StreamError) as e:
        read_one(npy(header, b"\0" * 64))
    assert message in str(e.value)
    assert str(e.value).startswith("<stream>: record 0 (byte 0): ")


@pytest.mark.parametrize("shape,message", [
    ((0, 4611686018427387903), "NPY shape [0, 4611686018427387903] is too large"),   # numpy: "array is too big"
    ((2 ** 62, 0, 3), "is too large"),
    ((1,) * 65, "NPY shape has 65 dimensions; expected at most 64"),                  # numpy: 64 dimensions at most
    ((0,) * 65, "NPY shape has 65 dimensions"),
])
@pytest.mark.parametrize("fortran", [False, True])
def test_shapes_numpy_cannot_hold(shape, message, fortran):
    """Empty or tiny, yet no numpy array: a located StreamError (second record), never numpy's ValueError."""
    first = io.BytesIO()
    np.save(first, np.arange(3, dtype=np.float32))
    data = first.getvalue() + npy(f"{{'descr': '<f4', 'fortran_order': {fortran}, 'shape': {shape!r}, }}",
                                  b"\0" * 4)
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        message = message.replace("at most 64", "at most 32")
    with pytest.raises(spiqa.StreamError) as e:
        list(spiqa.arrays(io.BytesIO(data)))
    assert message in str(e.value) and e.value.record == 1 and e.value.offset == len(first.getvalue())
    with pytest.raises(ValueError):  # numpy refuses it too
        np.load(io.BytesIO(data[len(first.getvalue()):]))


@pytest.mark.parametrize("header", [
    "__import__('os').system('touch {sentinel}')",
    "{'descr': __import__('os').system('touch {sentinel}'), 'fortran_order': False, 'shape': (1,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (open('{sentinel}', 'w').write('x'),)}",
    "(lambda: __import__('os').system('touch {sentinel}'))()",
    "[x for x in ().__class__.__base__.__subclasses__()]",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), **{'a': __import__('os').system('touch {sentinel}')}}",
])
def test_code_in_header_is_refused_not_run(header, tmp_path):
    """The old scripts/spiqa_stream.py evaluated headers as Python and ran this; numpy and spiqa refuse it."""
    sentinel = tmp_path / "ran"
    data = npy(header.replace("{sentinel}", str(sentinel)), b"\0" * 16)
    with pytest.raises(spiqa.StreamError, match="Python literal|not a dictionary|keys"):
        read_one(data)
    # Also as the first record of a stream, through spiqa.open.
    with pytest.raises(spiqa.StreamError):
        list(spiqa.open(io.BytesIO(data)))
    assert not sentinel.exists()
    with pytest.raises(ValueError):  # numpy refuses it too
        np.load(io.BytesIO(data))


def test_parse_header_is_literal_only():
    assert parse_header("{'descr': '<u2', 'fortran_order': True, 'shape': (3, 4)}")[1:] == (False, True, (3, 4))
    with pytest.raises(spiqa.StreamError):
        parse_header("{'descr': '<u2', 'fortran_order': True, 'shape': (3, 4)} if print('x') else 0")


@pytest.mark.parametrize("pipe", [False, True], ids=["file", "pipe"])
@pytest.mark.parametrize("claim", [10 ** 15, 2 ** 40, 100_000_000])
def test_huge_shape_is_refused_without_allocating(claim, pipe, monkeypatch):
    """A header claiming far more than the input holds fails as truncated input, in bounded memory, even when
    the record limit allows the claim."""
    monkeypatch.setenv("SPIQA_MAX_RECORD_BYTES", "8192T")
    data = npy(f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({claim},), }}", b"\1" * 1000)
    tracemalloc.start()
    try:
        with pytest.raises(spiqa.StreamError, match="truncated input: NPY data has 1000 of"):
            read_one(data, pipe=pipe)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # A file is checked against its size before reading; a pipe reads through a 4 MiB piece (or one buffer of
    # at most 64 MiB for claims up to that size, as the Swift reader).
    limit = 1 << 20 if not pipe else (8 << 20 if claim * 4 > 1 << 26 else (claim * 4 + (1 << 20)))
    assert peak < limit, f"peak {peak} bytes"


def test_huge_shape_in_gzip_stream(monkeypatch):
    import gzip
    monkeypatch.setenv("SPIQA_MAX_RECORD_BYTES", "8192T")
    meta = spiqa.meta_array({"spiqa": 1, "kind": "attention"})
    buf = io.BytesIO()
    np.save(buf, meta)
    body = buf.getvalue() + npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000, 1000), }",
                                b"\0" * 5000)
    tracemalloc.start()
    try:
        with pytest.raises(spiqa.StreamError, match=r"record 1 .*truncated input: NPY data has 5000 of 40{15}\b"):
            list(spiqa.open(io.BytesIO(gzip.compress(body))))
        assert tracemalloc.get_traced_memory()[1] < 12 << 20
    finally:
        tracemalloc.stop()


def test_record_limits_as_the_tools():
    """A small gzip member that inflates to more than SPIQA_MAX_RECORD_BYTES (metadata: SPIQA_MAX_METADATA_BYTES)
    is refused from its header, with the tools' message; a bad limit value is a ValueError."""
    import gzip
    tensor = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (300000000,), }", b"")
    meta = io.BytesIO()
    np.save(meta, spiqa.meta_array({"spiqa": 1, "kind": "attention"}))
    bomb = gzip.compress(meta.getvalue() + tensor + b"\0" * (1 << 20))
    with pytest.raises(spiqa.StreamError, match=r"record 1 .*is 1200000000 bytes in one record; expected at most "
                                                r"1073741824 bytes \(set SPIQA_MAX_RECORD_BYTES"):
        list(spiqa.open(io.BytesIO(bomb)))
    big_meta = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (20000000,), }", b"")
    with pytest.raises(spiqa.StreamError, match="where a metadata record belongs; .*SPIQA_MAX_METADATA_BYTES"):
        list(spiqa.open(io.BytesIO(big_meta)))
    with pytest.MonkeyPatch.context() as m:
        m.setenv("SPIQA_MAX_RECORD_BYTES", "1K")
        with pytest.raises(spiqa.StreamError, match="at most 1024 bytes"):
            read_one(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (257,), }", b"\0" * 1028))
        assert read_one(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (256,), }", b"\0" * 1024)).size == 256
        m.setenv("SPIQA_MAX_RECORD_BYTES", "lots")
        with pytest.raises(ValueError, match="SPIQA_MAX_RECORD_BYTES='lots' is not a size"):
            read_one(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", b"\0" * 4))


def test_header_length_limits():
    ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
    # numpy's max_header_size (10000 characters) is checked before the header is read.
    with pytest.raises(spiqa.StreamError, match="larger than numpy's limit"):
        read_one(npy(ok + " " * 10001, version=(2, 0)))
    with pytest.raises(spiqa.StreamError, match="larger than numpy's limit"):
        read_one(b"\x93NUMPY\x02\x00\xff\xff\xff\xff")        # a 4 GiB header claim, refused before reading
    with pytest.raises(spiqa.StreamError, match="larger than numpy's limit"):
        read_one(b"\x93NUMPY\x01\x00\xff\xff" + b" " * 100)
    assert read_one(npy(ok + " " * (10000 - len(ok) - 1) + "\n", b"\0" * 8, version=(2, 0))).shape == (2,)
    # Format 3.0: UTF-8, counted in characters.
    assert read_one(npy(ok + "  \n", b"\0" * 8, version=(3, 0))).shape == (2,)
    with pytest.raises(spiqa.StreamError, match="unsupported NPY dtype '\u00e9\u00e9"):
        read_one(npy(ok.replace("<f4", "\u00e9" * 9000), version=(3, 0)))      # 18000 bytes, 9000+ characters
    with pytest.raises(spiqa.StreamError, match="longer than numpy's limit"):
        read_one(npy(ok.replace("<f4", "\u00e9" * 10000), version=(3, 0)))
    with pytest.raises(spiqa.StreamError, match="not valid UTF-8"):
        read_one(b"\x93NUMPY\x03\x00" + (3).to_bytes(4, "little") + b"\xff\xfe\xfd")
    with pytest.raises(spiqa.StreamError, match="format version 4.0"):
        read_one(npy(ok, version=(4, 0)))
    with pytest.raises(spiqa.StreamError, match="format version 1.1"):
        read_one(npy(ok, version=(1, 1)))


def test_bad_magic_and_truncation():
    good = io.BytesIO()
    np.save(good, np.arange(6, dtype=np.float32).reshape(2, 3))
    g = good.getvalue()
    with pytest.raises(spiqa.StreamError, match="bad magic 50 4b 03 04"):
        read_one(b"PK\x03\x04" + g[4:])                     # e.g. an .npz handed over by mistake
    for cut, what in [(3, "NPY magic and version has 3 of 8"), (9, "NPY header length has 1 of 2"),
                      (40, "NPY header has 30 of"), (len(g) - 1, "NPY data has 23 of 24")]:
        for pipe in (False, True):
            with pytest.raises(spiqa.StreamError, match=f"truncated input: {what}"):
                read_one(g[:cut], pipe=pipe)
    assert list(spiqa.arrays(io.BytesIO(b""))) == []
