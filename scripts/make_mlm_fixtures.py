#!/usr/bin/env python3
"""Fixtures and references for `--task mlm` (Tests/SpiqaTasksTests/Fixtures/mlm/).

Writes
  * lines.txt: a few text lines (one of them empty, one longer than MAX_LENGTH tokens, so truncation is covered);
  * tiny-bert-mlm: a tiny random BertForMaskedLM (F16 safetensors) saved as save_pretrained saves a tied decoder:
    without `cls.predictions.decoder.weight` / `.bias` (spiqa must tie them to the word embeddings and
    `cls.predictions.bias`), with the WordPiece vocabulary of the task fixtures (../tasks/tiny-cls2);
  * tiny-roberta-mlm: a tiny random RobertaForMaskedLM that keeps `lm_head.decoder.weight` (the untied path), with
    the byte-level BPE of ../tasks/tiny-roberta-nli2;
  * references.json: per model, what transformers (eager attention, the stored F16 weights computed in f32) gives
    for each line when every real token is masked in turn, all copies of a line as one batch: the sum of
    -log p(token) and the token count, and the pseudo-perplexity exp(sum / count) over all lines; once exact and
    once with attention pruned (p > 0.1 kept, every layer), which checks that the transform reaches this task.

Usage: python3 scripts/make_mlm_fixtures.py   (needs torch, transformers, safetensors; run from the repository)
"""
import json, math, os, shutil, sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_task_fixtures import load, patch_threshold  # noqa: E402  (the same loader and pruning patch)

ROOT = os.path.join(HERE, "..", "Tests", "SpiqaTasksTests", "Fixtures")
OUT = os.path.join(ROOT, "mlm")
MAX_LENGTH = 24
LINES = [
    "The cat sat on the mat.",
    "A man is playing a guitar in the park.",
    "",
    "The book was written by a famous author, and the children read the story in the morning before school.",
    "Birds sing.",
    "She bought three red apples at the market.",
]


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm.weight" in name or "layer_norm.weight" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))


def save(model, folder, drop=()):
    os.makedirs(folder, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items() if k not in drop}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    c = model.config.to_dict()
    c["dtype"] = "float16"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)


def tiny_bert():
    from transformers import BertConfig, BertForMaskedLM
    folder = os.path.join(OUT, "tiny-bert-mlm")
    src = os.path.join(ROOT, "tasks", "tiny-cls2")
    with open(os.path.join(src, "vocab.txt")) as f:
        n = len(f.read().splitlines())
    model = BertForMaskedLM(BertConfig(
        vocab_size=n, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64, type_vocab_size=2, pad_token_id=0, hidden_act="gelu",
        attn_implementation="eager", architectures=["BertForMaskedLM"]))
    randomize(model, 11)
    model.tie_weights()
    save(model, folder, drop=("cls.predictions.decoder.weight", "cls.predictions.decoder.bias"))
    for f in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), folder)
    return folder


def tiny_roberta():
    from transformers import RobertaConfig, RobertaForMaskedLM
    folder = os.path.join(OUT, "tiny-roberta-mlm")
    src = os.path.join(ROOT, "tasks", "tiny-roberta-nli2")
    with open(os.path.join(src, "vocab.json")) as f:
        n = len(json.load(f))
    model = RobertaForMaskedLM(RobertaConfig(
        vocab_size=n, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        layer_norm_eps=1e-5, hidden_act="gelu", attn_implementation="eager", architectures=["RobertaForMaskedLM"]))
    randomize(model, 12)
    model.tie_weights()
    save(model, folder)
    for f in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(src, f), folder)
    return folder


def pseudo_perplexity(folder):
    from transformers import AutoModelForMaskedLM
    tok, model = load(folder, AutoModelForMaskedLM)
    lines = []
    for i, text in enumerate(LINES):
        if not text:
            continue
        ids = tok(text, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        positions = list(range(1, len(ids) - 1))
        batch = torch.tensor([ids] * len(positions))
        for k, p in enumerate(positions):
            batch[k, p] = tok.mask_token_id
        with torch.no_grad():
            logits = model(input_ids=batch, attention_mask=torch.ones_like(batch)).logits.double()
        nll = sum(float(-torch.log_softmax(logits[k, p], dim=-1)[ids[p]]) for k, p in enumerate(positions))
        lines.append({"line": i, "tokens": len(positions), "nll": nll})
    total = sum(x["nll"] for x in lines)
    count = sum(x["tokens"] for x in lines)
    return {"lines": lines, "pseudo_perplexity": math.exp(total / count), "tokens": count}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "lines.txt"), "w") as f:
        f.write("\n".join(LINES) + "\n")
    folders = {"bert": tiny_bert(), "roberta": tiny_roberta()}
    refs = {"max_length": MAX_LENGTH}
    for name, folder in folders.items():
        refs[name] = {"exact": pseudo_perplexity(folder)}
    patch_threshold(0.1)
    import transformers.models.roberta.modeling_roberta as mr
    import transformers.models.bert.modeling_bert as mb
    mr.eager_attention_forward = mb.eager_attention_forward  # RoBERTa's layers call their module's copy
    for name, folder in folders.items():
        refs[name]["threshold_0.1"] = pseudo_perplexity(folder)
    with open(os.path.join(OUT, "references.json"), "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
    print(json.dumps({k: (v if k == "max_length" else {m: r["pseudo_perplexity"] for m, r in v.items()})
                      for k, v in refs.items()}))


if __name__ == "__main__":
    main()
