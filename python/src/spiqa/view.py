"""spiqa-view: one self-contained HTML page to explore attention (no network: inline JS/CSS, data embedded).

    python -m spiqa.view STREAM [--compare STREAM2] -o view.html [--limit 20] [--max-mb 40] [--encoding f16|u8]

A layer × head grid of thumbnails per record; click a head for its token-labelled matrix and the bertviz-style
"head view" (query tokens on the left, key tokens on the right, one line per pair, as opaque as the weight).
With ``--compare`` the second stream (e.g. the same records pruned or quantized by spiqa-quantize) is shown
side by side, and the grid can show |A − B|. Records are matched in order; their n (and example_id/feature when
both carry them) must agree. Tokens come from the metadata (``spiqa-extract --tokens``), else positions.

Data is embedded as base64 float16 (``--encoding f16``, default) or one byte per value (``u8``: round(255·√p),
finer near 0). ``--limit`` bounds the records and ``--max-mb`` the page: the page ends before the record that
would pass the cap, and says so (stderr and the page). docs/python.md shows it in use.
"""
import argparse
import base64
import contextlib
import html
import json
import os
import re
import sys
from importlib import resources

import numpy as np

from ._errors import StreamError
from ._output import OutputFile
from .stream import attention_axes, decode_attention
from .stream import open as open_stream

ENCODINGS = ("f16", "u8")


MAX_LIST = 1 << 20     # indices in one --layers/--heads list: far more than any model has


def _parse_list(text):
    """Sorted unique indices of ``0,3-5``: non-negative ints and ranges ``a-b`` with a ≤ b, as the tools read
    them (Sources/SpiqaCLI/IndexList.swift); an argparse type, so a bad list is a usage error naming the item."""
    out = set()
    for raw in text.split(","):
        item = raw.strip(" ")
        if not item:
            raise argparse.ArgumentTypeError(f"empty item in index list '{text}'")
        m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", item)
        if m is None:
            raise argparse.ArgumentTypeError(f"'{item}' in index list '{text}' is not an index or a range like 3-5")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        if lo > hi:
            raise argparse.ArgumentTypeError(f"bad range '{item}' in '{text}': it runs backwards")
        if hi - lo >= MAX_LIST or len(out) + hi - lo >= MAX_LIST:
            raise argparse.ArgumentTypeError(f"index list '{text}' is too long")
        out.update(range(lo, hi + 1))
    return sorted(out)


def _attention_records(stream):
    for rec in stream:
        if rec.kind == "attention":
            yield rec


def encode(p, encoding):
    """float32 probabilities → the page's bytes (see the module doc)."""
    if encoding == "f16":
        return np.ascontiguousarray(p, dtype="<f2").tobytes()
    return np.rint(np.sqrt(np.clip(p, 0, 1)) * 255).astype(np.uint8).tobytes()


def _select(axes, p, layers, heads):
    ml, mh = axes
    li = list(range(len(ml))) if layers is None else [ml.index(x) for x in layers if x in ml]
    hi = list(range(len(mh))) if heads is None else [mh.index(x) for x in heads if x in mh]
    if not li or not hi:
        raise ValueError(f"--layers/--heads select nothing from layers {ml}, heads {mh}")
    return [ml[i] for i in li], [mh[i] for i in hi], p[np.ix_(li, hi)]


def _decoded(rec, stream, index):
    """An attention record's probabilities ``[layers, heads, n, n]`` and its ``(layers, heads)`` indices, or
    StreamError naming the stream and the record (counted among the attention records, from 0)."""
    try:
        return decode_attention(rec.meta, rec.array), attention_axes(rec.meta, rec.array.shape)
    except StreamError as e:
        raise StreamError(f"attention record {index}: {e.what}", e.expected, source=stream.name) from None


def _info(meta):
    keys = ("method", "bits", "threshold", "encoding", "variant", "scope", "dtype")
    return {k: meta[k] for k in keys if meta.get(k) is not None}


_ABSOLUTE_PATH = re.compile(r"(/|~|[A-Za-z]:[\\/]|\\\\)\S")
#: Header keys whose strings are local paths, relative ones too (`spiqa-extract --data ../x.tsv` keeps it so).
_PATH_KEYS = {"data", "data_path", "input", "inputs", "model_path", "output", "path", "replay", "weights"}


def _no_local_paths(v, key=None):
    """``v`` with every local path cut to its base name: the page is meant to be shared, and headers carry where
    the files were (``data``, ``quantize.provenance.input``, ...). Paths are the strings under the keys that
    name files, and anywhere the absolute ones (``/…``, ``~…``, ``C:\\…``, ``\\\\server``)."""
    if isinstance(v, dict):
        return {k: _no_local_paths(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_no_local_paths(x, key) for x in v]
    if isinstance(v, str) and (_ABSOLUTE_PATH.match(v) or (key in _PATH_KEYS and re.search(r"[\\/]", v))):
        return re.split(r"[\\/]", v.rstrip("/\\"))[-1]
    return v


def _stream_summary(name, header):
    model = header.get("model") if isinstance(header.get("model"), dict) else {}
    keep = {k: header[k] for k in ("producer", "task", "data", "dtype") if k in header}
    if model:
        keep["model"] = os.path.basename(str(model.get("path", "")).rstrip("/")) or model.get("model_type")
    for k in ("settings", "quantize"):
        if isinstance(header.get(k), dict):
            keep[k] = {kk: vv for kk, vv in header[k].items() if vv is not None}
    return {"name": os.path.basename(name) if name not in ("stdin",) else name, "header": _no_local_paths(keep)}


def build(stream, compare=None, *, limit=20, max_mb=40.0, encoding="f16", layers=None, heads=None,
          example_ids=None, title=None, log=None):
    """The page's data (a dict) from open streams; ``compare`` is an optional second open stream.

    Raises StreamError for bad or mismatched data, ValueError when nothing fits (no record, or the first record
    alone is over ``max_mb``)."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}")
    cap = int(max_mb * 1e6)
    records, notes, total = [], [], 0
    second = _attention_records(compare) if compare is not None else None
    paired = 0
    compared_ended = False
    for rec in _attention_records(stream):
        other = next(second, None) if second is not None else None
        if second is not None and other is None:
            notes.append(f"the compared stream ended after {paired} records; the first stream has more")
            compared_ended = True
            break
        paired += 1
        if example_ids and str(rec.meta.get("example_id")) not in example_ids:
            continue
        if len(records) >= limit:
            notes.append(f"stopped after {limit} records (--limit {limit})")
            break
        meta = rec.meta
        p, axes = _decoded(rec, stream, paired - 1)
        ls, hs, p = _select(axes, p, layers, heads)
        pages = [p]
        infos = [_info(meta)]
        if other is not None:
            q, other_axes = _decoded(other, compare, paired - 1)
            for key in ("example_id", "feature"):
                if key in meta and key in other.meta and meta[key] != other.meta[key]:
                    raise StreamError(f"record {len(records)}: {key} {meta[key]!r} vs {other.meta[key]!r} in the "
                                      "compared stream", "the same records in the same order", source=compare.name)
            if q.shape != rec.array.shape:
                raise StreamError(f"record {len(records)} ({meta.get('example_id')}): shape {list(rec.array.shape)} "
                                  f"vs {list(q.shape)} in the compared stream", "equal shapes", source=compare.name)
            pages.append(_select(other_axes, q, layers, heads)[2])
            infos.append(_info(other.meta))
        size = sum(x.size * (2 if encoding == "f16" else 1) for x in pages) * 4 // 3 + 2000
        if total + size > cap:
            msg = (f"stopped after {len(records)} records: record {len(records)} ({meta.get('example_id')}, "
                   f"n = {p.shape[2]}) would take the page's data to {(total + size) / 1e6:.2f} MB, over --max-mb "
                   f"{max_mb:g}; use --limit, --example-id, --layers/--heads, --encoding u8 or a larger --max-mb")
            if not records:
                raise ValueError(msg)
            notes.append(msg)
            break
        total += size
        tokens = meta.get("tokens")
        if not (isinstance(tokens, list) and len(tokens) == p.shape[2]):
            tokens = None
        records.append({
            "example_id": meta.get("example_id"), "feature": meta.get("feature"), "n": int(p.shape[2]),
            "layers": ls, "heads": hs, "tokens": tokens, "info": infos,
            "data": [base64.b64encode(encode(x, encoding)).decode("ascii") for x in pages]})
    else:  # the first stream ran out (no break): say so if the compared one goes on, as in the opposite case
        if second is not None and next(second, None) is not None:
            notes.append(f"the first stream ended after {paired} records; the compared stream has more")
    if not records:
        if compared_ended and not paired:    # the compared stream had none
            raise ValueError(notes[0])
        raise ValueError(f"no attention records in {stream.name}"
                         + (f" with example_id in {sorted(example_ids)}" if example_ids else ""))
    for n in notes:
        if log:
            log("spiqa-view: " + n)
    streams = [_stream_summary(stream.name, stream.header)]
    if compare is not None:
        streams.append(_stream_summary(compare.name, compare.header))
    return {"version": 1, "title": title or " vs ".join(s["name"] for s in streams), "encoding": encoding,
            "streams": streams, "records": records, "notes": notes}


def _asset(name):
    return resources.files("spiqa").joinpath("viewer", name).read_text(encoding="utf-8")


def render(data):
    """The HTML page for ``build``'s data: one file, no external resources."""
    # ASCII JSON (any token survives, lone surrogates too) with "<" escaped: nothing in it can end the script.
    blob = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    parts = {"TITLE": html.escape(data["title"]), "CSS": _asset("viewer.css"), "JS": _asset("viewer.js"), "DATA": blob}
    return re.sub(r"\{\{(TITLE|CSS|JS|DATA)\}\}", lambda m: parts[m.group(1)], _asset("template.html"))


def main(argv=None):
    ap = argparse.ArgumentParser(prog="spiqa-view", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Details: docs/python.md (the viewer section).")
    ap.add_argument("stream", help="attention stream (file, or - for standard input; plain or gzip)")
    ap.add_argument("--compare", metavar="STREAM2", help="a second stream with the same records (pruned/quantized)")
    ap.add_argument("-o", "--output", default="spiqa-view.html", help="HTML file to write (default: %(default)s)")
    ap.add_argument("--limit", type=int, default=20, help="at most N records (default: %(default)s)")
    ap.add_argument("--max-mb", type=float, default=40.0, help="cap on the embedded data in MB (default: %(default)s)")
    ap.add_argument("--encoding", choices=ENCODINGS, default="f16", help="embedded values (default: %(default)s)")
    ap.add_argument("--layers", type=_parse_list, help="model layers to keep, e.g. 0,3-5")
    ap.add_argument("--heads", type=_parse_list, help="heads to keep, e.g. 0-3")
    ap.add_argument("--example-id", action="append", help="only these example ids (repeatable)")
    ap.add_argument("--title", help="page title (default: the stream names)")
    a = ap.parse_args(argv)
    if not a.output:
        ap.error("-o/--output: the path is empty")
    if a.limit < 1 or not 0 < a.max_mb < 1e9:    # (nan and inf fail too)
        ap.error("--limit and --max-mb must be positive numbers (--max-mb below 1e9)")
    try:
        with contextlib.ExitStack() as stack:
            s = stack.enter_context(open_stream(a.stream))
            c = stack.enter_context(open_stream(a.compare)) if a.compare else None
            data = build(s, c, limit=a.limit, max_mb=a.max_mb, encoding=a.encoding,
                         layers=a.layers, heads=a.heads,
                         example_ids=set(a.example_id or []) or None, title=a.title,
                         log=lambda m: print(m, file=sys.stderr))
    except (StreamError, OSError) as e:
        print(f"spiqa-view: {e}", file=sys.stderr)
        return 65 if isinstance(e, StreamError) else 74
    except ValueError as e:
        print(f"spiqa-view: {e}", file=sys.stderr)
        return 1
    page = render(data)
    try:
        with OutputFile(a.output) as f:
            f.write(page.encode("utf-8", errors="replace"))
    except OSError as e:      # no such folder, no permission, disk full: one line and 74, as for the input
        print(f"spiqa-view: cannot write {a.output}: {e.strerror or e}", file=sys.stderr)
        return 74
    n = len(data["records"])
    print(f"spiqa-view: wrote {a.output} ({len(page.encode('utf-8')) / 1e6:.2f} MB, {n} record{'s' * (n != 1)}"
          f"{', 2 streams' if a.compare else ''})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
