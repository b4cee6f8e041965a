"""spiqa-hist outputs as numpy arrays and pandas DataFrames (docs/hist.md, "Outputs").

``hist_arrays`` needs only numpy. ``read_heads``, ``read_hist`` and ``read_tables`` need pandas (optional:
``pip install pandas``); each reads either the TSV tables spiqa-hist prints or its ``--npy`` file.
"""
import io
import os

import numpy as np

from ._errors import StreamError, shown
from .stream import open as open_stream

#: Per-head statistics of the heads table, in its column order (le_<t> columns go after "sparsity").
HEAD_COLUMNS = ["min", "max", "mean", "std", "ref_max", "ref_min", "ref_mean", "ref_std", "rows",
                "row_sparsity_mean", "row_sparsity_std", "ttm_mean", "ttm_std", "ttm_frac_mean", "ttm_frac_std",
                "median_bin_mean", "median_bin_std"]


class HistArrays(dict):
    """``{name: array}`` of a ``spiqa-hist --npy`` file; ``header`` holds its stream header (options, edges,
    thresholds)."""

    header: dict = {}


def hist_arrays(src):
    """Every array of a ``spiqa-hist --npy`` file (or any stream whose records carry a ``name``) by name.

    ``np.load("hist.npy")`` returns only the first record (the JSON header); this reads them all.
    ``np.savez("hist.npz", **spiqa.hist_arrays("hist.npy"))`` makes a file plain ``np.load`` reads by name.
    """
    out = HistArrays()
    with open_stream(src) as s:
        for rec in s:
            name = rec.meta.get("name")
            if not isinstance(name, str):
                raise StreamError(f"a record of kind {shown(rec.kind)} without a \"name\"", "spiqa-hist --npy output")
            out[name] = rec.array
        out.header = s.header
    return out


def _pandas():
    try:
        import pandas
    except ImportError as e:
        raise ImportError("spiqa's DataFrame readers (read_heads, read_hist, read_tables) need pandas, which is "
                          "not installed: pip install pandas (or pip install './python[pandas]'). "
                          "spiqa.hist_arrays gives the same data as numpy arrays without it.") from e
    return pandas


def _is_stream(src):
    """Whether src (path or bytes-like) is a record stream rather than TSV text."""
    if isinstance(src, (bytes, bytearray)):
        head = bytes(src[:6])
    elif isinstance(src, (str, os.PathLike)) and os.fsdecode(src) != "-" and "\t" not in os.fsdecode(src):
        with open(os.fsdecode(src), "rb") as f:
            head = f.read(6)
    else:
        return False
    return head[:2] == b"\x1f\x8b" or head == b"\x93NUMPY"


def _stream_source(src):
    return io.BytesIO(bytes(src)) if isinstance(src, (bytes, bytearray)) else src


def _table_name(columns):
    c = list(columns)
    if c[:2] == ["layer", "head"] and c[2:3] == ["bin"]:
        return "hist" if "count" in c else "rows"
    if c[:3] == ["layer", "head", "features"]:
        return "ref-stats"
    if c[:2] == ["layer", "head"]:
        return "heads"
    if c[:1] == ["layer"]:
        return "layers"
    return "table"


def _text(src):
    if isinstance(src, (bytes, bytearray)):
        return bytes(src).decode("utf-8")
    if hasattr(src, "read"):
        t = src.read()
        return t.decode("utf-8") if isinstance(t, bytes) else t
    if isinstance(src, str) and "\t" in src:
        return src                       # the TSV text itself
    with open(os.fsdecode(src), encoding="utf-8") as f:
        return f.read()


def read_tables(src):
    """The TSV tables spiqa-hist printed (``--table`` may repeat; blank lines separate tables) as
    ``{name: DataFrame}`` with names ``heads``, ``layers``, ``hist``, ``rows``, ``ref-stats``.

    ``src``: a path, a file object, bytes or the text itself. The ``layers`` table keeps its ``all`` row (the
    ``layer`` column is then of object dtype).
    """
    pd = _pandas()
    out = {}
    for block in _text(src).split("\n\n"):
        if not block.strip():
            continue
        df = pd.read_csv(io.StringIO(block), sep="\t")
        name = _table_name(df.columns)
        if name == "layers":
            df["layer"] = [int(x) if str(x).lstrip("-").isdigit() else x for x in df["layer"]]
        key, i = name, 2
        while key in out:
            key, i = f"{name}{i}", i + 1
        out[key] = df
    return out


def _one_table(src, name):
    tables = read_tables(src)
    if name not in tables:
        raise ValueError(f"no '{name}' table in this spiqa-hist output (found: {', '.join(tables) or 'none'}); "
                         f"run spiqa-hist with --table {name}")
    return tables[name]


def read_heads(src):
    """One row per (layer, head): the ``heads`` table, from spiqa-hist's TSV output or its ``--npy`` file
    (the same columns, plus ``nans`` and ``empty_rows`` from the npy file).

    ``src``: a path, bytes, TSV text, or a text file object (TSV)."""
    pd = _pandas()
    if not _is_stream(src):
        return _one_table(src, "heads")
    A = hist_arrays(_stream_source(src))
    layers, heads = A["layers"], A["heads"]
    L, H = len(layers), len(heads)
    values = A["values"].astype(np.float64)

    def frac(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(values > 0, x / np.where(values > 0, values, 1), np.nan)

    cols = {"layer": np.repeat(layers, H), "head": np.tile(heads, L), "values": A["values"].ravel(),
            "zeros": A["zeros"].ravel(), "sparsity": frac(A["zeros"]).ravel()}
    for i, t in enumerate(A.header.get("thresholds", [])):
        cols["le_%g" % t] = frac(A["le_counts"][..., i]).ravel()
    for k in ("min", "max", "mean", "std"):
        cols[k] = A[k].ravel()
    ref = A["ref_stats"]                  # [L, H, stat (max, min, mean, std), agg (min, max, avg, std)]
    for i, k in enumerate(("ref_max", "ref_min", "ref_mean", "ref_std")):
        cols[k] = ref[:, :, i, 2].ravel()
    for k in HEAD_COLUMNS[8:]:
        cols[k] = A[k].ravel()
    for k in ("js_mean", "js_std", "js_max", "nans", "empty_rows"):
        if k in A:
            cols[k] = A[k].ravel()
    return pd.DataFrame(cols)


def read_hist(src):
    """The histogram in long format, one row per (layer, head, bin): ``layer head bin lo hi count fraction
    cdf`` (spiqa-hist's ``hist`` table), from its TSV output or its ``--npy`` file."""
    pd = _pandas()
    if not _is_stream(src):
        return _one_table(src, "hist")
    A = hist_arrays(_stream_source(src))
    layers, heads, edges, counts = A["layers"], A["heads"], A["edges"], A["histogram"].astype(np.int64)
    L, H, B = counts.shape
    total = counts.sum(axis=2, keepdims=True).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(total > 0, counts / np.where(total > 0, total, 1), np.nan)
        cdf = np.where(total > 0, np.cumsum(counts, axis=2) / np.where(total > 0, total, 1), np.nan)
    return pd.DataFrame({
        "layer": np.repeat(layers, H * B), "head": np.tile(np.repeat(heads, B), L), "bin": np.tile(np.arange(B), L * H),
        "lo": np.tile(edges[:-1], L * H), "hi": np.tile(edges[1:], L * H), "count": counts.ravel(),
        "fraction": fraction.ravel(), "cdf": cdf.ravel()})
