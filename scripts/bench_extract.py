#!/usr/bin/env python3
"""`make bench` (extract, Python side): PyTorch eager on the inputs `spiqa-bench extract` times.

Inputs: the first --sequences SQuAD dev questions (data order) whose featurization (scripts/squad_reference.py, the
reference's HF 3.1 loop, slow BertTokenizer) gives exactly one feature of --tokens ± 10 real tokens — the same rule as
`spiqa-bench extract`. Each runs alone (batch 1, no padding) through all-MiniLM-L6-v2 (transformers, eager attention,
output_attentions=True, torch.set_num_threads(2)); the [layers, heads, n, n] attention is written with np.save
  * not at all (model only),
  * into a plain .npy file (sequential np.save),
  * into gzip.open(..., compresslevel=6).
Prints sequences/s and, when $BENCH_OUT/extract-swift.json (written by `spiqa-bench extract`) exists, the ratios:
targets Swift default compression ≥ 5× PyTorch + gzip.open, Swift --no-gzip ≥ 1.3× PyTorch + plain .npy.

Usage: python3 scripts/bench_extract.py [--sequences 48] [--tokens 230]
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from transformers import AutoModel, BertTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from squad_reference import featurize, load_squad  # noqa: E402


def select(tok, squad_path, count, tokens):
    out = []
    for ctx, question, _, qid in load_squad(squad_path):
        if len(out) >= count:
            break
        # Cheap pre-filter: a context far longer than a feature cannot give a single ~tokens feature.
        if len(ctx) > 4000:
            continue
        _, feats = featurize(tok, question, ctx)
        if len(feats) == 1 and abs(feats[0]["n"] - tokens) <= 10:
            f = feats[0]
            out.append((f["input_ids"][:f["n"]], f["token_type_ids"][:f["n"]]))
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sequences", type=int, default=48)
    ap.add_argument("--tokens", type=int, default=230)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    model_dir = os.environ.get("SPIQA_MODEL", os.path.join(root, "models/all-MiniLM-L6-v2"))
    shared = os.environ.get("SPIQA_SHARED") or os.path.join(root, "../shared")
    out_dir = os.environ.get("BENCH_OUT", os.path.join(root, "bench-out"))
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(a.threads)

    tok = BertTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32).eval()
    inputs = select(tok, os.path.join(shared, "data/squad/dev-v1.1.json"), a.sequences, a.tokens)
    mean_n = sum(len(i) for i, _ in inputs) / max(1, len(inputs))
    print(f"extract bench (PyTorch {torch.__version__}, eager, {a.threads} threads): {len(inputs)} SQuAD features, "
          f"mean n = {mean_n:.1f}")

    def forward(ids, types):
        with torch.no_grad():
            o = model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types]), output_attentions=True)
        return torch.stack(o.attentions, 1)[0].numpy()  # [layers, heads, n, n]

    forward(*inputs[0])  # warm-up
    results = {}
    cases = [("model only (no output)", "model_only", None),
             ("np.save into a plain .npy", "plain", lambda p: open(p, "wb")),
             ("np.save into gzip.open(level 6)", "gzip6", lambda p: gzip.open(p, "wb", compresslevel=6))]
    print("-" * 78)
    print(f"{'setting':40}{'seq/s':10}{'MB/s out':12}bytes")
    for label, key, opener in cases:
        path = os.path.join(out_dir, f"extract-torch-{key}.npy" + (".gz" if key == "gzip6" else ""))
        f = opener(path) if opener else None
        payload = 0
        t0 = time.perf_counter()
        for ids, types in inputs:
            att = forward(ids, types)
            payload += att.nbytes
            if f is not None:
                np.save(f, att)
        if f is not None:
            f.close()
        seconds = time.perf_counter() - t0
        size = os.path.getsize(path) if f is not None else 0
        if f is not None:
            os.remove(path)
        results[key] = len(inputs) / seconds
        print(f"{label:40}{results[key]:<10.2f}{payload / 1e6 / seconds:<12.0f}{size if f is not None else '-'}")

    swift_path = os.path.join(out_dir, "extract-swift.json")
    if os.path.exists(swift_path):
        s = json.load(open(swift_path))
        print("-" * 78)
        print("Swift (spiqa-bench extract, same rule, this machine) vs PyTorch:")
        rows = [("default compression vs torch + gzip.open(6)", s.get("fast"), results["gzip6"], 5.0),
                ("uncompressed vs torch + plain .npy", s.get("plain"), results["plain"], 1.3),
                ("model only vs torch forward only", s.get("model_only"), results["model_only"], None)]
        for label, sw, pt, target in rows:
            if sw:
                t = f"  (target ≥ {target}×)" if target else ""
                print(f"  {label:46} {sw:7.2f} vs {pt:7.2f} seq/s = {sw / pt:5.2f}×{t}")
        if s.get("sequences") != len(inputs) or abs(s.get("mean_n", 0) - mean_n) > 1e-6:
            print(f"  note: Swift ran {s.get('sequences')} features (mean n {s.get('mean_n')}), Python {len(inputs)} "
                  f"(mean n {mean_n:.1f}); rerun both with the same --sequences/--tokens")
    else:
        print(f"(no {swift_path}: run `spiqa-bench extract` first for the side-by-side ratios)")


if __name__ == "__main__":
    main()
