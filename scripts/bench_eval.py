#!/usr/bin/env python3
"""Transformers side of `spiqa-bench eval`: SQuAD questions/s of scripts/squad_reference.py's pipeline
(slow BertTokenizer featurization, eager BertForQuestionAnswering, numpy span decoding, official EM/F1) on the
first N dev questions after one warm-up question.

Usage: python3 scripts/bench_eval.py [--questions 50] [--threads 2] [--model DIR] [--data PATH]
"""
import argparse, os, sys, time

sys.path.insert(0, os.path.dirname(__file__))

# The shared data folder when $SPIQA_SHARED is unset or empty: ../shared beside this package (DefaultPaths).
SHARED_BESIDE_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared")


def main():
    shared = os.environ.get("SPIQA_SHARED") or SHARED_BESIDE_ROOT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=shared + "/models/minilm-squad")
    ap.add_argument("--data", default=shared + "/data/squad/dev-v1.1.json")
    ap.add_argument("--questions", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        import numpy as np
        import torch
        from transformers import BertForQuestionAnswering
        from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
        from squad_reference import compute_exact, compute_f1, decode_feature, featurize, load_squad
    except ImportError as e:
        print(f"eval (transformers): skipped ({e})")
        return
    if not os.path.exists(args.model + "/config.json"):
        print(f"eval (transformers): skipped (no {args.model})")
        return
    torch.set_num_threads(args.threads)
    tok = BertTokenizerLegacy.from_pretrained(args.model)
    model = BertForQuestionAnswering.from_pretrained(args.model, attn_implementation="eager").float().eval()
    flat = load_squad(args.data)[: args.questions + 1]

    def one(item):
        context, question, golds, _ = item
        doc, feats = featurize(tok, question, context)
        with torch.no_grad():
            batch = {k: torch.tensor([f[k] for f in feats]) for k in ("input_ids", "token_type_ids", "attention_mask")}
            res = model(**batch)
        best = None
        for f, s, e in zip(feats, res.start_logits.numpy(), res.end_logits.numpy()):
            a, b, score = decode_feature(s, e, f)
            if best is None or score > best[0]:
                best = (score, " ".join(doc[f["orig_map"][a]:f["orig_map"][b] + 1]) if a in f["orig_map"] else "")
        return max(compute_exact(g, best[1]) for g in golds), max(compute_f1(g, best[1]) for g in golds), len(feats)

    one(flat[0])
    t0 = time.time()
    em = f1 = nf = 0
    for item in flat[1:]:
        a, b, c = one(item)
        em, f1, nf = em + a, f1 + b, nf + c
    s = time.time() - t0
    n = len(flat) - 1
    print(f"eval (transformers {torch.__version__}, {args.threads} threads): squad exact: {n} questions ({nf} features) "
          f"in {s:.2f} s = {n / s:.2f} questions/s, {nf / s:.2f} features/s (EM {100 * em / n:.2f}, F1 {100 * f1 / n:.2f})")


if __name__ == "__main__":
    main()
