#!/usr/bin/env python3
"""Reference outputs for the SpiqaModel parity tests (Tests/SpiqaModelTests/Fixtures/model/).

Runs Hugging Face transformers (eager attention, output_attentions=True, output_hidden_states=True, f32) on:
  minilm        all-MiniLM-L6-v2 (real weights; --model, default models/all-MiniLM-L6-v2), 24 sentences in padded
                batches of 8, plus one ~120-token paragraph alone;
  minilm-sst2   ../shared/models/minilm-sst2 (F16 weights computed in f32): SST-2 dev logits, batches of 8;
  minilm-squad  ../shared/models/minilm-squad: QA start/end logits on SQuAD dev question/context pairs;
  tiny-*        small random-weight BERT (QA head) and RoBERTa (classification head) checkpoints that this script
                also writes as fixtures: model.safetensors in F32, F16 (and BF16 for RoBERTa).

Each case is <name>.json (inputs, metadata and an index {"key": {"offset", "shape"}}) plus <name>.bin (the arrays,
raw little-endian f32, concatenated). Padded rows/columns are not stored: transformers does not zero them (the
reference does), so only the real tokens are comparable. Large tensors are stored as selected rows plus projections
of every real row onto a few fixed random directions (the matrix is stored too).

Usage: python3 scripts/make_model_fixtures.py [--model DIR] [--shared DIR] [--out DIR]
"""
import argparse
import json
import os

import numpy as np
import torch
import transformers.models.bert.modeling_bert as modeling_bert
from safetensors.torch import save_file
from transformers import (AutoModel, AutoModelForQuestionAnswering, AutoModelForSequenceClassification, AutoTokenizer,
                          BertConfig, BertForQuestionAnswering, RobertaConfig, RobertaForSequenceClassification)

torch.set_num_threads(2)

SENTENCES = [
    "The cat sat on the mat.",
    "Attention is all you need.",
    "Quantization makes models smaller.",
    "BERT reads text in both directions.",
    "A short one.",
    "Where is the nearest train station?",
    "Transformers changed natural language processing.",
    "It rained all day in Stony Brook.",
    "Pruning removes small attention values.",
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "Models are evaluated on SQuAD and SST-2.",
    "Logarithmic bins keep more precision near zero.",
    "Why does the softmax saturate?",
    "Swift can call OpenBLAS directly.",
    "Ünïcödé text gets normalised first.",
    "Numbers like 3.14 and 2021 are tokens too.",
    "She sells sea shells by the sea shore.",
    "Sparse attention saves memory.",
    "Yes.",
    "Every head looks at different tokens.",
    "The paper was published at ACL 2021.",
    "Low-bit values still work well.",
    "Good morning, how are you today?",
]
PARAGRAPH = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football League (NFL) "
    "for the 2015 season. The American Football Conference (AFC) champion Denver Broncos defeated the National "
    "Football Conference (NFC) champion Carolina Panthers 24-10 to earn their third Super Bowl title. The game was "
    "played on February 7, 2016, at Levi's Stadium in the San Francisco Bay Area at Santa Clara, California.")


class Bundle:
    """Arrays concatenated into one raw f32 file, indexed from JSON."""

    def __init__(self):
        self.index, self.chunks, self.offset, self.meta = {}, [], 0, {}

    def add(self, key, array):
        a = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        self.index[key] = {"offset": self.offset, "shape": list(a.shape)}
        self.chunks.append(a.tobytes())
        self.offset += a.size

    def write(self, out, name):
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            for c in self.chunks:
                f.write(c)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump({"meta": self.meta, "arrays": self.index}, f, separators=(",", ":"))
        print(f"{name}: {self.offset * 4 / 1e6:.2f} MB")


def run(model, ids, lengths, types=None):
    ids = torch.tensor(ids)
    mask = (torch.arange(ids.shape[1])[None, :] < torch.tensor(lengths)[:, None]).long()
    kw = {"token_type_ids": torch.tensor(types)} if types is not None else {}
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, output_attentions=True, output_hidden_states=True, **kw)


def pad(seqs, pad_id):
    t = max(len(s) for s in seqs)
    return [s + [pad_id] * (t - len(s)) for s in seqs], [len(s) for s in seqs]


def add_encoder_outputs(bundle, prefix, out, lengths, proj, full=False, attn_rows=None):
    """Real-token slices of attentions, hidden states and the mean-pooled embedding of each batch item."""
    att = torch.stack(out.attentions, 1).numpy()          # [B, L, H, T, T]
    hs = torch.stack(out.hidden_states, 1).numpy()        # [B, L+1, T, hidden]
    for b, n in enumerate(lengths):
        p = f"{prefix}.item{b}"
        if attn_rows is None:
            bundle.add(p + ".attn", att[b, :, :, :n, :n])
        else:
            rows = attn_rows(n)
            bundle.add(p + ".attn_rows", att[b][:, :, rows, :n])
        if full:
            bundle.add(p + ".hidden", hs[b, :, :n, :])
        else:
            rows = [0, n // 2, n - 1]
            bundle.add(p + ".hidden_rows", hs[b][:, rows, :])
            bundle.add(p + ".hidden_proj", hs[b, :, :n, :] @ proj)
        bundle.add(p + ".mean", hs[b, -1, :n, :].mean(0))


def minilm(model_dir, out):
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager", dtype=torch.float32).eval()
    rng = np.random.default_rng(0)
    proj = rng.standard_normal((model.config.hidden_size, 4)).astype(np.float32)
    bundle = Bundle()
    bundle.add("proj", proj)
    batches = []
    for k in range(0, len(SENTENCES), 8):
        seqs = [tok(s)["input_ids"] for s in SENTENCES[k:k + 8]]
        ids, lengths = pad(seqs, model.config.pad_token_id)
        add_encoder_outputs(bundle, f"batch{len(batches)}", run(model, ids, lengths), lengths, proj)
        batches.append({"input_ids": ids, "lengths": lengths})
    seq = tok(PARAGRAPH)["input_ids"]
    add_encoder_outputs(bundle, f"batch{len(batches)}", run(model, [seq], [len(seq)]), [len(seq)], proj,
                        attn_rows=lambda n: [0, n // 2, n - 1])
    batches.append({"input_ids": [seq], "lengths": [len(seq)], "attn_rows": [0, len(seq) // 2, len(seq) - 1]})
    bundle.meta = {"model": "all-MiniLM-L6-v2", "batches": batches, "sentences": SENTENCES + [PARAGRAPH]}
    bundle.write(out, "minilm")


def minilm_sst2(shared, out):
    d = os.path.join(shared, "models/minilm-sst2")
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModelForSequenceClassification.from_pretrained(
        d, attn_implementation="eager", dtype=torch.float32).eval()
    lines = open(os.path.join(shared, "data/glue/SST-2/dev.tsv")).read().splitlines()[1:17]
    bundle, batches = Bundle(), []
    for k in range(0, len(lines), 8):
        seqs = [tok(l.split("\t")[0])["input_ids"] for l in lines[k:k + 8]]
        ids, lengths = pad(seqs, 0)
        o = run(model, ids, lengths)
        bundle.add(f"batch{len(batches)}.logits", o.logits.numpy())
        batches.append({"input_ids": ids, "lengths": lengths})
    bundle.meta = {"model": "minilm-sst2", "batches": batches}
    bundle.write(out, "minilm-sst2")


def minilm_squad(shared, out):
    d = os.path.join(shared, "models/minilm-squad")
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModelForQuestionAnswering.from_pretrained(d, attn_implementation="eager", dtype=torch.float32).eval()
    data = json.load(open(os.path.join(shared, "data/squad/dev-v1.1.json")))["data"]
    pairs = [(q["question"], p["context"]) for p in (data[0]["paragraphs"][0], data[1]["paragraphs"][0])
             for q in p["qas"][:2]]
    encs = [tok(q, c, truncation="only_second", max_length=320) for q, c in pairs]
    ids, lengths = pad([e["input_ids"] for e in encs], 0)
    types, _ = pad([e["token_type_ids"] for e in encs], 0)
    o = run(model, ids, lengths, types)
    bundle = Bundle()
    for b, n in enumerate(lengths):
        bundle.add(f"batch0.item{b}.start", o.start_logits[b, :n].numpy())
        bundle.add(f"batch0.item{b}.end", o.end_logits[b, :n].numpy())
    bundle.meta = {"model": "minilm-squad", "batches": [{"input_ids": ids, "lengths": lengths, "token_type_ids": types}]}
    bundle.write(out, "minilm-squad")


def reference_attention(transform):
    """An eager attention in the SPIQA reference order (docs/reference-behaviour.md §1.1): softmax → zero padded rows and
    columns (n_i = count of unmasked keys) → `transform(P, n)` → P·V, without renormalisation."""

    def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        scaling = query.size(-1) ** -0.5 if scaling is None else scaling
        w = torch.matmul(query, key.transpose(2, 3)) * scaling
        w = torch.softmax(w + attention_mask, dim=-1)
        n = (attention_mask[:, 0, 0, :] == 0).sum(-1)                        # real tokens per item
        real = torch.arange(w.shape[-1])[None, :] < n[:, None]                 # [B, T]
        w = w * (real[:, None, :, None] & real[:, None, None, :])
        w = transform(w, real)
        return torch.matmul(w, value).transpose(1, 2).contiguous(), w

    return attention


def prune(t):
    return lambda w, real: w * (w > t)


def uniform(w, real):
    """Replaces every real row by 1/n over the real columns (what a 'replace' hook does)."""
    both = (real[:, None, :, None] & real[:, None, None, :]).float()
    return (both / real.sum(-1).float()[:, None, None, None]).expand_as(w).contiguous()


def hooked_bert(out, fixtures, inputs):
    """tiny-bert-qa-f32 with the reference attention order plus pruning (p > 0.05 kept) and with attention
    replaced by a uniform distribution: references for the transform and replace uses of the attention hook."""
    ids, lengths, types = inputs
    model = BertForQuestionAnswering.from_pretrained(os.path.join(fixtures, "tiny-bert-qa-f32"),
                                                     attn_implementation="eager").eval()
    original = modeling_bert.eager_attention_forward
    try:
        for name, transform in (("pruned", prune(0.05)), ("uniform", uniform)):
            modeling_bert.eager_attention_forward = reference_attention(transform)
            o = run(model, ids, lengths, types)
            bundle = Bundle()
            # Padded rows follow the reference here, so whole tensors are comparable.
            bundle.add("attn", torch.stack(o.attentions, 1).numpy())            # [B, L, H, T, T]
            bundle.add("hidden", torch.stack(o.hidden_states, 1).numpy())       # [B, L+1, T, hidden]
            bundle.add("start", o.start_logits.numpy())
            bundle.add("end", o.end_logits.numpy())
            bundle.meta = {"model": "tiny-bert-qa-f32", "transform": name, "threshold": 0.05,
                           "batches": [{"input_ids": ids, "lengths": lengths, "token_type_ids": types}]}
            bundle.write(out, f"tiny-bert-qa-f32-{name}")
    finally:
        modeling_bert.eager_attention_forward = original


def activation_variants(out, fixtures, inputs):
    """tiny-bert-qa-f32's weights with hidden_act gelu_new and relu instead of gelu (the Swift test rewrites
    config.json the same way)."""
    ids, lengths, types = inputs
    for act in ("gelu_new", "relu"):
        cfg = BertConfig.from_pretrained(os.path.join(fixtures, "tiny-bert-qa-f32"))
        cfg.hidden_act = act
        model = BertForQuestionAnswering.from_pretrained(os.path.join(fixtures, "tiny-bert-qa-f32"), config=cfg,
                                                         attn_implementation="eager").eval()
        o = run(model, ids, lengths, types)
        bundle = Bundle()
        add_encoder_outputs(bundle, "batch0", o, lengths, None, full=True)
        for b, n in enumerate(lengths):
            bundle.add(f"batch0.item{b}.start", o.start_logits[b, :n].numpy())
            bundle.add(f"batch0.item{b}.end", o.end_logits[b, :n].numpy())
        bundle.meta = {"model": "tiny-bert-qa-f32", "hidden_act": act,
                       "batches": [{"input_ids": ids, "lengths": lengths, "token_type_ids": types}]}
        bundle.write(out, f"tiny-bert-qa-f32-{act.replace('_', '-')}")


def randomize(model, seed):
    """Weights large enough that attention is far from uniform and LayerNorm parameters are not 1/0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def tiny(out, fixtures, name, model, inputs, dtypes):
    """Saves `model` as F32/F16/BF16 safetensors checkpoints and the reference outputs of each."""
    ids, lengths, types = inputs
    for dt in dtypes:
        tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dt]
        folder = os.path.join(fixtures, f"{name}-{dt.lower()}")
        os.makedirs(folder, exist_ok=True)
        state = {k: v.detach().to(tdt).contiguous() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        cfg = model.config.to_dict()
        cfg["dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dt]
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        # Reference: the stored (rounded) weights, computed in f32.
        ref = type(model)(model.config).eval()
        ref.load_state_dict({k: v.float() for k, v in state.items()})
        o = run(ref, ids, lengths, types)
        bundle = Bundle()
        add_encoder_outputs(bundle, "batch0", o, lengths, None, full=True)
        if hasattr(o, "start_logits"):
            for b, n in enumerate(lengths):
                bundle.add(f"batch0.item{b}.start", o.start_logits[b, :n].numpy())
                bundle.add(f"batch0.item{b}.end", o.end_logits[b, :n].numpy())
        else:
            bundle.add("batch0.logits", o.logits.numpy())
        bundle.meta = {"model": f"{name}-{dt.lower()}",
                       "batches": [{"input_ids": ids, "lengths": lengths, "token_type_ids": types}]}
        bundle.write(out, f"{name}-{dt.lower()}")


def tiny_models(out):
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    common = dict(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                  hidden_act="gelu", attn_implementation="eager")
    bert = BertForQuestionAnswering(BertConfig(**common, max_position_embeddings=64, type_vocab_size=2,
                                               layer_norm_eps=1e-12, pad_token_id=0,
                                               architectures=["BertForQuestionAnswering"]))
    randomize(bert, 1)
    seqs = [[2] + rng.integers(3, 512, n - 2).tolist() + [3] for n in (9, 16, 5, 12)]
    types = [[0] * (len(s) // 2) + [1] * (len(s) - len(s) // 2) for s in seqs]
    ids, lengths = pad(seqs, 0)
    types, _ = pad(types, 0)
    tiny(out, out, "tiny-bert-qa", bert.eval(), (ids, lengths, types), ["F32", "F16"])
    hooked_bert(out, out, (ids, lengths, types))
    activation_variants(out, out, (ids, lengths, types))

    roberta = RobertaForSequenceClassification(RobertaConfig(
        **common, max_position_embeddings=66, type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1,
        bos_token_id=0, eos_token_id=2, num_labels=3, architectures=["RobertaForSequenceClassification"]))
    randomize(roberta, 2)
    seqs = [[0] + rng.integers(3, 512, n - 2).tolist() + [2] for n in (7, 15, 11, 4)]
    ids, lengths = pad(seqs, 1)
    tiny(out, out, "tiny-roberta-cls", roberta.eval(), (ids, lengths, None), ["F32", "F16", "BF16"])


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(root, "models/all-MiniLM-L6-v2"))
    ap.add_argument("--shared", default=os.path.join(root, "../shared"))
    ap.add_argument("--out", default=os.path.join(root, "Tests/SpiqaModelTests/Fixtures/model"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tiny_models(a.out)
    minilm(a.model, a.out)
    minilm_sst2(a.shared, a.out)
    minilm_squad(a.shared, a.out)


if __name__ == "__main__":
    main()
