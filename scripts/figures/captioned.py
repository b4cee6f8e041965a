#!/usr/bin/env python3
"""Run one of the spiqa-hist plot scripts (scripts/plot_*.py) and put a caption line above its figure, so the
figures of `make figures` say which task, model and sample they show.

  python3 scripts/figures/captioned.py "CAPTION" scripts/plot_sparsity_grid.py HIST.npy OUT [options]

The plot script runs unchanged; only `spiqa.plot.save_figure` is wrapped: the figure grows by one caption strip at the
top (every axes keeps its size and place) before it is written (still refused when any text is under 8 pt). The
caption names model, data and sample, so `spiqa.plot.source_text` (the same, read from the stream) is left out of the
script's own title.
"""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "python", "src"))  # this checkout's package
import spiqa.plot  # noqa: E402

STRIP_INCHES = 0.32


def add_caption(fig, caption):
    w, h = fig.get_size_inches()
    k = h / (h + STRIP_INCHES)
    for ax in fig.axes:
        x0, y0, ww, hh = ax.get_position().bounds
        ax.set_position([x0, y0 * k, ww, hh * k])
    for t in fig.texts:
        x, y = t.get_position()
        t.set_position((x, y * k))
    if getattr(fig, "_suptitle", None) is not None:
        x, y = fig._suptitle.get_position()
        fig._suptitle.set_position((x, y * k))
    fig.set_size_inches(w, h + STRIP_INCHES)
    fig.text(0.5, 1 - 0.55 * STRIP_INCHES / (h + STRIP_INCHES), caption, ha="center", va="center", fontsize=10,
             weight="bold")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    caption, script = sys.argv[1], sys.argv[2]
    original = spiqa.plot.save_figure

    def save(fig, out_prefix):
        # Layout engines would undo the manual positions.
        fig.set_layout_engine("none")
        add_caption(fig, caption)
        original(fig, out_prefix)

    spiqa.plot.save_figure = save
    spiqa.plot.source_text = lambda header: None
    sys.argv = [script] + sys.argv[3:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
