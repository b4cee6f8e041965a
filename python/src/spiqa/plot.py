"""Small matplotlib helpers shared by the figure scripts (scripts/plot_*.py, scripts/figures/); matplotlib is imported
by them, not here, so `import spiqa` does not need it.

The figures are meant for a paper column: every text a figure draws must be at least MIN_POINTS at the saved size.
save_figure refuses (ValueError) a figure that breaks the rule, so a script cannot write an unreadable figure.
"""
import contextlib
import io
import math
import os

MIN_POINTS = 8.0
# Mathtext super- and subscripts (the exponent of a "10^-3" tick label) are drawn at 0.7 of the text's size
# (matplotlib's mathtext SHRINK_FACTOR): such a text counts at that size.
SCRIPT_SHRINK = 0.7


def _points(text):
    """The smallest size in points at which a Text artist draws any of its characters."""
    size = float(text.get_fontsize())
    s = text.get_text()
    if s.count("$") - s.count(r"\$") >= 2 and ("^" in s or "_" in s):
        size *= SCRIPT_SHRINK
    return size


@contextlib.contextmanager
def _recording_texts():
    """Collects every Text artist drawn inside the block (visible and non-empty, inside a drawn parent: a tick label
    off the axis or of a hidden axes is never drawn, so it is not counted)."""
    import matplotlib.text

    drawn = []
    original = matplotlib.text.Text.draw

    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    matplotlib.text.Text.draw = draw
    try:
        yield drawn
    finally:
        matplotlib.text.Text.draw = original


def _refuse_small(texts, minimum):
    small = {}
    for t in texts:
        pt = _points(t)
        if pt < minimum - 1e-9:
            key = (round(pt, 2), t.get_text().replace("\n", " ")[:60])
            small[key] = small.get(key, 0) + 1
    if small:
        items = sorted(small.items())
        shown = "; ".join(f"{s!r} ({pt:g} pt{f', ×{n}' if n > 1 else ''})" for (pt, s), n in items[:12])
        more = f"; and {len(items) - 12} more" if len(items) > 12 else ""
        raise ValueError(f"figure text smaller than {minimum:g} pt at the saved size: {shown}{more}")


def small_texts(fig, minimum=MIN_POINTS):
    """[(points, text)] of the texts fig draws below minimum points (an empty list when the figure is readable)."""
    with _recording_texts() as drawn:
        fig.draw_without_rendering()
    return [(_points(t), t.get_text()) for t in drawn if _points(t) < minimum - 1e-9]


def check_text_sizes(fig, minimum=MIN_POINTS):
    """Raises ValueError naming every text of fig (titles, labels, tick labels, legends, annotations, figure texts)
    that is drawn smaller than minimum points."""
    with _recording_texts() as drawn:
        fig.draw_without_rendering()
    _refuse_small(drawn, minimum)


def save_figure(fig, out_prefix):
    """Writes OUT.png and OUT.pdf deterministically (no dates or version strings), so reruns are identical. Refuses
    (ValueError, nothing written) a figure with text under MIN_POINTS: the PNG is drawn into memory first and every
    text it drew is checked."""
    png = io.BytesIO()
    with _recording_texts() as drawn:
        fig.savefig(png, format="png", dpi=130, metadata={"Software": None})
    _refuse_small(drawn, MIN_POINTS)
    with open(out_prefix + ".png", "wb") as f:
        f.write(png.getvalue())
    fig.savefig(out_prefix + ".pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    print("wrote", out_prefix + ".png", out_prefix + ".pdf")


def log_labels(axis):
    """Plain tick labels on a log axis ("1e-6", "0.01", "1") instead of mathtext 10^x, whose exponent is drawn at 0.7
    of the label's size; minor ticks unlabelled."""
    import matplotlib.ticker

    def fmt(v, _pos):
        if v <= 0:
            return ""
        if 1e-2 <= v < 1e4:
            return f"{v:g}"
        e = math.log10(v)
        return f"1e{round(e)}" if abs(e - round(e)) < 1e-9 else f"{v:g}"

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(fmt))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def stream_parts(path):
    """{"model", "data", "sample"} of an attention stream, from its header ("minilm-sst2", "SST-2/dev.tsv",
    "200 sentences (offset 0, limit 200)"; a part the header lacks is left out); None when the file is not there."""
    if not path or not os.path.exists(path):
        return None
    from .stream import open as open_stream

    try:
        with open_stream(path) as s:
            h = s.header
    except Exception:  # noqa: BLE001 - a figure without this line is still a figure
        return None
    out = {}
    model = h.get("model")
    if isinstance(model, dict):
        model = model.get("path") or model.get("model_id")
    if model:
        out["model"] = os.path.basename(str(model).rstrip("/"))
    data = h.get("data")
    if data:
        d = str(data).rstrip("/")
        out["data"] = os.path.join(os.path.basename(os.path.dirname(d)), os.path.basename(d))
    n = h.get("examples")
    if n is not None:
        unit = {"squad": "questions", "sst2": "sentences", "text": "lines"}.get(h.get("task"), "examples")
        sel = h.get("selection") or {}
        mode = sel.get("mode")
        if mode == "sample":
            how = f" (random.sample, seed {sel.get('seed')})"
        elif mode == "slice" and sel.get("limit") is not None:
            how = f" (offset {sel.get('offset')}, limit {sel.get('limit')})"
        elif mode == "slice":
            how = f" (from offset {sel.get('offset')})"
        elif mode == "all":
            how = " (all)"
        else:
            how = ""
        out["sample"] = f"{n} {unit[:-1] if n == 1 else unit}{how}"
    return out


def stream_text(path):
    """'minilm-sst2 · SST-2/dev.tsv · 200 sentences (offset 0, limit 200)': model, data and sample of an attention
    stream (stream_parts), for a figure title; None when the file is not there or says nothing of them."""
    parts = stream_parts(path) or {}
    return " · ".join(parts[k] for k in ("model", "data", "sample") if k in parts) or None


def source_text(header):
    """Model, data and sample of the attention stream a spiqa-hist file was made from (its header's "input"), for a
    figure title: stream_text of that stream, else the input's file name. scripts/figures/captioned.py replaces this
    with a caption that names them, so a figure does not say it twice."""
    src = header.get("input")
    return stream_text(src) or (f"input {os.path.basename(str(src))}" if src else None)
