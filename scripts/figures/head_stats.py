#!/usr/bin/env python3
"""Per-example, per-head statistics of an exact-attention stream, for the head-consistency figures of `make figures`.

  python3 scripts/figures/head_stats.py ATTENTION.npy.gz OUT.npz [--threshold 1e-3]

For every example (the records of one example_id, e.g. a SQuAD question's features, taken together) and every
layer × head, over the example's real n×n query × key positions:
  sparsity   fraction of attention values ≤ THRESHOLD (the zeros that pruning at THRESHOLD would make)
  entropy    mean over query rows of the row's entropy divided by ln(n) (0 = one-hot row, 1 = uniform row)
OUT.npz holds sparsity and entropy as [examples, layers, heads] float64, example_id, layers, heads, threshold.
Head consistency = how little these vary across examples (the spread per head); reference §3.3 measures the same
idea over rows with tokens-to-majority (spiqa-hist's ttm_* columns in heads.tsv).
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "python", "src"))  # this checkout's package
import spiqa  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stream")
    p.add_argument("out")
    p.add_argument("--threshold", type=float, default=1e-3)
    a = p.parse_args()
    ids, layers, heads = [], None, None
    le, ent, cnt = [], [], []   # per example: sums over its records
    with spiqa.open(a.stream) as s:
        for rec in s:
            if rec.kind != "attention":
                continue
            att = rec.attention()                      # [L, H, n, n] (selected layers/heads)
            L, H, n, _ = att.shape
            meta = rec.meta
            if layers is None:
                layers = list(meta.get("layers", range(L)))
                heads = list(meta.get("heads", range(H)))
            eid = meta.get("example_id", len(ids))
            c_le = (att <= np.float32(a.threshold)).sum(axis=(2, 3), dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                x = att.astype(np.float64)
                h = -np.where(x > 0, x * np.log(x), 0.0).sum(axis=3)   # [L, H, n] row entropies
            c_ent = (h / np.log(n) if n > 1 else np.zeros_like(h)).sum(axis=2)
            if ids and ids[-1] == eid:
                le[-1] += c_le
                ent[-1] += c_ent
                cnt[-1] += (n * n, n)
            else:
                ids.append(eid)
                le.append(c_le)
                ent.append(c_ent)
                cnt.append(np.array([n * n, n], dtype=np.float64))
    if not ids:
        sys.exit(f"head_stats: no attention records in {a.stream}")
    cnt = np.array(cnt)
    sparsity = np.array(le) / cnt[:, 0, None, None]
    entropy = np.array(ent) / cnt[:, 1, None, None]
    tmp = a.out + ".tmp.npz"
    np.savez(tmp, sparsity=sparsity, entropy=entropy, example_id=np.array([str(i) for i in ids]),
             layers=np.array(layers), heads=np.array(heads), threshold=a.threshold)
    os.replace(tmp, a.out)
    print(f"head_stats: {a.out}: {len(ids)} examples × {sparsity.shape[1]} layers × {sparsity.shape[2]} heads")


if __name__ == "__main__":
    main()
