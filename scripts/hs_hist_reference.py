#!/usr/bin/env python3
"""numpy reference for `spiqa-hist --hidden-states` (docs/hist.md "Hidden states", reference §3.6 `-hs`).

Per token row of a `hidden_states` record [layers + 1, n, hidden], the row histogram is computed exactly as the
original analyzer's plot did: `np.histogram(row, bins=np.linspace(-5, 5, 101), weights=np.ones_like(row) / len(row))`
(float32 weights, so numpy's float32 cumulative sums decide the fractions). Sums that spiqa-hist accumulates
sequentially in float64 (mean, x², row fractions) are taken with np.cumsum here, the same additions in the same
order, so the tables match character for character.

Subcommands:
  stats STREAM [--layers 1,3] [--bins 100] [--range -5,5] [--log-bits B] [--json OUT] [--layers-tsv OUT] [--hist-tsv OUT]
  make-fixture [STATS_DIR] [CLI_DIR]   small sample stream + expected outputs (SpiqaStatsTests, CLITests/Fixtures/hist)
  check-npy STREAM NPY [--layers ...] [--log-bits B]  compare a `spiqa-hist --hidden-states --npy` file; prints the largest errors
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hist_reference as hr  # noqa: E402  (write_stream, g, the spiqa package of this checkout)

REF_DENOMINATOR = 10.0 * 320 * 768  # the reference's hard-coded out-of-range denominator (docs/hist.md)


def log_quant(hstates, bits):
    """The reference's numpy `quantize_hstates(h, 'log', bits)` (reference §3.6 -hs, §2.13), as written there."""
    effi_bits = bits - 1
    frac_ubound, frac_lbound = 4.0, -5.0
    quant_log_step = (frac_ubound - frac_lbound) / (2.0 ** effi_bits - 1.0)
    signs = np.ones(hstates.shape)
    signs[hstates < 0.0] = -1.0
    exp = np.abs(hstates)
    exp[hstates == 0.0] = 10 ** -10
    exp = np.floor(np.log2(exp) / quant_log_step + 0.5) * quant_log_step
    clamped_exp = exp.copy()
    clamped_exp[exp <= frac_lbound] = float("-Inf")
    clamped_exp[exp > frac_ubound] = frac_ubound
    return np.power(2.0, clamped_exp) * signs


def compute(path, layers=None, bins=100, lo=-5.0, hi=5.0, log_bits=None):
    E = np.linspace(lo, hi, bins + 1)
    per = {}
    order = None
    for meta, x in hr.spiqa.open(path):
        if meta.get("kind") != "hidden_states":
            continue
        x = np.asarray(x, dtype=np.float32)
        if log_bits is not None:
            x = log_quant(x, log_bits)  # float64 from here on, so numpy's weights are float64 too
        idx = meta.get("layers", list(range(x.shape[0])))
        if order is None:
            order = sorted(set(layers)) if layers is not None else list(idx)  # as spiqa's --layers lists
        for l in order:
            h = x[idx.index(l)]  # [n, hidden]
            # The reference's per-token histogram, verbatim.
            rows = np.apply_along_axis(
                lambda r: np.histogram(r, bins=E, weights=(np.ones_like(r) / len(r)))[0], -1, h)
            counts = np.histogram(h.ravel(), bins=E)[0]
            row_counts = np.apply_along_axis(lambda r: np.histogram(r, bins=E)[0], -1, h)  # [n, bins]
            d = per.setdefault(l, dict(v=[], rows=[], counts=np.zeros(bins, np.int64),
                                       spread=np.zeros((bins, h.shape[-1] + 1), np.int64)))
            for b in range(bins):
                d["spread"][b] += np.bincount(row_counts[:, b], minlength=h.shape[-1] + 1)
            d["v"].append(h.ravel())
            d["rows"].append(rows)
            d["counts"] += counts
    out = dict(edges=E.tolist(), bins=bins, per_layer=[])
    for l in order or []:
        d = per[l]
        v = np.concatenate(d["v"])
        v64 = v.astype(np.float64)
        rows = np.concatenate(d["rows"])  # [R, bins] fractions: float32 (float64 after log_quant)
        N = v.size
        s = np.cumsum(v64)[-1]
        s2 = np.cumsum(v64 * v64)[-1]
        mean = s / N
        std = np.sqrt(max(s2 / N - mean * mean, 0.0))
        out["per_layer"].append(dict(
            layer=l, values=int(N), rows=int(rows.shape[0]),
            below=int(np.count_nonzero(v64 < E[0])), above=int(np.count_nonzero(v64 > E[-1])),
            min=float(v.min()), max=float(v.max()), mean=float(mean), std=float(std),
            histogram=d["counts"].tolist(),
            row_fraction_mean=(np.cumsum(rows.astype(np.float64), axis=0)[-1] / rows.shape[0]).tolist(),
            row_fraction_max=rows.max(axis=0).astype(np.float64).tolist(),
            row_count_spread=d["spread"].tolist()))
    return out


def layers_tsv(s):
    g = hr.g
    lines = ["layer\tvalues\trows\tbelow\tabove\tbelow_frac\tabove_frac\tbelow_ref\tabove_ref\tmin\tmax\tmean\tstd"]
    for d in s["per_layer"]:
        v = d["values"]
        lines.append("\t".join([str(d["layer"]), str(v), str(d["rows"]), str(d["below"]), str(d["above"]),
                                g(d["below"] / v), g(d["above"] / v), g(d["below"] / REF_DENOMINATOR),
                                g(d["above"] / REF_DENOMINATOR), g(d["min"]), g(d["max"]), g(d["mean"]),
                                g(d["std"])]))
    return "\n".join(lines) + "\n"


def hist_tsv(s):
    g = hr.g
    E = s["edges"]
    lines = ["layer\tbin\tlo\thi\tcount\tfraction\tcdf\trow_mean\trow_max"]
    for d in s["per_layer"]:
        v = d["values"]
        cum = 0
        for b, c in enumerate(d["histogram"]):
            cum += c
            lines.append("\t".join([str(d["layer"]), str(b), g(E[b]), g(E[b + 1]), str(c), g(c / v), g(cum / v),
                                    g(d["row_fraction_mean"][b]), g(d["row_fraction_max"][b])]))
    return "\n".join(lines) + "\n"


def sample_records(seed=5):
    """3 records of [4, n, 24]: normal values with a wide spread (some outside [-5, 5]), values on and next to
    float64 edges (float32 neighbours of -4.9, 0.1, ...), exact ±5, 0 and -0."""
    rng = np.random.default_rng(seed)
    recs = []
    for i, n in enumerate([1, 3, 6]):
        x = (rng.normal(0, 1, size=(4, n, 24)) * rng.choice([0.5, 2.0, 4.0], size=(4, n, 1))).astype(np.float32)
        x[1, 0, :8] = np.float32([-5.0, 5.0, 0.0, -0.0, -4.9, 0.1, 4.9, -0.3])
        x[2, 0, :4] = [np.nextafter(np.float32(0.1), np.float32(1)), np.nextafter(np.float32(-4.9), np.float32(-9)),
                       np.nextafter(np.float32(5), np.float32(9)), np.nextafter(np.float32(-5), np.float32(-9))]
        meta = {"spiqa": 1, "kind": "hidden_states", "example_id": "ex-%d" % i, "example_index": i, "feature": 0,
                "n": n, "shape": [4, n, 24], "layers": [0, 1, 2, 3], "dtype": "f4"}
        recs.append((meta, x))
    return recs


def make_fixture(stats_dir, cli_dir):
    os.makedirs(stats_dir, exist_ok=True)
    os.makedirs(cli_dir, exist_ok=True)
    recs = sample_records()
    stream = f"{cli_dir}/hs_sample.npy.gz"
    # An attention record first: spiqa-hist --hidden-states must skip it.
    att = {"spiqa": 1, "kind": "attention", "example_id": "ex-0", "n": 1, "shape": [1, 1, 1, 1], "layers": [0],
           "heads": [0], "dtype": "f4"}
    hr.write_stream(stream, [(att, np.ones((1, 1, 1, 1), np.float32))] + recs)
    with open(f"{stats_dir}/hs_sample.f32", "wb") as f:
        for _, x in recs:
            f.write(x.astype("<f4").tobytes())
    s = compute(stream)
    s["records"] = [m["n"] for m, _ in recs]
    with open(f"{stats_dir}/hs_expected.json", "w") as f:
        json.dump(s, f, sort_keys=True)
    open(f"{cli_dir}/hs_layers.tsv", "w").write(layers_tsv(s))
    sub = compute(stream, layers=[3, 1], bins=10, lo=-2.0, hi=3.0)
    open(f"{cli_dir}/hs_hist_l3-1_b10.tsv", "w").write(hist_tsv(sub))
    # The reference's -hs log quantizer first: 3 bits, and its default -hq 0 (almost everything becomes ±1).
    s["log_bits_3"] = compute(stream, log_bits=3)["per_layer"]
    with open(f"{stats_dir}/hs_expected.json", "w") as f:
        json.dump(s, f, sort_keys=True)
    q0 = compute(stream, layers=[2], log_bits=0)
    open(f"{cli_dir}/hs_log0.tsv", "w").write(layers_tsv(q0) + "\n" + hist_tsv(q0))


def check_npy(stream, npy, layers=None, log_bits=None):
    s = compute(stream, layers=layers, log_bits=log_bits)
    A = hr.spiqa.hist_arrays(npy)
    pl = s["per_layer"]
    worst = {}
    ok = True
    for name, key in [("histogram", "histogram"), ("values", "values"), ("rows", "rows"), ("below", "below"),
                      ("above", "above"), ("row_count_spread", "row_count_spread")]:
        same = np.array_equal(np.asarray(A[name]), np.array([d[key] for d in pl]))
        ok &= same
        print(f"{name}: {'identical' if same else 'DIFFERENT'}")
    for name in ["min", "max", "mean", "std", "row_fraction_mean", "row_fraction_max"]:
        a = np.asarray(A[name], np.float64)
        b = np.array([d[name] for d in pl], np.float64)
        err = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) if a.size else 0.0
        worst[name] = err
        ok &= a.shape == b.shape and err <= 1e-12
        print(f"{name}: max relative error {err:.3g}")
    return ok


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("stats")
    a.add_argument("stream")
    a.add_argument("--layers")
    a.add_argument("--bins", type=int, default=100)
    a.add_argument("--range", default="-5,5")
    a.add_argument("--log-bits", type=int)
    a.add_argument("--json")
    a.add_argument("--layers-tsv")
    a.add_argument("--hist-tsv")
    m = sub.add_parser("make-fixture")
    m.add_argument("stats_dir", nargs="?", default="Tests/SpiqaStatsTests/Fixtures")
    m.add_argument("cli_dir", nargs="?", default="Tests/CLITests/Fixtures/hist")
    c = sub.add_parser("check-npy")
    c.add_argument("stream")
    c.add_argument("npy")
    c.add_argument("--layers")
    c.add_argument("--log-bits", type=int)
    args = p.parse_args(argv)
    if args.cmd == "stats":
        lo, hi = (float(t) for t in args.range.split(","))
        s = compute(args.stream, layers=hr.parse_index_list(args.layers) if args.layers else None, bins=args.bins,
                    lo=lo, hi=hi, log_bits=args.log_bits)
        if args.json:
            json.dump(s, open(args.json, "w"), sort_keys=True)
        if args.hist_tsv:
            open(args.hist_tsv, "w").write(hist_tsv(s))
        if args.layers_tsv or not (args.json or args.hist_tsv):
            (open(args.layers_tsv, "w") if args.layers_tsv else sys.stdout).write(layers_tsv(s))
    elif args.cmd == "make-fixture":
        make_fixture(args.stats_dir, args.cli_dir)
    elif args.cmd == "check-npy":
        sys.exit(0 if check_npy(args.stream, args.npy, hr.parse_index_list(args.layers) if args.layers else None,
                                args.log_bits) else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
