#!/usr/bin/env python3
"""Python reference for spiqa-eval's SQuAD v1.1 scoring (docs/reference-behaviour.md §3.2).

Re-implements the paper's evaluation (HF 3.1 QuestionAnsweringPipeline + squad_convert_examples_to_features,
non-training) on top of transformers 5.x / torch:

  * data: dev-v1.1 JSON keyed by context string (dict order), gold answers kept if normalize_answer(text) != ""
    (else [""]), flattened in file order; optional random.seed(123); random.sample(list, N);
  * features: SquadExample whitespace split (space, \\t, \\r, \\n, U+202F), each word tokenized on its own by the
    slow (python) BertTokenizer, query = encode(question, no specials, truncation, max_length=64),
    [CLS] Q [SEP] C_span [SEP] padded to 320, spans produced by HF 3.1's overflow loop (stride
    = max_seq_len - doc_stride - len(Q) - 3), all features of one question in one batch;
  * scoring: non-context/pad logits -> -10000, numpy softmax exp(x - log(sum(exp(x)))) in float32, p[0] = 0,
    outer product, np.tril(np.triu(outer), 14), argmax; best score across features (stable sort);
    answer = " ".join(doc_tokens[orig(s):orig(e)+1]);
  * metric: official EM / F1 (transformers.data.metrics.squad_metrics), max over gold answers.

Optional --threshold T prunes attention probabilities (p > T kept) in every layer (eager attention patched).

Usage: nice python3 scripts/squad_reference.py --model ../shared/models/minilm-squad \\
         --data ../shared/data/squad/dev-v1.1.json --limit 1000 --predictions out.jsonl
"""
import argparse, collections, json, random, re, string, sys, time

import numpy as np
import torch


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def compute_f1(a_gold, a_pred):
    gold_toks, pred_toks = get_tokens(a_gold), get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def load_squad(path):
    """§3.2 steps 1-2: dict keyed by context string, then flattened (context, question, answers, id)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    by_context = {}
    for article in data:
        for para in article["paragraphs"]:
            qas = []
            for qa in para["qas"]:
                golds = [a["text"] for a in qa["answers"] if normalize_answer(a["text"])]
                qas.append({"question": qa["question"], "answers": golds or [""], "id": qa["id"]})
            by_context[para["context"]] = qas
    flat = []
    for ctx, qas in by_context.items():
        for qa in qas:
            flat.append((ctx, qa["question"], qa["answers"], qa["id"]))
    return flat


def is_whitespace(c):
    return c == " " or c == "\t" or c == "\r" or c == "\n" or ord(c) == 0x202F


def split_doc(context):
    doc_tokens, prev_ws = [], True
    for c in context:
        if is_whitespace(c):
            prev_ws = True
        else:
            if prev_ws:
                doc_tokens.append(c)
            else:
                doc_tokens[-1] += c
            prev_ws = False
    return doc_tokens


def featurize(tok, question, context, max_seq_len=320, doc_stride=128, max_query_len=64):
    """HF 3.1 squad_convert_example_to_features (is_training=False, padding max_length) for a BERT tokenizer."""
    doc_tokens = split_doc(context)
    tok_to_orig, all_doc = [], []
    for i, word in enumerate(doc_tokens):
        for sub in tok.tokenize(word):
            tok_to_orig.append(i)
            all_doc.append(sub)
    all_doc_ids = tok.convert_tokens_to_ids(all_doc)
    query = tok.encode(question, add_special_tokens=False)[:max_query_len]
    added, pair_added = 2, 3  # [CLS] Q [SEP] ; [CLS] Q [SEP] C [SEP]
    feats, span_ids, start = [], all_doc_ids, 0
    while len(feats) * doc_stride < len(all_doc_ids):
        # encode_plus(query, span, truncation="only_second", max_length, stride, return_overflowing_tokens)
        stride = max_seq_len - doc_stride - len(query) - pair_added
        total = len(query) + len(span_ids) + pair_added
        overflow = []
        kept = span_ids
        if total > max_seq_len:
            remove = total - max_seq_len
            window = min(len(span_ids), stride + remove)
            overflow = span_ids[-window:]
            kept = span_ids[:-remove]
        ids = [tok.cls_token_id] + query + [tok.sep_token_id] + kept + [tok.sep_token_id]
        types = [0] * (len(query) + 2) + [1] * (len(kept) + 1)
        n = len(ids)
        paragraph_len = min(len(all_doc_ids) - len(feats) * doc_stride, max_seq_len - len(query) - pair_added)
        orig_map = {len(query) + added + i: tok_to_orig[len(feats) * doc_stride + i] for i in range(paragraph_len)}
        p_mask = [1] * (len(query) + added) + [0] * (max_seq_len - len(query) - added)
        p_mask[n - 1] = 1  # final [SEP] (special token); pads keep 0 (HF 3.1's pad lookup on a list never matches)
        p_mask[0] = 0
        pad = max_seq_len - n
        feats.append({
            "input_ids": ids + [tok.pad_token_id] * pad,
            "token_type_ids": types + [0] * pad,
            "attention_mask": [1] * n + [0] * pad,
            "p_mask": p_mask,
            "orig_map": orig_map,
            "n": n,
        })
        if not overflow:
            break
        span_ids = overflow
    return doc_tokens, feats


def decode_feature(start, end, feat, max_answer_len=15):
    p_mask = np.array(feat["p_mask"])
    undesired = np.abs(p_mask - 1) & np.array(feat["attention_mask"])
    mask = undesired == 0.0
    start = np.where(mask, -10000.0, start).astype(np.float32)
    end = np.where(mask, -10000.0, end).astype(np.float32)
    start = np.exp(start - np.log(np.sum(np.exp(start), axis=-1, keepdims=True)))
    end = np.exp(end - np.log(np.sum(np.exp(end), axis=-1, keepdims=True)))
    start[0] = end[0] = 0.0
    outer = np.matmul(np.expand_dims(start[None], -1), np.expand_dims(end[None], 1))
    cand = np.tril(np.triu(outer), max_answer_len - 1)
    idx = np.argmax(cand.flatten())
    s, e = np.unravel_index([idx], cand.shape)[1:]
    return int(s[0]), int(e[0]), float(cand[0, s[0], e[0]])


def patch_threshold(threshold):
    import transformers.models.bert.modeling_bert as mb
    orig = mb.eager_attention_forward

    def patched(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kw):
        if scaling is None:
            scaling = query.size(-1) ** -0.5
        w = torch.matmul(query, key.transpose(2, 3)) * scaling
        if attention_mask is not None:
            w = w + attention_mask
        w = torch.nn.functional.softmax(w, dim=-1)
        w = w * (w > threshold)
        out = torch.matmul(w, value).transpose(1, 2).contiguous()
        return out, w

    mb.eager_attention_forward = patched
    return orig


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="../shared/models/minilm-squad")
    ap.add_argument("--data", default="../shared/data/squad/dev-v1.1.json")
    ap.add_argument("--samples", type=int, default=-1, help="random.seed(123); random.sample(list, N)")
    ap.add_argument("--limit", type=int, default=-1)
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--predictions", help="per-question JSON lines output")
    args = ap.parse_args()

    from transformers import BertForQuestionAnswering
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    torch.set_num_threads(args.threads)
    tok = BertTokenizerLegacy.from_pretrained(args.model)
    model = BertForQuestionAnswering.from_pretrained(args.model, attn_implementation="eager").float().eval()
    if args.threshold > 0:
        patch_threshold(args.threshold)

    flat = load_squad(args.data)
    indices = list(range(len(flat)))
    if args.samples > 0:
        random.seed(123)
        indices = random.sample(indices, args.samples)
    else:
        indices = indices[args.offset:]
        if args.limit >= 0:
            indices = indices[:args.limit]

    out = open(args.predictions, "w") if args.predictions else None
    em_sum = f1_sum = 0.0
    t0 = time.time()
    for k, qi in enumerate(indices):
        context, question, golds, qid = flat[qi]
        doc_tokens, feats = featurize(tok, question, context)
        with torch.no_grad():
            batch = {key: torch.tensor([f[key] for f in feats]) for key in ("input_ids", "token_type_ids", "attention_mask")}
            res = model(**batch)
        starts, ends = res.start_logits.numpy(), res.end_logits.numpy()
        answers = []
        for f, st, en in zip(feats, starts, ends):
            s, e, score = decode_feature(st, en, f)
            om = f["orig_map"]
            answers.append({"score": score, "answer": " ".join(doc_tokens[om[s]:om[e] + 1]), "s": s, "e": e})
        best_i = max(range(len(answers)), key=lambda i: (answers[i]["score"], -i))
        best = answers[best_i]
        em = max(compute_exact(g, best["answer"]) for g in golds)
        f1 = max(compute_f1(g, best["answer"]) for g in golds)
        em_sum += em
        f1_sum += f1
        if out:
            out.write(json.dumps({"index": qi, "id": qid, "prediction": best["answer"], "em": em, "f1": round(f1, 6),
                                  "score": best["score"], "feature": best_i, "start": best["s"], "end": best["e"],
                                  "features": len(feats)}, sort_keys=True) + "\n")
        if (k + 1) % 50 == 0:
            print(f"{k + 1}/{len(indices)} EM {100 * em_sum / (k + 1):.4f} F1 {100 * f1_sum / (k + 1):.4f} "
                  f"{time.time() - t0:.0f}s", file=sys.stderr)
    n = len(indices)
    print(json.dumps({"task": "squad", "model": args.model, "n": n, "em": 100 * em_sum / n, "f1": 100 * f1_sum / n,
                      "threshold": args.threshold, "samples": args.samples, "offset": args.offset,
                      "limit": args.limit, "seconds": round(time.time() - t0, 2)}, sort_keys=True))


if __name__ == "__main__":
    main()
