#!/usr/bin/env python3
"""Fit a masked-LM head on the frozen all-MiniLM-L6-v2 encoder, for real `spiqa-eval --task mlm` numbers offline.

No masked-LM checkpoint is reachable here (the paper's is roberta-base on the Hub), and all-MiniLM-L6-v2 ships its
encoder without the LM head. This fits only BERT's prediction head — `cls.predictions.transform` (dense 384 → 384,
GELU, LayerNorm) and the output bias — on top of the frozen encoder; the decoder is the encoder's (frozen) word
embeddings, tied as in BertForMaskedLM. So the attention being pruned or quantized is the sentence-transformer's own,
unchanged; only the read-out is new. It is a small model of a masked LM, not a substitute for roberta-base.

Text: the distinct SQuAD v1.1 dev contexts (the only English prose in ../shared), in file order. All but the last 200
train the head; the last 200 are held out and written to <out>/heldout.txt, one per line, for `spiqa-eval --task mlm`.
Training: windows of 126 word pieces ([CLS] … [SEP] = 128 tokens), 15 % of the real tokens replaced by [MASK] (fresh
masks every epoch), cross-entropy on the masked tokens, AdamW; seeded (torch and Python), so a rerun on the same
torch build gives the same head.

Writes <out>/ (default models/minilm-mlm, git-ignored): config.json (BertForMaskedLM), model.safetensors (f32, tied
decoder left out as save_pretrained does), the tokenizer files, heldout.txt and reference.json: the pseudo-perplexity
transformers gives on the first --check-lines held-out lines (every token masked in turn, cut at 128 tokens: what
`spiqa-eval --task mlm --limit N` computes; `MaskedLMHeadTests` compares spiqa with it when the folder exists).
Prints the training loss per epoch.

Usage: python3 scripts/fit_mlm_head.py [--epochs 4] [--out models/minilm-mlm] [--check-lines 10] [--check-only]
       (needs torch, transformers; 15–20 minutes on 2 cores; --check-only rewrites reference.json from <out>)
"""
import argparse
import json
import math
import os
import random

import torch
from transformers import AutoTokenizer, BertForMaskedLM

HELD_OUT = 200
WINDOW = 126  # word pieces per training window, plus [CLS] and [SEP]
MASK_RATE = 0.15


def contexts(squad_path):
    seen, out = set(), []
    for article in json.load(open(squad_path))["data"]:
        for p in article["paragraphs"]:
            c = " ".join(p["context"].split())
            if c not in seen:
                seen.add(c)
                out.append(c)
    return out


def windows(tok, texts):
    out = []
    for t in texts:
        ids = tok(t, add_special_tokens=False)["input_ids"]
        for i in range(0, len(ids), WINDOW):
            piece = ids[i:i + WINDOW]
            if len(piece) >= 16:
                out.append([tok.cls_token_id] + piece + [tok.sep_token_id])
    return out


def pseudo_perplexity(model, tok, lines, max_length=128):
    """exp(Σ −log p / Σ tokens), every real token masked in turn, all copies of a line as one batch."""
    nll, count = 0.0, 0
    model.eval()
    for line in lines:
        ids = tok(line, truncation=True, max_length=max_length)["input_ids"]
        n = len(ids)
        if n <= 2:
            continue
        batch = torch.tensor([ids] * (n - 2))
        positions = torch.arange(1, n - 1)
        batch[torch.arange(n - 2), positions] = tok.mask_token_id
        with torch.no_grad():
            logits = model(input_ids=batch).logits[torch.arange(n - 2), positions]
        logp = torch.log_softmax(logits.double(), dim=-1)
        nll -= logp[torch.arange(n - 2), torch.tensor(ids[1:n - 1])].sum().item()
        count += n - 2
    return math.exp(nll / count), count


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.environ.get("SPIQA_MODEL", os.path.join(root, "models/all-MiniLM-L6-v2")))
    ap.add_argument("--shared", default=os.environ.get("SPIQA_SHARED", os.path.join(root, "../shared")))
    ap.add_argument("--out", default=os.path.join(root, "models/minilm-mlm"))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check-lines", type=int, default=10)
    ap.add_argument("--check-only", action="store_true", help="no training: reference.json for the model in --out")
    a = ap.parse_args()
    torch.manual_seed(0)
    random.seed(0)
    torch.set_num_threads(a.threads)

    if a.check_only:
        tok = AutoTokenizer.from_pretrained(a.out)
        model = BertForMaskedLM.from_pretrained(a.out, attn_implementation="eager", dtype=torch.float32)
        held = open(os.path.join(a.out, "heldout.txt")).read().splitlines()
        write_reference(model, tok, held, a)
        return
    tok = AutoTokenizer.from_pretrained(a.model)
    model = BertForMaskedLM.from_pretrained(a.model, attn_implementation="eager", dtype=torch.float32)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight, "decoder not tied"
    for p in model.bert.parameters():
        p.requires_grad_(False)
    head = [p for p in model.cls.predictions.parameters() if p.requires_grad]
    print(f"trainable: {sum(p.numel() for p in head):,} parameters (the prediction head; encoder and decoder frozen)")

    texts = contexts(os.path.join(a.shared, "data/squad/dev-v1.1.json"))
    train, held = texts[:-HELD_OUT], texts[-HELD_OUT:]
    data = windows(tok, train)
    print(f"{len(texts)} distinct SQuAD dev contexts: {len(train)} train ({len(data)} windows), {len(held)} held out")

    opt = torch.optim.AdamW(head, lr=a.lr, weight_decay=0.01)
    steps = a.epochs * math.ceil(len(data) / a.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100) * max(0.05, 1 - s / steps))
    model.bert.eval()  # frozen: no dropout in the encoder
    model.cls.train()
    for epoch in range(a.epochs):
        order = list(range(len(data)))
        random.shuffle(order)
        total, tokens = 0.0, 0
        for i in range(0, len(order), a.batch):
            rows = [data[k] for k in order[i:i + a.batch]]
            t = max(len(r) for r in rows)
            ids = torch.tensor([r + [tok.pad_token_id] * (t - len(r)) for r in rows])
            attention = torch.tensor([[1] * len(r) + [0] * (t - len(r)) for r in rows])
            real = attention.bool() & (ids != tok.cls_token_id) & (ids != tok.sep_token_id)
            masked = real & (torch.rand(ids.shape) < MASK_RATE)
            inputs = ids.masked_fill(masked, tok.mask_token_id)
            with torch.no_grad():
                hidden = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
            logits = model.cls(hidden[masked])
            loss = torch.nn.functional.cross_entropy(logits, ids[masked])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * int(masked.sum())
            tokens += int(masked.sum())
        print(f"epoch {epoch + 1}/{a.epochs}: masked-token cross-entropy {total / tokens:.3f} "
              f"(perplexity {math.exp(total / tokens):.1f}) over {tokens} tokens")

    os.makedirs(a.out, exist_ok=True)
    model.save_pretrained(a.out, safe_serialization=True)
    tok.save_pretrained(a.out)
    with open(os.path.join(a.out, "heldout.txt"), "w") as f:
        f.write("\n".join(held) + "\n")
    print(f"wrote {a.out}")
    write_reference(model, tok, held, a)


def write_reference(model, tok, held, a):
    ppl, count = pseudo_perplexity(model, tok, held[:a.check_lines])
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump({"lines": a.check_lines, "max_length": 128, "tokens": count, "pseudo_perplexity": ppl,
                   "torch": torch.__version__}, f, indent=2)
    print(f"transformers pseudo-perplexity on the first {a.check_lines} held-out lines "
          f"(cut at 128 tokens, {count} masked tokens): {ppl:.6f} (reference.json)")


if __name__ == "__main__":
    main()
