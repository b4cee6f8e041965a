"""Record streams: every kind the tools write, concatenated streams, pipes, truncated and corrupted input."""
import gzip
import io
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

import spiqa

from conftest import REPO, SENTENCES, numpy_records, run
from test_npy import FIXTURES, MANIFEST_ALL, Pipe

SEEDS = sorted((REPO / "Fuzz/seeds").glob("*")) + sorted(FIXTURES.glob("stream_numpy*"))


def read_all(src, headers=True):
    with spiqa.open(src, headers=headers) as s:
        return [(r.meta, r.array) for r in s]


def assert_same(got, want):
    assert len(got) == len(want)
    for (m1, a1), (m2, a2) in zip(got, want):
        assert m1 == m2
        if a2 is None:
            assert a1 is None
        else:
            assert a1.dtype == a2.dtype.newbyteorder("<") and a1.shape == a2.shape
            np.testing.assert_array_equal(a1, a2)
            assert a1.flags.writeable


KINDS = ["f32_gz", "f32_plain", "f16_hidden", "f16_plain", "pruned_gz", "codes_u1", "codes_u2", "quant_f32",
         "hist_npy", "per_row"]


@pytest.mark.parametrize("kind", KINDS)
def test_tool_streams_read_as_numpy_reads_them(streams, kind):
    """Swift writer → Python reader: metadata and arrays equal to what np.load reads from the same file."""
    got = read_all(streams[kind])
    assert_same(got, numpy_records(streams[kind]))
    assert got[0][0]["kind"] == "stream" and got[0][1] is None
    tensors = [(m, a) for m, a in got if a is not None]
    assert tensors
    for m, a in tensors:
        if m["kind"] == "attention":
            assert list(a.shape) == m["shape"] and a.shape[2] == a.shape[3] == m["n"]
            p = spiqa.decode_attention(m, a)
            assert p.dtype == np.float32 and p.shape == a.shape
            if kind in ("f32_gz", "f32_plain", "f16_hidden", "f16_plain"):
                np.testing.assert_allclose(p.sum(axis=-1), 1, atol=2e-2 if "f16" in kind else 1e-4)


def test_stream_contents(streams):
    """What each kind holds: dtypes, codes with levels, hidden states, tokens."""
    with spiqa.open(streams["f16_hidden"]) as s:
        recs = list(s)
        assert s.header["producer"] == "spiqa-extract" and s.header["dtype"] == "f2"
    assert [r.kind for r in recs] == ["attention", "hidden_states"] * len(SENTENCES)
    att, hid = recs[0], recs[1]
    assert att.array.dtype == np.float16 and att.tokens[0] == "[CLS]" and len(att.tokens) == att.meta["n"]
    assert hid.array.shape == (7, att.meta["n"], 384)
    u1 = [r for r in spiqa.open(streams["codes_u1"])]
    u2 = [r for r in spiqa.open(streams["codes_u2"])]
    assert {r.array.dtype for r in u1} == {np.dtype(np.uint8)} and {r.array.dtype for r in u2} == {np.dtype(np.uint16)}
    for r in u1 + u2:
        assert r.meta["encoding"] == "codes" and int(r.array.max()) < len(r.meta["levels"])
    exact = [r.attention() for r in spiqa.open(streams["f32_gz"])]
    quant = [r.attention() for r in spiqa.open(streams["quant_f32"])]
    coded = [r.attention() for r in u1]
    for e, q, c in zip(exact, quant, coded):
        np.testing.assert_array_equal(q, c)          # codes decode to the quantized floats
        assert np.abs(e - q).max() < 0.5
    f16 = [r.attention() for r in spiqa.open(streams["f16_plain"])]
    for e, h in zip(exact, f16):
        np.testing.assert_allclose(h, e, atol=1e-3)
    hist = spiqa.hist_arrays(streams["hist_npy"])
    assert hist.header["producer"] == "spiqa-hist" and hist["histogram"].shape == (6, 12, 100)
    assert int(hist["values"].sum()) == sum(e[0, 0].size for e in exact) * 72


@pytest.mark.parametrize("pair", [("f32_plain", "f16_plain"), ("f32_gz", "codes_u1"), ("f32_gz", "pruned_gz")])
def test_concatenated_streams(streams, pair, tmp_path):
    """`cat a b` is a stream: gzip members follow each other, the second header appears mid-stream."""
    a, b = (streams[k] for k in pair)
    cat = tmp_path / "cat"
    with open(cat, "wb") as f:
        f.write(a.read_bytes() + b.read_bytes())
    both = read_all(cat)
    assert_same(both, read_all(a) + read_all(b))
    with spiqa.open(cat) as s:
        n = sum(1 for _ in s)
        assert len(s.headers) == 2 and s.header == s.headers[0] and n == 2 * len(SENTENCES)
    # Through cat(1) and a pipe as well.
    p = subprocess.Popen(["cat", str(a), str(b)], stdout=subprocess.PIPE)
    with spiqa.open(p) as s:
        assert_same([(r.meta, r.array) for r in s], [x for x in both if x[1] is not None])


def test_mixed_plain_and_gzip_is_an_error(streams, tmp_path):
    cat = tmp_path / "mixed"
    cat.write_bytes(streams["f32_gz"].read_bytes() + streams["f32_plain"].read_bytes())
    with pytest.raises(spiqa.StreamError, match="not another gzip member .*start 93 4e 55 4d"):
        read_all(cat)


def test_extract_through_a_pipe(bin_dir, model_dir, tmp_path):
    """spiqa-extract ... | python: spiqa.open on a Popen, on proc.stdout, and "-" in a child process."""
    text = tmp_path / "t.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    cmd = [str(bin_dir / "spiqa-extract"), "--model", str(model_dir), "--task", "text", "--data", str(text),
           "--tokens", "--quiet"]
    ref = read_all(run(cmd + ["-o", str(tmp_path / "ref.npy.gz")]) and tmp_path / "ref.npy.gz", headers=False)
    for extra in ([], ["--no-gzip"]):
        with spiqa.open(subprocess.Popen(cmd + extra, stdout=subprocess.PIPE)) as s:
            got = [(r.meta, r.array) for r in s]
        assert_same(got, ref)
        p = subprocess.Popen(cmd + extra, stdout=subprocess.PIPE)
        try:
            assert_same([(r.meta, r.array) for r in spiqa.open(p.stdout)], ref)
        finally:
            p.stdout.close()
            assert p.wait() == 0
    with spiqa.pipe(cmd) as s:                                 # tool name or path, stderr kept for errors
        assert [r.meta["example_id"] for r in s] == [m["example_id"] for m, _ in ref]
    script = ("import sys, spiqa\n"
              "for meta, a in spiqa.open('-'):\n"
              "    print(meta['example_id'], a.shape, a.dtype, float(a.sum()))\n")
    shell = f"{' '.join(map(str, cmd))} | {sys.executable} -c \"$SCRIPT\""
    out = subprocess.run(["bash", "-o", "pipefail", "-c", shell], env={"SCRIPT": script, "PATH": "/usr/bin:/bin",
                         "PYTHONPATH": ":".join(sys.path)}, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert len(lines) == len(ref) and lines[0].startswith("text-0 (6, 12, ")


def test_failing_producer_raises(bin_dir, tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as e:
        with spiqa.pipe([bin_dir / "spiqa-quantize", tmp_path / "missing.npy.gz"]) as s:
            list(s)
    assert e.value.returncode == 74 and b"missing.npy.gz" in e.value.stderr


def test_producer_dying_mid_stream_raises_its_error(streams):
    """A tool that fails after part of a record: its exit status and stderr, not only "truncated input"."""
    script = f"head -c 3000 {streams['f32_plain']}; echo 'spiqa-extract: out of memory' >&2; exit 3"
    with pytest.raises(subprocess.CalledProcessError) as e:
        with spiqa.pipe(["/bin/bash", "-c", script]) as s:
            list(s)
    assert e.value.returncode == 3 and b"out of memory" in e.value.stderr
    assert isinstance(e.value.__cause__, spiqa.StreamError) and "truncated" in str(e.value.__cause__)


def test_early_close_stops_the_producer(bin_dir, model_dir, shared_dir):
    """Breaking out of the loop closes the pipe; the producer ends (EPIPE) instead of hanging."""
    cmd = [bin_dir / "spiqa-extract", "--model", model_dir, "--task", "sst2", "--data",
           shared_dir / "data/glue/SST-2/dev.tsv", "--limit", "200", "--quiet"]
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    with spiqa.open(p) as s:
        first = next(iter(s))
        assert first.kind == "attention"
    assert p.poll() is not None


def test_numpy_stream_fixture():
    """The numpy-written stream fixture of the Swift tests (np.save records into gzip.open)."""
    want = MANIFEST_ALL["stream_numpy.npy"]["tensors"]
    for name in ("stream_numpy.npy", "stream_numpy.npy.gz"):
        path = FIXTURES / name
        if not path.exists():
            continue
        got = [spiqa.decode_attention(m, a) for m, a in read_all(path, headers=False)]
        assert len(got) == len(want)
        for a, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(a, np.float64).ravel(), w, rtol=1e-6)


@pytest.mark.skipif(not SEEDS, reason="no fuzz seeds in Fuzz/seeds")
@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_fuzz_seeds_read_like_numpy(seed):
    assert_same(read_all(seed), numpy_records(seed))


def _outcome(data, pipe):
    try:
        return read_all(Pipe(data, step=777) if pipe else io.BytesIO(data))
    except spiqa.StreamError as e:
        assert str(e).startswith("<stream>: record ") and "; expected " in str(e), str(e)
        return e


def _boundaries(data):
    """Offsets where the NPY arrays of a plain stream end."""
    f, ends = io.BytesIO(data), []
    while f.tell() < len(data):
        np.load(f)
        ends.append(f.tell())
    return ends


@pytest.mark.parametrize("pipe", [False, True], ids=["file", "pipe"])
def test_every_cut_is_an_error_or_a_shorter_stream(streams, pipe):
    """Truncated input never crashes: a located StreamError, or, cut where a record ends in a plain stream, the
    records before the cut."""
    for kind in ("f16_plain", "codes_u1"):
        data = streams[kind].read_bytes()
        full = read_all(io.BytesIO(data))
        step = max(1, len(data) // 120)
        cuts = set(range(1, len(data), step)) | {len(data) - 1, len(data) - 4, 10}
        ends = _boundaries(data) if kind == "f16_plain" else []
        cuts |= {e for e in ends[:-1]} | {e + 1 for e in ends[:-1]}
        valid = 0
        for cut in sorted(cuts):
            r = _outcome(data[:cut], pipe)
            if isinstance(r, list):
                valid += 1
                assert cut in ends, f"{kind}: cut {cut} gave a stream"
                assert len(r) < len(full)
                assert_same(r, full[:len(r)])
        # A cut after a header or a tensor ends a valid stream; one after a metadata record does not.
        assert valid == (len(SENTENCES) if kind == "f16_plain" else 0)   # header, tensor 1, tensor 2


def test_random_corruption_gives_stream_errors_only():
    """Byte flips in the fuzz seeds: a StreamError or a valid stream, never another exception or a hang."""
    rng = random.Random(20)
    errors = 0
    for seed in SEEDS:
        base = seed.read_bytes()
        for _ in range(60):
            b = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= rng.randint(1, 255)
            errors += isinstance(_outcome(bytes(b), pipe=rng.random() < 0.5), spiqa.StreamError)
    assert errors > 0


def _meta(obj):
    buf = io.BytesIO()
    np.save(buf, np.frombuffer(obj if isinstance(obj, bytes) else json.dumps(obj).encode(), np.uint8))
    return buf.getvalue()


def _tensor(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.mark.parametrize("data,message", [
    (_meta({"spiqa": 1, "kind": "attention"}), "ends after a metadata record of kind \"attention\""),
    (_tensor(np.zeros(3, np.float32)), "a <f4 array of shape [3] where a metadata record belongs"),
    (_tensor(np.zeros((2, 2), np.uint8)), "a |u1 array of shape [2, 2] where a metadata record belongs"),
    (_meta(b'{"spiqa":1,'), "not valid JSON"),
    (_meta(b'\xff\xfe{"spiqa":1}'), "not valid JSON"),
    (_meta(b'{"spiqa":1,"kind":"attention","x":NaN}'), "not valid JSON"),
    (_meta(b"[" * 100000 + b"]" * 100000), "not valid JSON"),
    (_meta({"a": 1}), "spiqa = nothing"),
    (_meta({"spiqa": True, "kind": "x"}), "spiqa = true"),
    (_meta({"spiqa": 2, "kind": "x"}), "spiqa = 2"),
    (_meta({"spiqa": 1, "kind": ""}), "no \"kind\" string"),
    (_meta([1, 2]), "not an object"),
])
def test_metadata_errors(data, message):
    with pytest.raises(spiqa.StreamError, match=message.replace("[", r"\[").replace("|", r"\|")):
        read_all(io.BytesIO(data))


def test_errors_are_located_and_sticky():
    ok = _meta({"spiqa": 1, "kind": "stream"}) + _meta({"spiqa": 1, "kind": "attention"}) + \
        _tensor(np.ones((1, 1, 2, 2), np.float32))
    bad = ok + b"\x00NUMPY" + ok[6:]
    s = spiqa.open(io.BytesIO(bad))
    it = iter(s)
    assert next(it).array.shape == (1, 1, 2, 2)
    with pytest.raises(spiqa.StreamError) as e:
        next(it)
    assert str(e.value) == f"<stream>: record 3 (byte {len(ok)}): bad magic 00 4e 55 4d 50 59; expected an NPY " \
                           "record starting with 93 4e 55 4d 50 59 (\\x93NUMPY)"
    assert e.value.record == 3 and e.value.offset == len(ok)
    with pytest.raises(spiqa.StreamError):
        s.read()
    g = bytearray(gzip.compress(ok))
    g[-6] ^= 0xFF                                              # the CRC
    with pytest.raises(spiqa.StreamError, match="corrupt gzip member 0"):
        read_all(io.BytesIO(bytes(g)))
    with pytest.raises(spiqa.StreamError, match="truncated gzip member 0"):
        read_all(io.BytesIO(gzip.compress(ok)[:-3]))
    with pytest.raises(spiqa.StreamError, match="after gzip member 1 that are not another .*start 00 00 00"):
        read_all(io.BytesIO(gzip.compress(ok) + b"\0\0\0"))    # Python's gzip module would accept this
    assert read_all(io.BytesIO(b"")) == [] and read_all(io.BytesIO(gzip.compress(b""))) == []


def test_sources(tmp_path, monkeypatch):
    data = _meta({"spiqa": 1, "kind": "stream", "k": "é"}) + _meta({"spiqa": 1, "kind": "t"}) + _tensor(np.arange(3))
    p = tmp_path / "s.npy"
    p.write_bytes(data)
    for src in (str(p), p, io.BytesIO(data), open(p, "rb"), gzip.open(io.BytesIO(gzip.compress(data))),
                Pipe(data, step=1)):
        with spiqa.open(src) as s:
            assert s.header["k"] == "é"
            assert [r.array.tolist() for r in s] == [[0, 1, 2]]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(data))))
    assert [r.array.tolist() for r in spiqa.open("-")] == [[0, 1, 2]]
    with pytest.raises(TypeError, match="binary mode"):
        spiqa.open(io.StringIO("x"))
    with pytest.raises(FileNotFoundError):
        spiqa.open(tmp_path / "nope")


def test_python_writer_matches_np_save(tmp_path):
    """spiqa.Writer writes what np.save writes, metadata as the tools write it."""
    a = np.random.default_rng(0).random((1, 2, 3, 3), dtype=np.float32)
    with spiqa.Writer(tmp_path / "w.npy", header={"producer": "test"}) as w:
        w.write({"example_id": "x", "n": 3, "score": float("nan")}, a)
    got = (tmp_path / "w.npy").read_bytes()
    want = _meta(b'{"kind":"stream","producer":"test","spiqa":1}') + \
        _meta(b'{"dtype":"f4","example_id":"x","kind":"attention","n":3,"score":null,"shape":[1,2,3,3],"spiqa":1}') + \
        _tensor(a)
    assert got == want
    with spiqa.Writer(tmp_path / "w.npy.gz", header={}) as w:
        w.write({"example_id": "x"}, a.astype(">f4"))
    assert gzip.decompress((tmp_path / "w.npy.gz").read_bytes())[-a.nbytes:] == a.tobytes()
    with pytest.raises(ValueError, match="cannot go into a spiqa stream"):
        spiqa.Writer(io.BytesIO()).write({}, np.zeros(2, np.complex64))


def _big_stream(path):
    """A record much larger than its gzip file: a size check against the file on disk would call it truncated."""
    with spiqa.Writer(path, header={"producer": "t"}) as w:
        w.write({"example_id": "e"}, np.full((2, 3, 64, 64), 1 / 64, np.float32))
    return gzip.decompress(path.read_bytes())


def test_decompressing_file_objects(tmp_path):
    """gzip.open, bz2.open and lzma.open objects have the compressed file's fileno(), not its size."""
    import bz2
    import lzma
    plain = _big_stream(tmp_path / "big.npy.gz")
    (tmp_path / "big.npy.bz2").write_bytes(bz2.compress(plain))
    (tmp_path / "big.npy.xz").write_bytes(lzma.compress(plain))
    for f in (gzip.open(tmp_path / "big.npy.gz"), bz2.open(tmp_path / "big.npy.bz2"),
              lzma.open(tmp_path / "big.npy.xz")):
        with f, spiqa.open(f) as s:
            [rec] = list(s)
        assert rec.array.shape == (2, 3, 64, 64) and float(rec.array.sum()) == 2 * 3 * 64
    # A plain file is still checked against its size before anything is read.
    (tmp_path / "cut.npy").write_bytes(plain[:-10])
    with open(tmp_path / "cut.npy", "rb") as f:
        with pytest.raises(spiqa.StreamError, match=r"truncated input: NPY data has 98294 of 98304 bytes"):
            list(spiqa.open(f))


def test_bytes_are_content_and_none_is_refused(tmp_path):
    plain = _big_stream(tmp_path / "big.npy.gz")
    for src in (plain, bytearray(plain), memoryview(plain), gzip.compress(plain)):
        with spiqa.open(src) as s:
            assert s.name == "<bytes>" and [r.array.shape for r in s] == [(2, 3, 64, 64)]
    assert len(list(spiqa.arrays(plain))) == 3
    with pytest.raises(spiqa.StreamError, match=r"^<bytes>: record 0 \(byte 0\): bad magic"):
        list(spiqa.open(b"not a stream"))
    with pytest.raises(TypeError, match="from None"):
        spiqa.open(None)


def test_writer_sets_shape_dtype_and_drops_codes_keys(streams, tmp_path):
    """w.write(rec.meta, new_array): shape and dtype from the new tensor; a float tensor is not codes any more."""
    out = tmp_path / "t.npy.gz"
    with spiqa.open(streams["codes_u1"]) as s, spiqa.Writer(out, header=s.header) as w:
        for rec in s:
            assert rec.meta["encoding"] == "codes" and rec.meta["dtype"] == "u1"
            w.write(rec.meta, rec.attention().astype(np.float16))          # same shape, new dtype: values
            w.write(rec.meta, rec.array[:1])                               # fewer layers, still codes
    got = list(spiqa.open(out))
    for values, codes in zip(got[::2], got[1::2]):
        assert values.meta["dtype"] == "f2" and "encoding" not in values.meta and "levels" not in values.meta
        assert values.meta["shape"] == list(values.array.shape) and values.array.dtype == np.float16
        assert codes.meta["dtype"] == "u1" and codes.meta["encoding"] == "codes" and codes.meta["levels"]
        assert codes.meta["shape"] == [1] + values.meta["shape"][1:]
        np.testing.assert_array_equal(codes.attention().astype(np.float16), values.array[:1])
    rec = got[1]
    with pytest.raises(ValueError, match="needs u1 or u2 codes, not a i8 tensor"):
        spiqa.Writer(io.BytesIO()).write(rec.meta, rec.array.astype(np.int64))


def test_reader_refuses_metadata_that_contradicts_the_tensor():
    """A stale shape or a float tensor under "encoding": "codes": refused where it is read, as the tools do."""
    head = _meta({"spiqa": 1, "kind": "stream"})
    for meta, tensor, message in [
        ({"shape": [2, 3, 5, 5]}, np.zeros((1, 3, 5, 5), np.float32),
         'example_id "x": metadata shape [2, 3, 5, 5] but the tensor has shape [1, 3, 5, 5]; expected matching'),
        ({"shape": "1x3"}, np.zeros((1, 3), np.float32), 'metadata shape "1x3" but the tensor has shape [1, 3]'),
        ({"encoding": "codes", "levels": [0, 1]}, np.zeros((1, 1, 2, 2), np.float32),
         'example_id "x": codes record of dtype f4; expected u1 or u2 codes'),
        ({"encoding": "codes", "levels": [0, 1]}, np.zeros((1, 1, 2, 2), np.int32), "codes record of dtype i4"),
    ]:
        first = _meta({"spiqa": 1, "kind": "attention", "example_id": "x", **meta})
        data = head + first + _tensor(tensor)
        with pytest.raises(spiqa.StreamError) as e:
            list(spiqa.open(data))
        assert message in str(e.value) and e.value.record == 2 and e.value.offset == len(head) + len(first)
        with pytest.raises(spiqa.StreamError, match=message.split(";")[0].replace("[", r"\[")):
            spiqa.decode_attention({"example_id": "x", **meta}, tensor)
    ok = head + _meta({"spiqa": 1, "kind": "attention", "shape": None}) + _tensor(np.zeros(2, np.float32))
    assert [r.array.shape for r in spiqa.open(ok)] == [(2,)]


def _within(seconds, proc, fn):
    """fn() on a thread; a hang kills `proc` and fails instead of blocking the suite."""
    import threading
    box = {}

    def run_it():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e
    t = threading.Thread(target=run_it, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        proc.kill()
        pytest.fail(f"still reading after {seconds} s: the producer blocked on a full stderr pipe")
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_chatty_producer_does_not_hang(tmp_path):
    """200 KB on stderr (more than a pipe holds) before the stream: drained while reading, the tail kept."""
    good = tmp_path / "good.npy"
    good.write_bytes(_big_stream(tmp_path / "big.npy.gz"))
    script = f"head -c 200000 /dev/zero | tr '\\0' x >&2; echo >&2; cat {good}; echo 'tool: the end' >&2"
    p = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _within(20, p, lambda: [r.array.shape for r in spiqa.open(p)]) == [(2, 3, 64, 64)]
    assert p.returncode == 0
    s = spiqa.pipe(["/bin/sh", "-c", script + "; exit 3"])
    with pytest.raises(subprocess.CalledProcessError) as e:
        _within(20, s._process, lambda: list(s))
    assert e.value.returncode == 3 and len(e.value.stderr) == spiqa.stream.STDERR_TAIL
    assert e.value.stderr.endswith(b"x\ntool: the end\n")
    assert str(e.value).endswith("returned non-zero exit status 3. Its last stderr line: tool: the end")


def test_process_error_message_has_the_tools_last_line(tmp_path):
    """The reason is in str(e), not only in e.stderr (traceback readers see str(e))."""
    script = "echo 'progress 1/2' >&2; echo 'spiqa-extract: /x: no such model folder' >&2; echo >&2; exit 74"
    with pytest.raises(subprocess.CalledProcessError) as e:
        with spiqa.pipe(["/bin/sh", "-c", script]) as s:
            list(s)
    assert e.value.returncode == 74 and str(e.value).endswith(
        "exit status 74. Its last stderr line: spiqa-extract: /x: no such model folder")
    with pytest.raises(subprocess.CalledProcessError) as e:
        list(spiqa.pipe(["/bin/sh", "-c", "exit 5"]))
    assert e.value.stderr == b"" and str(e.value).endswith("exit status 5.")


def _sq_member(body, csize_delta=0, usize_delta=0):
    """One gzip member as spiqa writes it (FLG = FEXTRA with the SQ subfield), sizes optionally lying."""
    import struct
    import zlib
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    deflate = c.compress(body) + c.flush()
    extra = b"SQ" + struct.pack("<HII", 8, len(deflate) + csize_delta, len(body) + usize_delta)
    header = b"\x1f\x8b\x08\x04" + b"\0" * 4 + b"\x04\x03" + struct.pack("<H", len(extra)) + extra
    return header + deflate + struct.pack("<II", zlib.crc32(body), len(body))


def test_sq_sizes_are_checked_as_the_tools_check_them():
    """A member whose SQ field lies about its sizes is refused (spiqa-hist does), one that tells the truth reads."""
    body = _meta({"spiqa": 1, "kind": "attention", "example_id": "x"}) + _tensor(np.full((1, 1, 3, 3), 1 / 3,
                                                                                     np.float32))
    assert [r.meta["example_id"] for r in spiqa.open(_sq_member(body))] == ["x"]
    for delta, message in [((0, -100), "inflates to more than the"), ((0, 100), "does not match its SQ field"),
                           ((5, 0), "does not match its SQ field"), ((-5, 0), "does not match its SQ field")]:
        with pytest.raises(spiqa.StreamError, match=message):
            list(spiqa.open(_sq_member(body, *delta)))


def test_writer_leaves_nothing_on_failure(tmp_path):
    """As the tools: a stream written to a path appears under its name only when complete."""
    a = np.full((1, 1, 2, 2), 0.5, np.float32)
    out = tmp_path / "partial.npy.gz"
    with pytest.raises(RuntimeError):
        with spiqa.Writer(out, header={}) as w:
            for i in range(5):
                if i == 3:
                    raise RuntimeError("the script failed")
                w.write({"example_id": f"e{i}"}, a)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError):
        spiqa.Writer(tmp_path / "x.npy", header={"x": object()})
    assert list(tmp_path.iterdir()) == []
    # An existing file is replaced whole, keeping its permissions; a symlink's target is written, the link kept.
    out.write_bytes(b"old")
    out.chmod(0o640)
    (tmp_path / "link.gz").symlink_to(out.name)
    with spiqa.Writer(tmp_path / "link.gz", header={}) as w:
        w.write({"example_id": "new"}, a)
    assert (tmp_path / "link.gz").is_symlink() and (out.stat().st_mode & 0o777) == 0o640
    assert [r.meta["example_id"] for r in spiqa.open(out)] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.gz", "partial.npy.gz"]


def test_writer_refuses_what_the_tools_cannot_read(tmp_path):
    w = spiqa.Writer(io.BytesIO())
    codes = np.zeros((1, 1, 2, 2), np.uint8)
    for levels in ([0.0, float("inf")], [], None, "ab", [[0, 1]], [True, 0.5]):
        with pytest.raises(ValueError, match="levels"):
            w.write({"encoding": "codes", "levels": levels}, codes)
    for kind in ("", None, 5):
        with pytest.raises(ValueError, match='"kind" must be a non-empty string'):
            w.write({"kind": kind}, codes)


def test_writer_round_trips_what_the_reader_accepts():
    """0-d arrays stay 0-d (np.save's bytes); a lone surrogate the reader accepted can be written back."""
    buf = io.BytesIO()
    with spiqa.Writer(buf) as w:
        w.write({"kind": "scalar"}, np.array(1.5, np.float16))
    np_bytes = io.BytesIO()
    np.save(np_bytes, np.array(1.5, np.float16))
    assert buf.getvalue().endswith(np_bytes.getvalue())
    assert [r.array.shape for r in spiqa.open(buf.getvalue())] == [()]
    data = _meta(b'{"spiqa": 1, "kind": "attention", "tokens": ["\\ud800x"]}') + _tensor(np.ones((1, 1, 1, 1),
                                                                                             np.float32))
    rec = next(iter(spiqa.open(data)))
    out = io.BytesIO()
    with spiqa.Writer(out) as w:
        w.write(rec.meta, rec.attention())
    assert next(iter(spiqa.open(out.getvalue()))).tokens == ["\ud800x"]
    fortran0d = b"\x93NUMPY\x01\x00" + (118).to_bytes(2, "little") + \
        b"{'descr': '<f4', 'fortran_order': True, 'shape': (), }".ljust(117) + b"\n" + np.float32(2).tobytes()
    assert next(iter(spiqa.arrays(fortran0d))).shape == ()


def test_version_one_point_zero_and_codes_levels():
    """"spiqa": 1.0 is the number 1 (the tools accept it); a codes record's levels must be finite numbers."""
    t = _tensor(np.zeros((1, 1, 2, 2), np.uint8))
    assert len(list(spiqa.open(_meta(b'{"spiqa": 1.0, "kind": "attention"}') + t))) == 1
    for levels in ('"abc"', '{"a": 1}', '[[0, 1], [0.5, 0.5]]', '[0.5, null]', '[]', '[1e999999]'):
        rec = next(iter(spiqa.open(_meta(('{"spiqa": 1, "kind": "attention", "encoding": "codes", "levels": '
                                          + levels + '}').encode()) + t)))
        with pytest.raises(spiqa.StreamError, match='codes record without a "levels" list of numbers'):
            rec.attention()


def test_messages_stay_one_short_line():
    """A hostile kind or NPY header is shown escaped and cut, never as raw control characters."""
    kind = "x\n\x1b[31mFAKE\u2028\x9b" + "A" * 5000
    with pytest.raises(spiqa.StreamError) as e:
        list(spiqa.open(_meta(json.dumps({"spiqa": 1, "kind": kind}).encode())))
    text = str(e.value)
    assert len(text) < 300 and text.isprintable() and "\x9b" not in text
    evil = b"\x93NUMPY\x01\x00" + (20).to_bytes(2, "little") + b"\x9b\xc2\x85 2028 \n".ljust(19) + b"\n"
    with pytest.raises(spiqa.StreamError) as e:
        list(spiqa.arrays(evil))
    assert str(e.value).isprintable()


def test_arrays_checks_the_process_exit(tmp_path):
    """spiqa.arrays(Popen) is as strict as spiqa.open: a producer's non-zero exit is an error at the end."""
    path = tmp_path / "t.npy"
    with spiqa.Writer(path, header={}) as w:
        w.write({}, np.zeros(3, np.float32))
    p = subprocess.Popen(["sh", "-c", f"cat {path}; exit 5"], stdout=subprocess.PIPE)
    with pytest.raises(subprocess.CalledProcessError) as e:
        list(spiqa.arrays(p))
    assert e.value.returncode == 5


def test_writer_lifecycle_details(tmp_path, monkeypatch):
    """A forgotten close() keeps the stream (with a ResourceWarning), as a Python file would; discard() on a
    gzip writer to a file object writes nothing more, even when collected; an empty path is refused; a new
    file gets 0666 & ~umask without the process umask changing."""
    import gc
    import warnings
    a = np.zeros((1, 1, 2, 2), np.float32)
    w = spiqa.Writer(tmp_path / "forgotten.npy.gz", header={})
    w.write({"example_id": "kept"}, a)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del w
        gc.collect()
    assert any(issubclass(c.category, ResourceWarning) for c in caught)
    assert [r.meta["example_id"] for r in spiqa.open(tmp_path / "forgotten.npy.gz")] == ["kept"]
    buf = io.BytesIO()
    w = spiqa.Writer(buf, compress=True, header={})
    w.write({}, a)
    w.discard()
    size = len(buf.getvalue())
    del w
    gc.collect()
    assert len(buf.getvalue()) == size
    with pytest.raises(ValueError, match="empty"):
        spiqa.Writer("")
    old = os.umask(0o027)
    try:
        with spiqa.Writer(tmp_path / "new.npy", header={}):
            assert os.umask(0o027) == 0o027      # not flipped while the file is open
        assert (tmp_path / "new.npy").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_indices_as_the_tools_read_them():
    """layers/heads and n as Swift's JSONValue.intValue reads them: 4.0 is 4, 1e19 and 1e400 are not indices."""
    from spiqa.stream import attention_axes
    assert attention_axes({"layers": [0.0, 3], "n": 2.0}, (2, 1, 2, 2)) == ([0, 3], [0])
    for meta in ({"layers": [1e19, 0]}, {"layers": [1e400, 0]}, {"layers": [True, 0]}, {"n": 1e400}):
        with pytest.raises(spiqa.StreamError, match="record metadata"):
            attention_axes(meta, (2, 1, 2, 2))
