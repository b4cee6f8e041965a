#!/usr/bin/env python3
"""Write a small real attention stream (the stream format of docs/stream-format.md) with PyTorch/transformers,
for figures and benchmarks when spiqa-extract is not at hand. Run by hand; needs torch + transformers.

  python3 scripts/make_attention_sample.py MODEL_DIR SST2_TSV OUT.npy.gz [--limit 64]

Records: kind "attention", example_id "sst2-<row>", feature 0, [layers, heads, n, n] float32 (real tokens only).
"""
import argparse
import gzip
import json

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("tsv")
    p.add_argument("out")
    p.add_argument("--limit", type=int, default=64)
    a = p.parse_args()
    import torch
    from transformers import AutoModel, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModel.from_pretrained(a.model, attn_implementation="eager").eval()
    lines = open(a.tsv, encoding="utf-8").read().splitlines()[1:a.limit + 1]
    cfg = model.config
    with gzip.GzipFile(a.out, "wb", mtime=0) as f:
        def put(obj):
            np.save(f, np.frombuffer(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(), np.uint8))
        put({"spiqa": 1, "kind": "stream", "producer": "make_attention_sample.py", "model": a.model, "task": "sst2"})
        for i, line in enumerate(lines):
            text = line.split("\t")[0]
            enc = tok(text, return_tensors="pt")
            with torch.no_grad():
                att = model(**enc, output_attentions=True).attentions
            x = torch.stack([t[0] for t in att]).numpy().astype(np.float32)  # [layers, heads, n, n]
            n = x.shape[-1]
            ids = enc["input_ids"][0].tolist()
            put({"spiqa": 1, "kind": "attention", "example_id": f"sst2-{i}", "example_index": i, "feature": 0, "n": n,
                 "shape": list(x.shape), "layers": list(range(cfg.num_hidden_layers)),
                 "heads": list(range(cfg.num_attention_heads)), "dtype": "f4", "tokens": tok.convert_ids_to_tokens(ids),
                 "token_ids": ids, "threshold": 0.0, "method": None, "bits": None, "scope": "record"})
            np.save(f, x)
    print("wrote", a.out, len(lines), "records")


if __name__ == "__main__":
    main()
