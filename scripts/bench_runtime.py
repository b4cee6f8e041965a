#!/usr/bin/env python3
"""PyTorch side of `make bench` (runtime): transformers eager attention with output_attentions=True on the shapes
`spiqa-bench runtime` uses — all-MiniLM-L6-v2 at seq 128/320/384 (batch 1 and 8) and a random roberta-base-shaped
RobertaModel at seq 320 (batch 1) — random full-length token ids, no padding, torch.inference_mode, same threads.

Prints GFLOP/s (dense layers + QKᵀ + P·V, the same count as spiqa-bench) and sequences/s, best and median of
--repeats runs after one warm-up. Exits 0 with a note when torch/transformers are not installed.

Usage: python3 scripts/bench_runtime.py [--model DIR] [--threads 2] [--repeats 5]
"""
import argparse
import os
import statistics
import sys
import time


def flops(cfg, batch, seq):
    h, i = cfg.hidden_size, cfg.intermediate_size
    dense = 2 * batch * seq * (4 * h * h + 2 * h * i)
    attention = 4 * batch * seq * seq * h
    return cfg.num_hidden_layers * (dense + attention)


def measure(torch, name, model, batch, seq, repeats):
    cfg = model.config
    ids = torch.randint(3, cfg.vocab_size, (batch, seq))
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=mask, output_attentions=True)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(input_ids=ids, attention_mask=mask, output_attentions=True)
            times.append(time.perf_counter() - t0)
    best, median = min(times), statistics.median(times)
    print(f"torch {name} batch {batch} seq {seq}: {flops(cfg, batch, seq) / best / 1e9:6.1f} GFLOP/s, "
          f"{batch / median:7.2f} seq/s (best {best * 1e3:.1f} ms, median {median * 1e3:.1f} ms)", flush=True)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.environ.get("SPIQA_MODEL", os.path.join(root, "models/all-MiniLM-L6-v2")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seq-lens", default="128,320,384")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--skip-roberta", action="store_true")
    a = ap.parse_args()
    try:
        import torch
        from transformers import AutoModel, RobertaConfig, RobertaModel
    except ImportError:
        print("torch: not installed, PyTorch comparison skipped")
        return 0
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, eager attention, output_attentions=True")
    if not a.skip_roberta:
        cfg = RobertaConfig(attn_implementation="eager")  # roberta-base shape: 12 × 768, 12 heads, 3072
        measure(torch, "roberta-base shape (random)", RobertaModel(cfg, add_pooling_layer=False).eval(), 1, 320,
                a.repeats)
    if os.path.exists(os.path.join(a.model, "config.json")):
        model = AutoModel.from_pretrained(a.model, attn_implementation="eager", dtype=torch.float32).eval()
        for seq in map(int, a.seq_lens.split(",")):
            for batch in map(int, a.batches.split(",")):
                measure(torch, "MiniLM-L6", model, batch, seq, a.repeats)
    else:
        print(f"MiniLM: skipped, no model at {a.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
