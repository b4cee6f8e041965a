#!/usr/bin/env python3
"""Python reference for spiqa-eval's SST-2 accuracy (docs/reference-behaviour.md §3.8, docs/evaluation.md).

GLUE SST-2 dev TSV (header `sentence\\tlabel`, 872 rows) in file order, batches of 20 padded to the longest
(`[CLS] s [SEP]`, truncation at 512), transformers eager attention, argmax of the logits == label.
--thresholds 0,1e-3,... re-runs with attention pruned on the fly (p > t kept, every layer and head) by patching
transformers' eager attention. Prints one JSON line per threshold; --predictions writes per-sentence JSON lines
for the first threshold.

Usage: nice python3 scripts/sst2_reference.py --model ../shared/models/minilm-sst2 \\
         --data ../shared/data/glue/SST-2/dev.tsv --thresholds 0,1e-3,1e-2,5e-2
"""
import argparse, csv, json, sys, time

import torch


def load_tsv(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines[0].split("\t") != ["sentence", "label"]:
        raise SystemExit(f"{path}: unexpected header {lines[0]!r}")
    rows = []
    for line in lines[1:]:
        if line == "":
            continue
        sentence, label = line.rsplit("\t", 1)
        rows.append((sentence, int(label)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="../shared/models/minilm-sst2")
    ap.add_argument("--data", default="../shared/data/glue/SST-2/dev.tsv")
    ap.add_argument("--thresholds", default="0")
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--predictions")
    args = ap.parse_args()

    import transformers.models.bert.modeling_bert as mb
    from transformers import BertForSequenceClassification
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    torch.set_num_threads(args.threads)
    tok = BertTokenizerLegacy.from_pretrained(args.model)
    model = BertForSequenceClassification.from_pretrained(args.model, attn_implementation="eager").float().eval()
    rows = load_tsv(args.data)
    state = {"t": 0.0}

    def patched(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kw):
        if scaling is None:
            scaling = query.size(-1) ** -0.5
        w = torch.matmul(query, key.transpose(2, 3)) * scaling
        if attention_mask is not None:
            w = w + attention_mask
        w = torch.nn.functional.softmax(w, dim=-1)
        if state["t"] > 0:
            w = w * (w > state["t"])
        return torch.matmul(w, value).transpose(1, 2).contiguous(), w

    mb.eager_attention_forward = patched
    for ti, t in enumerate(float(x) for x in args.thresholds.split(",")):
        state["t"] = t
        t0 = time.time()
        correct, preds = 0, []
        for b in range(0, len(rows), args.batch):
            chunk = rows[b:b + args.batch]
            enc = tok([s for s, _ in chunk], padding=True, truncation=True, max_length=512, return_tensors="pt")
            with torch.no_grad():
                logits = model(**enc).logits.numpy()
            for (s, label), lg in zip(chunk, logits):
                p = int(lg.argmax())
                correct += int(p == label)
                preds.append({"index": len(preds), "label": label, "prediction": p,
                              "logits": [round(float(v), 5) for v in lg]})
        if ti == 0 and args.predictions:
            with open(args.predictions, "w") as f:
                for p in preds:
                    f.write(json.dumps(p, sort_keys=True) + "\n")
        print(json.dumps({"task": "sst2", "model": args.model, "n": len(rows), "correct": correct,
                          "accuracy": correct / len(rows), "threshold": t,
                          "seconds": round(time.time() - t0, 2)}, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
