#!/usr/bin/env python3
"""Tiny random checkpoints and transformers reference outputs for the model-family parity tests
(Tests/SpiqaModelTests/Fixtures/model/tiny-<family>-*; docs/runtime.md, docs/adding-a-model-family.md).

For each family (DistilBERT, ELECTRA with embedding_size != hidden_size, ALBERT with one layer group shared by
three layers, XLM-RoBERTa) it writes
  tiny-<family>-qa-f32/    *ForQuestionAnswering, model.safetensors F32
  tiny-<family>-qa-bin/    the same weights as pytorch_model.bin (torch.save of the state dict)
  tiny-<family>-cls-f32/   *ForSequenceClassification (3 labels), model.safetensors F32
  tiny-<family>-cls-f16/   the same, F16 (the reference is computed in f32 from the rounded weights)
and next to them <name>.json + <name>.bin reference bundles (format of scripts/make_model_fixtures.py):
attentions, hidden states, start/end or class logits of transformers with attn_implementation="eager".

Usage: python3 scripts/make_family_fixtures.py [--out DIR]     (torch 2.15, transformers 5.25; deterministic)
"""
import argparse
import copy
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import (AlbertConfig, AlbertForQuestionAnswering, AlbertForSequenceClassification,
                          DistilBertConfig, DistilBertForQuestionAnswering, DistilBertForSequenceClassification,
                          ElectraConfig, ElectraForQuestionAnswering, ElectraForSequenceClassification,
                          XLMRobertaConfig, XLMRobertaForQuestionAnswering, XLMRobertaForSequenceClassification)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import Bundle, add_encoder_outputs, pad, run  # noqa: E402

torch.set_num_threads(2)
VOCAB, HIDDEN, HEADS, INTER = 128, 32, 4, 64


def families():
    """(name, config, QA class, classifier class, token types?, pad id, bos/eos ids)."""
    common = dict(vocab_size=VOCAB, num_attention_heads=HEADS, attn_implementation="eager")
    bertish = dict(common, hidden_size=HIDDEN, intermediate_size=INTER, num_hidden_layers=2)
    return [
        ("distilbert", DistilBertConfig(vocab_size=VOCAB, dim=HIDDEN, hidden_dim=INTER, n_layers=2, n_heads=HEADS,
                                        max_position_embeddings=40, pad_token_id=0, attn_implementation="eager"),
         DistilBertForQuestionAnswering, DistilBertForSequenceClassification, False, 0, (2, 3)),
        ("electra", ElectraConfig(**bertish, embedding_size=16, max_position_embeddings=40, type_vocab_size=2,
                                  pad_token_id=0),
         ElectraForQuestionAnswering, ElectraForSequenceClassification, True, 0, (2, 3)),
        ("albert", AlbertConfig(**dict(common, hidden_size=HIDDEN, intermediate_size=INTER), num_hidden_layers=3,
                                embedding_size=16, num_hidden_groups=1, inner_group_num=1, max_position_embeddings=40,
                                type_vocab_size=2, pad_token_id=0, hidden_act="gelu_new"),
         AlbertForQuestionAnswering, AlbertForSequenceClassification, True, 0, (2, 3)),
        ("xlm-roberta", XLMRobertaConfig(**bertish, max_position_embeddings=42, type_vocab_size=1, pad_token_id=1,
                                         bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5),
         XLMRobertaForQuestionAnswering, XLMRobertaForSequenceClassification, False, 1, (0, 2)),
    ]


def randomize(model, seed):
    """Weights large enough that attention is far from uniform; LayerNorm scales near 1, not exactly 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            norm = "layernorm" in name.lower() or "layer_norm" in name.lower()
            if norm and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.15 * torch.randn(p.shape, generator=g))


def save(model, folder, dtype, as_bin=False):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    state = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    if as_bin:
        torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    else:
        # Tied tensors (word embeddings shared with nothing here) are stored once each; clone to be safe.
        save_file({k: v.clone() for k, v in state.items()}, os.path.join(folder, "model.safetensors"),
                  metadata={"format": "pt"})
    cfg = model.config.to_dict()
    cfg["dtype"] = {torch.float32: "float32", torch.float16: "float16"}[dtype]
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    return state


def reference(model, state, name, out, inputs):
    ids, lengths, types = inputs
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
    bundle.meta = {"model": name, "batches": [{"input_ids": ids, "lengths": lengths, "token_type_ids": types}]}
    bundle.write(out, name)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(root, "Tests/SpiqaModelTests/Fixtures/model"))
    a = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(17)
    for seed, (fam, cfg, qa_cls, seq_cls, has_types, pad_id, (bos, eos)) in enumerate(families()):
        seqs = [[bos] + rng.integers(4, VOCAB, n - 2).tolist() + [eos] for n in (9, 16, 5, 12)]
        ids, lengths = pad(seqs, pad_id)
        types = None
        if has_types:
            types, _ = pad([[0] * (len(s) // 2) + [1] * (len(s) - len(s) // 2) for s in seqs], 0)
        inputs = (ids, lengths, types)
        cfg.architectures = [qa_cls.__name__]
        qa = qa_cls(cfg).eval()
        randomize(qa, 100 + seed)
        st = save(qa, os.path.join(a.out, f"tiny-{fam}-qa-f32"), torch.float32)
        reference(qa, st, f"tiny-{fam}-qa-f32", a.out, inputs)
        save(qa, os.path.join(a.out, f"tiny-{fam}-qa-bin"), torch.float32, as_bin=True)
        cls_cfg = copy.deepcopy(cfg)
        cls_cfg.num_labels, cls_cfg.architectures = 3, [seq_cls.__name__]
        cls = seq_cls(cls_cfg).eval()
        randomize(cls, 200 + seed)
        for dt in (torch.float32, torch.float16):
            name = f"tiny-{fam}-cls-{'f32' if dt == torch.float32 else 'f16'}"
            st = save(cls, os.path.join(a.out, name), dt)
            reference(cls, st, name, a.out, inputs)


if __name__ == "__main__":
    main()
