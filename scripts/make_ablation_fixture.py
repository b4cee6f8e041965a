#!/usr/bin/env python3
"""Reference for head ablation (Tests/SpiqaTasksTests/Fixtures/head_ablation.json).

transformers' `head_mask` (BertSelfAttention up to v4: `attention_probs = attention_probs * head_mask` after the
softmax and dropout, then `context = attention_probs @ value`) multiplies each head's attention by its mask entry,
so a 0 makes that head's context 0. transformers 5 dropped the argument; this script restores exactly that multiply
in the eager attention function and runs the tiny random BERT QA checkpoint of the model parity tests
(Tests/SpiqaModelTests/Fixtures/model/tiny-bert-qa-f32, 2 layers x 4 heads) on two padded sequences with
head_mask[1, 0] = head_mask[1, 2] = 0, every head of layer 0, heads (0, 1) and (1, 3) (different heads in different
layers: spiqa's --transform-mask), and no mask. Each case lists the zeroed (layer, head) pairs; the fixture holds the
input ids and the start/end logits of the real tokens.

Usage: python3 scripts/make_ablation_fixture.py
"""
import json
import os

import torch
import transformers.models.bert.modeling_bert as modeling_bert
from transformers import BertForQuestionAnswering

torch.set_num_threads(2)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "Tests/SpiqaModelTests/Fixtures/model/tiny-bert-qa-f32")
OUT = os.path.join(ROOT, "Tests/SpiqaTasksTests/Fixtures/head_ablation.json")

original = modeling_bert.eager_attention_forward
HEAD_MASK = None  # [layers, heads] of 0/1


def masked_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    _, weights = original(module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs)
    if HEAD_MASK is not None:
        weights = weights * HEAD_MASK[module.layer_idx].view(1, -1, 1, 1)  # v4: attention_probs * head_mask
    out = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return out, weights


modeling_bert.eager_attention_forward = masked_attention

model = BertForQuestionAnswering.from_pretrained(MODEL, attn_implementation="eager").eval()
L, H = model.config.num_hidden_layers, model.config.num_attention_heads
g = torch.Generator().manual_seed(7)
seqs = [[2] + torch.randint(5, 500, (9,), generator=g).tolist() + [3], [2] + torch.randint(5, 500, (5,), generator=g).tolist() + [3]]
T = max(len(s) for s in seqs)
ids = torch.tensor([s + [0] * (T - len(s)) for s in seqs])
mask = torch.tensor([[1] * len(s) + [0] * (T - len(s)) for s in seqs])

cases = []
for name, pairs in [("layer1_heads02", [(1, 0), (1, 2)]), ("layer0_all", [(0, h) for h in range(H)]),
                    ("mixed", [(0, 1), (1, 3)]), ("none", [])]:
    HEAD_MASK = torch.ones(L, H)
    for l, h in pairs:
        HEAD_MASK[l, h] = 0
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask)
    cases.append({"name": name, "pairs": [list(p) for p in pairs],
                  "start": [out.start_logits[b, :len(s)].tolist() for b, s in enumerate(seqs)],
                  "end": [out.end_logits[b, :len(s)].tolist() for b, s in enumerate(seqs)]})
with open(OUT, "w") as f:
    json.dump({"model": "tiny-bert-qa-f32", "input_ids": seqs, "cases": cases}, f)
    f.write("\n")
print("wrote", OUT)
