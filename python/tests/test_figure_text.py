"""Figures readable in a paper column: the save helpers (spiqa.plot.save_figure, scripts/figures/rows.py's save)
refuse text under 8 pt, and the spiqa-hist plot scripts pass that check on a small synthetic stream, naming model,
data and sample, with tokens to majority labelled as a 0-based count (no model needed; spiqa-hist for the hist file).
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, run

import spiqa.writer

plt = pytest.importorskip("matplotlib.pyplot", reason="matplotlib is not installed (make test installs it)")
import spiqa.plot  # noqa: E402

SCRIPTS = REPO / "scripts"


def figure_with(size):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    ax.set_title("title at 10 pt")
    ax.text(0.5, 0.5, "a small note", fontsize=size)
    return fig


def test_save_figure_refuses_text_under_8_pt(tmp_path):
    """A 6-pt text is refused with its text and size named, and nothing is written; at 8 pt the figure is written."""
    fig = figure_with(6)
    with pytest.raises(ValueError, match=r"'a small note' \(6 pt\)"):
        spiqa.plot.save_figure(fig, str(tmp_path / "small"))
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="a small note"):
        spiqa.plot.check_text_sizes(fig)
    assert [s for s, _ in spiqa.plot.small_texts(fig)] == [6.0]
    ok = figure_with(8)
    spiqa.plot.check_text_sizes(ok)
    spiqa.plot.save_figure(ok, str(tmp_path / "ok"))
    first = [(tmp_path / f"ok.{e}").read_bytes() for e in ("png", "pdf")]
    spiqa.plot.save_figure(ok, str(tmp_path / "ok"))
    assert [(tmp_path / f"ok.{e}").read_bytes() for e in ("png", "pdf")] == first  # reruns are byte-identical


def test_the_rule_covers_ticks_legends_and_exponents_but_not_hidden_text():
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(9, 2.5))
    a.plot([1, 2], [1, 2], label="line")
    a.tick_params(labelsize=7)
    assert {s for s, _ in spiqa.plot.small_texts(fig)} == {7.0}          # tick labels
    a.tick_params(labelsize=8)
    a.legend(fontsize=6)
    assert [t for _, t in spiqa.plot.small_texts(fig)] == ["line"]       # legend entries
    a.legend(fontsize=8)
    b.set_xscale("log")
    b.set_xlim(1e-6, 1)
    # Mathtext 10^-6 tick labels: the exponent is drawn at 0.7 of 10 pt.
    assert any("10^" in t for _, t in spiqa.plot.small_texts(fig))
    spiqa.plot.log_labels(b.xaxis)
    c.text(0.5, 0.5, "hidden", fontsize=5, visible=False)
    c.tick_params(labelsize=5)
    c.axis("off")                                                        # ticks of a hidden axis are not drawn
    fig.text(0.5, 0.01, "", fontsize=4)                                  # empty text draws nothing
    assert spiqa.plot.small_texts(fig) == []
    labels = [t.get_text() for t in b.get_xticklabels() if t.get_text()]
    assert "1e-6" in labels and "0.01" in labels and "1" in labels and not any("$" in t for t in labels)


def test_rows_save_uses_the_same_rule(tmp_path):
    """scripts/figures/rows.py (the `make figures` plots) saves through spiqa.plot.save_figure."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import rows; import matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(); ax.annotate('t=0.1', (0.5, 0.5), fontsize=7)\n"
            "try:\n    rows.save(fig, sys.argv[2])\nexcept ValueError as e:\n    print(e); sys.exit(3)\n")
    p = subprocess.run([sys.executable, "-c", code, str(SCRIPTS / "figures"), str(tmp_path / "r")],
                       capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 3, p.stderr
    assert "'t=0.1' (7 pt)" in p.stdout and not list(tmp_path.iterdir())


def synthetic_stream(path):
    """Three sentences (5, 9 and 60 tokens), 2 layers × 3 heads: head 0 one-hot rows (tokens to majority 0), the
    others softmax rows; the header names model, data and sample as spiqa-extract's does."""
    rng = np.random.default_rng(0)
    header = {"model": {"path": "/models/tiny-sst2"}, "data": "/data/glue/SST-2/dev.tsv", "task": "sst2",
              "examples": 3, "selection": {"mode": "sample", "samples": 3, "seed": 123}}
    with spiqa.writer.Writer(str(path), header=header) as w:
        for i, n in enumerate((5, 9, 60)):
            logits = rng.normal(0, 3, size=(2, 3, n, n))
            att = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
            att[:, 0] = np.eye(n)
            tokens = ["[CLS]"] + [f"word{j}" for j in range(n - 2)] + ["[SEP]"]
            w.write({"example_id": f"syn-{i}", "feature": 0, "layers": [0, 1], "heads": [0, 1, 2], "n": n,
                     "tokens": tokens}, att.astype(np.float32))


def run_plot(script, *args):
    """Runs a plot script in a subprocess, capturing every text of the figure it saves (the save is the real one,
    so the 8-pt check runs)."""
    code = ("import runpy, sys\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import spiqa.plot\n"
            "save = spiqa.plot.save_figure\n"
            "def keep(fig, out):\n"
            "    import matplotlib.text\n"
            "    save(fig, out)\n"
            "    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]\n"
            "    open(out + '.txt', 'w').write('\\n'.join(texts))\n"
            "spiqa.plot.save_figure = keep\n"
            "sys.argv = sys.argv[2:]\n"
            "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    p = subprocess.run([sys.executable, "-c", code, str(REPO / "python/src"), str(script)] + [str(a) for a in args],
                       capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 0, p.stderr
    return p


def test_hist_plot_scripts_pass_the_check(bin_dir, tmp_path):
    """Every spiqa-hist plot script on a small synthetic stream: written (so no text under 8 pt), titles naming model,
    data and sample, the grid's y scale named, tokens to majority given as a 0-based count."""
    stream = tmp_path / "syn.npy.gz"
    synthetic_stream(stream)
    npy, rows = tmp_path / "hist.npy", tmp_path / "rows.npy.gz"
    run([bin_dir / "spiqa-hist", stream, "--quiet", "--npy", npy, "--per-row", rows])
    source = "tiny-sst2 · SST-2/dev.tsv · 3 sentences (random.sample, seed 123)"
    out = lambda name: str(tmp_path / name)  # noqa: E731
    cases = [
        ("plot_hist_grid.py", [npy, out("grid")], ["one scale, all panels", "L1 H2"]),
        ("plot_hist_grid.py", [npy, out("grid_own"), "--own-y"], ["own scale per panel"]),
        ("plot_sparsity_grid.py", [npy, out("zeros")], ["exact zeros"]),
        ("plot_sparsity_grid.py", [npy, out("le"), "--threshold", "1e-3"], ["values ≤ 0.001"]),
        ("plot_row_spread.py", [npy, out("spread"), "--layer", "1", "--head", "0"],
         ["held by 1.00 ± 0.00 tokens", "tokens to majority, 0-based: 0.00"]),
        ("plot_row_spread.py", [npy, out("spread_rows"), "--layer", "0", "--head", "1", "--per-row", rows],
         ["tokens to majority, 0-based"]),
        ("plot_heatmap.py", [stream, out("heat"), "--example-id", "syn-1", "--layer", "1"], ["word3", "[SEP]"]),
        ("plot_heatmap.py", [stream, out("heat_long"), "--example-id", "syn-2", "--heads", "0-1", "--scale", "log"],
         ["1 token in 2 labelled", "word1", "1e-3"]),
        ("plot_heatmap.py", [stream, out("heat_bin"), "--example-id", "syn-0", "--scale", "binary"], ["> 0.0005"]),
    ]
    for script, args, wanted in cases:
        run_plot(SCRIPTS / script, *args)
        texts = (tmp_path / f"{os.path.basename(str(args[1]))}.txt").read_text()
        for w in wanted + [source]:
            assert w in texts, (script, args, w, texts)
        for e in ("png", "pdf"):
            assert os.path.getsize(f"{args[1]}.{e}") > 3000
    heat = (tmp_path / "heat_long.txt").read_text().split("\n")
    assert "word1" in heat and "word0" not in heat                       # every other token of 60: [CLS], word1, …


def test_captioned_figure_names_the_source_once(bin_dir, tmp_path):
    """Through captioned.py (make figures) the caption names model, data and sample; the title does not repeat them."""
    stream = tmp_path / "syn.npy.gz"
    synthetic_stream(stream)
    npy = tmp_path / "hist.npy"
    run([bin_dir / "spiqa-hist", stream, "--quiet", "--npy", npy])
    run_plot(SCRIPTS / "figures/captioned.py", "SST-2 dev · tiny-sst2 · exact attention of 3 sentences",
             SCRIPTS / "plot_sparsity_grid.py", npy, tmp_path / "cap", "--threshold", "1e-3")
    texts = (tmp_path / "cap.txt").read_text()
    assert "SST-2 dev · tiny-sst2 · exact attention of 3 sentences" in texts
    assert "SST-2/dev.tsv" not in texts and "3 records" in texts
