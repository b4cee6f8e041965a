#!/usr/bin/env python3
"""Reference attention for spiqa-extract's parity tests (Tests/CLITests/Fixtures/extract/).

Runs Hugging Face transformers (eager attention, output_attentions=True, f32, 2 threads) with all-MiniLM-L6-v2 on what
`spiqa-extract` feeds the model, and writes per recorded sequence what the stream must hold:

  squad        two questions of the paper's `--samples 100` draw (the first with one feature and the first with
               several), featurized as the reference (scripts/squad_reference.py: HF 3.1 overflow loop, max_seq_len
               320, doc_stride 128); all features of a question in one batch padded to 320
  sst2         GLUE SST-2 dev rows 0-4 in one batch padded to the longest; hidden states [L+1, n, hidden] of rows 0-1
  sst2-pruned  the same sentences with the reference attention order and pruning `p > 0.05` in every layer
               (`--threshold 0.05`), then the paper's quantizer linear_slog_clamped_midval at 3 bits (`-aq 3`)
  squad-uniform the one-feature question padded to 320 with uniform_slog_mean at 2 bits over the whole layer tensor
               (a data-dependent quantizer: padding zeros are part of its statistics)

Per sequence: example id/index, feature, n, token ids (and types), `max` [L, H] of the n×n block, `proj` [L, H, n]
= Σ_c P[l, h, r, c]·w[c] with w[c] = ((7919·c) mod 101) / 101, and for short sequences the full [L, H, n, n] block.
Each case is <case>.json (metadata + an index {"key": {"offset", "shape"}}) and <case>.bin (raw little-endian f32).

Usage: python3 scripts/make_extract_fixtures.py [--model DIR] [--shared DIR] [--out DIR]
"""
import argparse
import json
import os
import random
import sys

import numpy as np
import torch
import transformers.models.bert.modeling_bert as modeling_bert
from transformers import AutoModel, BertTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from squad_reference import featurize, load_squad  # noqa: E402
import make_quant_fixtures as quant  # noqa: E402

torch.set_num_threads(2)
FULL_MAX_N = 40


def weights(n):
    return np.array([((7919 * c) % 101) / 101.0 for c in range(n)], dtype=np.float64)


class Bundle:
    def __init__(self):
        self.index, self.chunks, self.offset = {}, [], 0

    def add(self, key, array):
        a = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        self.index[key] = {"offset": self.offset, "shape": list(a.shape)}
        self.chunks.append(a.tobytes())
        self.offset += a.size

    def write(self, out, name, meta):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            for c in self.chunks:
                f.write(c)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"meta": meta, "arrays": self.index}, f, separators=(",", ":"))
        print(f"{name}: {self.offset * 4 / 1e6:.2f} MB", file=sys.stderr)


def reference_attention(transform):
    """Eager attention in the SPIQA order: softmax → zero padded rows/columns → transform(P) → P·V (§1.1)."""

    def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        scaling = query.size(-1) ** -0.5 if scaling is None else scaling
        w = torch.matmul(query, key.transpose(2, 3)) * scaling
        w = torch.softmax(w + attention_mask, dim=-1)
        n = (attention_mask[:, 0, 0, :] == 0).sum(-1)
        real = torch.arange(w.shape[-1])[None, :] < n[:, None]
        w = w * (real[:, None, :, None] & real[:, None, None, :])
        w = transform(w)
        return torch.matmul(w, value).transpose(1, 2).contiguous(), w

    return attention


def run(model, seqs, types, pad_to, pad_id, transform=None):
    t = max(pad_to or 0, max(len(s) for s in seqs))
    ids = torch.tensor([s + [pad_id] * (t - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (t - len(s)) for s in seqs])
    kw = {}
    if types is not None:
        kw["token_type_ids"] = torch.tensor([ty + [0] * (t - len(ty)) for ty in types])
    original = modeling_bert.eager_attention_forward
    if transform is not None:
        modeling_bert.eager_attention_forward = reference_attention(transform)
    try:
        with torch.no_grad():
            return model(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True, **kw)
    finally:
        modeling_bert.eager_attention_forward = original


def add_sequences(bundle, records, out, seqs, hidden=False):
    """seqs: list of dicts (example_id, example_index, feature, ids, types); out: the model output of their batch."""
    att = torch.stack(out.attentions, 1).numpy()  # [B, L, H, T, T]
    hs = torch.stack(out.hidden_states, 1).numpy()  # [B, L+1, T, hidden]
    for b, s in enumerate(seqs):
        n = len(s["ids"])
        block = att[b, :, :, :n, :n].astype(np.float64)
        key = f"r{len(records)}"
        bundle.add(key + ".max", block.max(axis=(2, 3)))
        bundle.add(key + ".proj", block @ weights(n))
        rec = dict(s, n=n, key=key, full=n <= FULL_MAX_N, hidden=hidden)
        if n <= FULL_MAX_N:
            bundle.add(key + ".full", att[b, :, :, :n, :n])
        if hidden and b < 2:
            bundle.add(key + ".hidden", hs[b, :, :n, :])
        rec["hidden"] = hidden and b < 2
        records.append(rec)


def squad_questions(tok, squad_path):
    flat = load_squad(squad_path)
    random.seed(123)
    sample = random.sample(range(len(flat)), 100)
    single = multi = None
    for i in sample:
        ctx, q, _, qid = flat[i]
        _, feats = featurize(tok, q, ctx)
        if len(feats) == 1 and single is None:
            single = (i, qid, feats)
        if len(feats) > 1 and multi is None:
            multi = (i, qid, feats)
        if single and multi:
            break
    return sample, [single, multi]


def squad_seqs(index, qid, feats):
    return [{"example_id": qid, "example_index": index, "feature": f, "ids": feat["input_ids"][:feat["n"]],
             "types": feat["token_type_ids"][:feat["n"]]} for f, feat in enumerate(feats)]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(root, "models/all-MiniLM-L6-v2"))
    ap.add_argument("--shared", default=os.environ.get("SPIQA_SHARED") or os.path.join(root, "../shared"))
    ap.add_argument("--out", default=os.path.join(root, "Tests/CLITests/Fixtures/extract"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tok = BertTokenizer.from_pretrained(a.model)  # the slow tokenizer, as the reference
    model = AutoModel.from_pretrained(a.model, attn_implementation="eager", dtype=torch.float32).eval()
    pad_id = model.config.pad_token_id

    sample, questions = squad_questions(tok, os.path.join(a.shared, "data/squad/dev-v1.1.json"))
    bundle, records = Bundle(), []
    for index, qid, feats in questions:
        seqs = squad_seqs(index, qid, feats)
        out = run(model, [s["ids"] for s in seqs], [s["types"] for s in seqs], 320, pad_id)
        add_sequences(bundle, records, out, seqs)
    bundle.write(a.out, "squad", {"sample100": sample, "records": records})

    index, qid, feats = questions[0]
    seqs = squad_seqs(index, qid, feats)
    bundle, records = Bundle(), []
    out = run(model, [s["ids"] for s in seqs], [s["types"] for s in seqs], 320, pad_id,
              transform=lambda w: quant.uniform_slog_mean(w, 2))
    add_sequences(bundle, records, out, seqs)
    bundle.write(a.out, "squad-uniform", {"method": "uniform_slog_mean", "bits": 2, "records": records})

    lines = open(os.path.join(a.shared, "data/glue/SST-2/dev.tsv"), encoding="utf-8").read().splitlines()[1:6]
    seqs = [{"example_id": f"sst2-{i}", "example_index": i, "feature": 0,
             "ids": tok(line.rsplit("\t", 1)[0])["input_ids"]} for i, line in enumerate(lines)]
    for name, transform, hidden in (
        ("sst2", None, True),
        ("sst2-pruned", lambda w: quant.linear_slog_clamped_midval(w * (w > 0.05), 3), False),
    ):
        bundle, records = Bundle(), []
        out = run(model, [s["ids"] for s in seqs], None, None, pad_id, transform=transform)
        add_sequences(bundle, records, out, seqs, hidden=hidden)
        meta = {"records": records}
        if transform is not None:
            meta.update({"threshold": 0.05, "method": "linear_slog_clamped_midval", "bits": 3})
        bundle.write(a.out, name, meta)


if __name__ == "__main__":
    main()
