"""The HTML viewer: the page's data and limits (Python), and the page itself in headless Chromium."""
import html
import io
import re
import subprocess
import sys

import numpy as np
import pytest

import spiqa
from spiqa import view

import chromium
from conftest import run


@pytest.fixture(scope="module")
def browser():
    exe = chromium.find()
    if exe is None:
        pytest.skip("chromium not found (Debian package `chromium`; make test installs it with apt-get when it can, "
                    "or set SPIQA_CHROMIUM)")
    return exe


def make_page(tmp_path, *args, name="view.html"):
    out = tmp_path / name
    p = subprocess.run([sys.executable, "-m", "spiqa.view", *map(str, args), "-o", str(out)], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    return out, p.stderr


def page_data(path):
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="spiqa-data">(.*?)</script>', text, re.S)
    import json
    return json.loads(m.group(1)), text


def test_page_is_self_contained(streams, tmp_path):
    out, log = make_page(tmp_path, streams["f32_gz"], "--compare", streams["codes_u1"])
    data, text = page_data(out)
    assert "3 records, 2 streams" in log
    assert len(data["records"]) == 3 and data["encoding"] == "f16"
    r = data["records"][0]
    assert r["tokens"][0] == "[CLS]" and len(r["data"]) == 2
    assert r["info"][0] == {"dtype": "f4", "scope": "batch"} or "method" not in r["info"][0]
    assert r["info"][1]["method"] == "linear_slog_clamped_midval" and r["info"][1]["encoding"] == "codes"
    # No external resource of any kind.
    for pattern in (r"\bsrc\s*=", r"\bhref\s*=", r"url\(", r"@import", r"https?://", r"\bfetch\(", r"XMLHttpRequest",
                    r"\beval\(", r"new Function"):
        assert not re.search(pattern, text), pattern
    # Embedded values: float16 of the decoded attention.
    with spiqa.open(streams["f32_gz"]) as s:
        first = next(iter(s))
    import base64
    got = np.frombuffer(base64.b64decode(r["data"][0]), "<f2").reshape(first.array.shape)
    np.testing.assert_array_equal(got, first.array.astype(np.float16))


def test_limits_and_size(streams, tmp_path):
    out, log = make_page(tmp_path, streams["f32_gz"], "--limit", "2")
    data, _ = page_data(out)
    assert len(data["records"]) == 2 and data["notes"] == ["stopped after 2 records (--limit 2)"]
    assert "stopped after 2 records" in log
    # The cap counts the embedded base64 (4/3 of the float16 bytes) plus 2000 bytes per record; one between one
    # and two records' worth keeps one record and says why.
    sizes = [6 * 12 * r["n"] ** 2 * 2 * 4 // 3 + 2000 for r in data["records"]]
    out, log = make_page(tmp_path, streams["f32_gz"], "--max-mb", str((sizes[0] + sizes[1] / 2) / 1e6), name="cap.html")
    data, text = page_data(out)
    assert len(data["records"]) == 1 and "over --max-mb" in data["notes"][0] and "over --max-mb" in log
    u8, _ = make_page(tmp_path, streams["f32_gz"], "--encoding", "u8", name="u8.html")
    f16, _ = make_page(tmp_path, streams["f32_gz"], name="f16.html")
    assert u8.stat().st_size < f16.stat().st_size
    d, _ = page_data(u8)
    with spiqa.open(streams["f32_gz"]) as s:
        p = next(iter(s)).array
    import base64
    codes = np.frombuffer(base64.b64decode(d["records"][0]["data"][0]), np.uint8).reshape(p.shape)
    step = 0.5 / 255                                   # round(255·√p): √p within half a step
    assert np.all(np.abs((codes / 255.0) ** 2 - p) <= 2 * np.sqrt(p) * step + step ** 2 + 1e-7)
    p2 = subprocess.run([sys.executable, "-m", "spiqa.view", str(streams["f32_gz"]), "--max-mb", "0.001", "-o",
                         str(tmp_path / "none.html")], capture_output=True, text=True)
    assert p2.returncode == 1 and "over --max-mb 0.001" in p2.stderr and not (tmp_path / "none.html").exists()


def test_cli_errors(streams, tmp_path):
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00\x10\x00__import__('os')")
    for args, code, message in [([bad], 65, "not a Python literal"), ([tmp_path / "nope"], 74, "nope"),
                                ([streams["hist_npy"]], 1, "no attention records")]:
        p = subprocess.run([sys.executable, "-m", "spiqa.view", *map(str, args), "-o", str(tmp_path / "x.html")],
                           capture_output=True, text=True)
        assert p.returncode == code and message in p.stderr, p.stderr
    other = tmp_path / "other.npy"
    with spiqa.Writer(other, header={}) as w:
        w.write({"example_id": "elsewhere", "feature": 0}, np.full((6, 12, 10, 10), 0.1, np.float32))
    p = subprocess.run([sys.executable, "-m", "spiqa.view", str(streams["f32_gz"]), "--compare", str(other), "-o",
                        str(tmp_path / "x.html")], capture_output=True, text=True)
    assert p.returncode == 65 and "example_id 'text-0' vs 'elsewhere'" in p.stderr


HOSTILE_TOKEN = "<img src=x onerror=\"document.title='pwned'\"></script><script>document.title='pwned'</script>"


def hostile_stream(path):
    rng = np.random.default_rng(3)
    with spiqa.Writer(path, header={"producer": "test", "task": "</script>"}) as w:
        for k, n in enumerate((4, 6)):
            p = rng.random((2, 3, n, n)).astype(np.float32)
            p /= p.sum(-1, keepdims=True)
            toks = [HOSTILE_TOKEN, "&amp;", "\u2028x", "é"] + [f"t{i}" for i in range(n - 4)]
            w.write({"example_id": f"<b>{k}</b>", "n": n, "tokens": toks, "layers": [0, 5], "heads": [0, 1, 7]}, p)


def test_data_is_shown_as_text(tmp_path):
    s = tmp_path / "hostile.npy"
    hostile_stream(s)
    out, _ = make_page(tmp_path, s, "--title", "</title><script>x</script>")
    text = out.read_text()
    assert "<img" not in text and "</script><script>" not in text and "<b>0" not in text
    assert "<title>&lt;/title&gt;&lt;script&gt;x&lt;/script&gt; · spiqa attention</title>" in text
    data, _ = page_data(out)
    assert data["records"][0]["tokens"][0] == HOSTILE_TOKEN


def test_page_in_chromium(browser, streams, tmp_path):
    """Loads with no console message, renders the grid, a click switches heads, tokens label the view; the
    values the page decoded are float16 of the stream's."""
    out, _ = make_page(tmp_path, streams["f32_gz"])
    r = chromium.assert_healthy(browser, out)
    names = [c["name"] for c in r["checks"]]
    assert "click switches head" in names and "token labels" in names and "record switch" in names
    s = r["sample"]
    with spiqa.open(streams["f32_gz"]) as st:
        first = next(iter(st))
    want = first.array[s["layer"], s["head"], 0, :8].astype(np.float16).astype(np.float64)
    np.testing.assert_array_equal(np.asarray(s["row0"]), want)
    assert s["tokens"] == first.tokens[:8]


def test_compare_page_in_chromium_and_screenshot(browser, streams, tmp_path):
    out, _ = make_page(tmp_path, streams["f32_gz"], "--compare", streams["codes_u1"])
    r = chromium.assert_healthy(browser, out)
    assert {"grid shows |A − B|", "compare summary", "one matrix per stream"} <= {c["name"] for c in r["checks"]}
    png = chromium.screenshot(browser, out, tmp_path / "compare.png")
    mpimg = pytest.importorskip("matplotlib.image", reason="matplotlib is needed to look at the screenshot")
    img = mpimg.imread(png)
    assert img.shape[:2] == (1000, 1400)
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(rgb[:: 17], axis=0)
    background = np.all(np.abs(img[..., :3] - img[5, 5, :3]) < 0.02, axis=-1).mean()
    assert len(colours) > 200 and background < 0.9, (len(colours), background)
    print("screenshot:", png)


def test_hostile_page_in_chromium(browser, tmp_path):
    s = tmp_path / "hostile.npy"
    hostile_stream(s)
    out, _ = make_page(tmp_path, s, "--title", "</script>")
    r = chromium.assert_healthy(browser, out)
    assert r["sample"]["tokens"][0] == HOSTILE_TOKEN       # shown as text, title not 'pwned'


def test_long_record_in_chromium(browser, bin_dir, model_dir, tmp_path):
    """n > 100: no per-token labels in the line view, the page still passes (u8 encoding)."""
    text = tmp_path / "long.txt"
    text.write_text(" ".join(["the quick brown fox jumps over the lazy dog"] * 16) + "\n")
    stream = tmp_path / "long.npy.gz"
    run([bin_dir / "spiqa-extract", "--model", model_dir, "--task", "text", "--data", text, "--tokens", "--quiet",
         "-o", stream])
    out, _ = make_page(tmp_path, stream, "--encoding", "u8")
    r = chromium.assert_healthy(browser, out)
    assert r["sample"]["n"] > 100 and "token labels" not in {c["name"] for c in r["checks"]}


@pytest.mark.parametrize("breakage", ["exception in the click handler", "console message", "no self-test"])
def test_broken_pages_fail(browser, streams, tmp_path, breakage):
    """The check can fail: a page whose click throws, that logs to the console, or that never reports."""
    out, _ = make_page(tmp_path, streams["f32_gz"])
    text = out.read_text()
    if breakage == "exception in the click handler":
        text = text.replace("function select(l, h) {", "function select(l, h) { null.layer;", 1)
    elif breakage == "console message":
        text = text.replace("init();\n  if (SELFTEST)", "console.log('hello');\n  init();\n  if (SELFTEST)", 1)
    else:
        text = text.replace("if (SELFTEST) selftest();", "", 1)
    assert text != out.read_text()
    out.write_text(text)
    with pytest.raises(AssertionError):
        chromium.assert_healthy(browser, out)


def small_stream(path, count, header=None):
    with spiqa.Writer(path, header=header or {"producer": "test"}) as w:
        for k in range(count):
            w.write({"example_id": f"r{k}", "feature": 0, "layers": [0, 1], "heads": [0, 1, 2]},
                    np.full((2, 3, 4, 4), 0.25, np.float32))
    return path


def view_cli(*args):
    return subprocess.run([sys.executable, "-m", "spiqa.view", *map(str, args)], capture_output=True, text=True)


def test_cli_usage_and_output_errors(tmp_path):
    """One line and an exit status, never a traceback: a missing output folder (74), bad index lists (2)."""
    s = small_stream(tmp_path / "s.npy", 1)
    p = view_cli(s, "-o", tmp_path / "no" / "such" / "view.html")
    assert p.returncode == 74 and "Traceback" not in p.stderr
    assert p.stderr.strip() == f"spiqa-view: cannot write {tmp_path / 'no/such/view.html'}: No such file or directory"
    for lst, message in [("0,-1", "'-1' in index list '0,-1' is not an index or a range like 3-5"),
                         ("5-3", "bad range '5-3' in '5-3': it runs backwards"),
                         ("1,,2", "empty item in index list '1,,2'"),
                         ("0-99999999999", "index list '0-99999999999' is too long"),
                         ("x", "'x' in index list 'x' is not an index")]:
        p = view_cli(s, "--layers", lst, "-o", tmp_path / "v.html")
        assert p.returncode == 2 and f"argument --layers: {message}" in p.stderr, p.stderr
    assert view_cli(s, "--heads", "2-2,0", "-o", tmp_path / "v.html").returncode == 0
    data, _ = page_data(tmp_path / "v.html")
    assert data["records"][0]["heads"] == [0, 2]
    p = view_cli(s, "--layers", "5", "-o", tmp_path / "v.html")
    assert p.returncode == 1 and "select nothing" in p.stderr


def test_compare_lengths_are_reported_both_ways(tmp_path):
    short, long = small_stream(tmp_path / "short.npy", 2), small_stream(tmp_path / "long.npy", 3)
    for a, b, note in [(long, short, "the compared stream ended after 2 records; the first stream has more"),
                       (short, long, "the first stream ended after 2 records; the compared stream has more")]:
        out, log = make_page(tmp_path, a, "--compare", b)
        data, _ = page_data(out)
        assert len(data["records"]) == 2 and data["notes"] == [note] and f"spiqa-view: {note}" in log
    out, log = make_page(tmp_path, long, "--compare", long)
    assert page_data(out)[0]["notes"] == [] and "has more" not in log


def test_page_keeps_no_local_paths(tmp_path):
    """Headers carry where files were (data, model, quantize.provenance.input); the shared page keeps names."""
    header = {"producer": "spiqa-extract", "data": "../../home/alice/private/dev.tsv",
              "model": {"path": "/home/someone/models/minilm/", "model_type": "bert"},
              "quantize": {"bits": 3, "provenance": {"tool": "spiqa-quantize", "input": str(tmp_path / "a.npy.gz"),
                                                     "commit": "abc1234"}, "note": "not/absolute"},
              "settings": {"files": ["/srv/x/y.txt", "C:\\Users\\me\\z.txt", "rel/path.txt"]}}
    s = small_stream(tmp_path / "s.npy", 1, header)
    out, _ = make_page(tmp_path, s)
    data, text = page_data(out)
    h = data["streams"][0]["header"]
    assert h["data"] == "dev.tsv" and h["model"] == "minilm" and h["settings"]["files"] == ["y.txt", "z.txt",
                                                                                            "rel/path.txt"]
    assert h["quantize"] == {"bits": 3, "provenance": {"tool": "spiqa-quantize", "input": "a.npy.gz",
                                                       "commit": "abc1234"}, "note": "not/absolute"}
    assert str(tmp_path) not in text and "/home/someone" not in text and "Users" not in text and "alice" not in text


def test_records_the_tools_refuse_are_refused(tmp_path):
    """An attention record spiqa-hist refuses (n = 0, layers/heads that do not match the tensor, bad levels) is
    one line and exit 65, never a traceback, a page that fails in the browser, or a silently dropped layer."""
    quarter = np.full((2, 3, 4, 4), 0.25, np.float32)
    layers = 'record metadata "layers" = {} for a tensor of shape [2, 3, 4, 4]; expected 2 distinct model indices'
    cases = [({}, np.zeros((2, 3, 0, 0), np.float32), "attention tensor of shape [2, 3, 0, 0]"),
             ({"layers": 5}, quarter, layers.format("5")),
             ({"layers": [0, 1, 2, 3, 4, 5, 6]}, quarter, layers.format("[0, 1, 2, 3, 4, 5, 6]")),
             ({"layers": [3]}, quarter, layers.format("[3]")),
             ({"layers": [1, 1]}, quarter, layers.format("[1, 1]")),
             ({"heads": [0, -1, 2]}, quarter, 'record metadata "heads" = [0, -1, 2]'),
             ({"n": 5}, quarter, 'record metadata "n" = 5 for a tensor of shape [2, 3, 4, 4]; expected n = 4'),
             ({"n": "4"}, quarter, 'record metadata "n" = "4"'),
             ({"encoding": "codes", "levels": [0.5, None]}, np.zeros((2, 3, 4, 4), np.uint8),
              'codes record without a "levels" list of numbers')]
    for k, (meta, tensor, message) in enumerate(cases):
        path = tmp_path / f"bad{k}.npy"
        with open(path, "wb") as f:   # raw records: the Writer refuses the bad levels itself
            np.save(f, spiqa.meta_array({"spiqa": 1, "kind": "stream"}))
            np.save(f, spiqa.meta_array({"spiqa": 1, "kind": "attention", "example_id": "e0", **meta}))
            np.save(f, tensor)
        p = view_cli(path, "-o", tmp_path / "v.html")
        assert p.returncode == 65 and "Traceback" not in p.stderr, p.stderr
        assert p.stderr.strip().startswith(f"spiqa-view: {path}: attention record 0: {message}"), p.stderr
        assert not (tmp_path / "v.html").exists()


def test_output_is_written_under_a_fresh_temporary_name(tmp_path):
    """A planted `OUT.tmp` symlink is not followed; nothing but the page is left; bad --max-mb is a usage error."""
    s = small_stream(tmp_path / "s.npy", 1)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out.html.tmp").symlink_to(victim)
    assert view_cli(s, "-o", tmp_path / "out.html").returncode == 0
    assert victim.read_text() == "precious" and not (tmp_path / "out.html").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.html", "out.html.tmp", "s.npy", "victim.txt"]
    for bad in ("inf", "nan", "-1", "0"):
        p = view_cli(s, "--max-mb", bad, "-o", tmp_path / "v.html")
        assert p.returncode == 2 and "--max-mb must be" in p.stderr and "Traceback" not in p.stderr, p.stderr


def test_compare_without_attention_records_says_so(tmp_path):
    s = small_stream(tmp_path / "s.npy", 2)
    with spiqa.Writer(tmp_path / "empty.npy", header={"producer": "test"}):
        pass
    p = view_cli(s, "--compare", tmp_path / "empty.npy", "-o", tmp_path / "v.html")
    assert p.returncode == 1
    assert p.stderr.strip() == "spiqa-view: the compared stream ended after 0 records; the first stream has more"


def test_first_stream_without_attention_records(tmp_path):
    """The message names the stream that has no attention records, whichever it is; an empty -o is a usage error."""
    s = small_stream(tmp_path / "s.npy", 2)
    with spiqa.Writer(tmp_path / "empty.npy", header={"producer": "test"}):
        pass
    p = view_cli(tmp_path / "empty.npy", "--compare", s, "-o", tmp_path / "v.html")
    assert p.returncode == 1 and p.stderr.strip() == f"spiqa-view: no attention records in {tmp_path / 'empty.npy'}"
    p = view_cli(s, "-o", "")
    assert p.returncode == 2 and "the path is empty" in p.stderr
