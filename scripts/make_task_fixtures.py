#!/usr/bin/env python3
"""Fixtures and references for the task registry tests (Tests/SpiqaTasksTests/Fixtures/tasks/).

Writes (the slow tokenizer is asked for token types: the fast one, which run_glue uses, returns them)
  * small GLUE dev files in the official TSV layouts (CoLA without header, SST-2, MRPC, QQP, STS-B, MNLI matched and
    mismatched, QNLI, RTE, WNLI), the RTE rows again as CSV and JSON lines for `--task classify`, and a small
    SQuAD v2.0 JSON with unanswerable questions;
  * tiny random BERT checkpoints (F16 safetensors, a WordPiece vocabulary built from the fixture text): `cls2`
    (id2label LABEL_0/1), `nli2` (not_entailment/entailment: the reverse of the GLUE order), `nli3`
    (CONTRADICTION/NEUTRAL/ENTAILMENT), `reg` (one regression output) and `qa` (question answering);
  * references.json: what transformers (slow BertTokenizerLegacy, eager attention, f32) predicts on them, scored
    with the scikit-learn / SciPy metric definitions the `evaluate` GLUE metric uses, and SQuAD v2.0 decoded as
    transformers' run_qa (`postprocess_qa_predictions`, version_2_with_negative) and scored as the official v2.0
    script.

The readers here follow the old transformers GLUE processors (columns by position), independently of spiqa's
header-name reader. Sentence batches of 4 (`batch`), at most 32 tokens (`max_length`, so the long pairs are
truncated longest-first); one run with attention pruned (p > 0.1 kept, every layer) checks the transform on pairs.

Usage: python3 scripts/make_task_fixtures.py [--out Tests/SpiqaTasksTests/Fixtures/tasks]
"""
import argparse, collections, csv, json, os, re, string, sys

import numpy as np
import torch
from safetensors.torch import save_file
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import squad_reference as sr  # noqa: E402  (featurization of §3.2, normalisation, EM/F1)

BATCH, MAX_LENGTH = 4, 32
S = [
    ("The cat sat on the mat.", "A cat was sitting on a mat."),
    ("A man is playing a guitar.", "Nobody is playing music."),
    ("The weather is cold today.", "It is warm and sunny outside today."),
    ("She bought three red apples at the market.", "She bought apples."),
    ("The book was written by a famous author.", "A famous author wrote the book."),
    ("Dogs are running in the park.", "The park is empty."),
    ("He did not go to school yesterday because he was sick and stayed at home with his mother and the dog.",
     "He was at school."),
    ("The train arrives at noon.", "The train is late again and will arrive in the evening after the long delay."),
    ("Birds sing in the morning.", "In the morning birds sing."),
    ("The children read the story.", "The story was read by the children."),
]


def tsv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        if header:
            f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


def write_glue(out):
    """The GLUE files: (task, path, rows as the processors read them: (a, b, label))."""
    g = os.path.join(out, "glue")
    os.makedirs(g, exist_ok=True)
    bits = [1, 0, 0, 1, 1, 0, 0, 1, 1, 1]
    nli = ["entailment", "contradiction", "contradiction", "entailment", "entailment", "contradiction", "neutral",
           "neutral", "entailment", "entailment"]
    two = ["entailment", "not_entailment", "not_entailment", "entailment", "entailment", "not_entailment",
           "not_entailment", "not_entailment", "entailment", "entailment"]
    scores = [4.6, 0.4, 1.0, 2.8, 4.8, 0.2, 0.0, 1.6, 5.0, 4.4]
    tsv(f"{g}/CoLA.tsv", None, [(f"src{i}", b, "*" if not b else "", a) for i, ((a, _), b) in enumerate(zip(S, bits))])
    tsv(f"{g}/SST-2.tsv", ["sentence", "label"], [(a + " ", b) for (a, _), b in zip(S, bits)])
    tsv(f"{g}/MRPC.tsv", ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"],
        [(b, 100 + i, 200 + i, a, c) for i, ((a, c), b) in enumerate(zip(S, bits))])
    tsv(f"{g}/QQP.tsv", ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"],
        [(i, 2 * i, 2 * i + 1, a, c, b) for i, ((a, c), b) in enumerate(zip(S, bits))])
    tsv(f"{g}/STS-B.tsv", ["index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1",
                           "sentence2", "score"],
        [(i, "main-captions", "MSRvid", "2012test", f"{i:04d}", "none", "none", a, c, f"{s:.3f}")
         for i, ((a, c), s) in enumerate(zip(S, scores))])
    mnli_header = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
                   "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "label1", "label2", "label3",
                   "label4", "label5", "gold_label"]
    for name, rows in (("MNLI-m", S), ("MNLI-mm", S[::-1])):
        labels = nli if name == "MNLI-m" else nli[::-1]
        tsv(f"{g}/{name}.tsv", mnli_header,
            [(i, 1000 + i, f"{i}e", "fiction", "( x )", "( y )", "(ROOT x)", "(ROOT y)", a, c, l, l, l, l, l, l)
             for i, ((a, c), l) in enumerate(zip(rows, labels))])
    tsv(f"{g}/QNLI.tsv", ["index", "question", "sentence", "label"],
        [(i, c, a, l) for i, ((a, c), l) in enumerate(zip(S, two))])
    tsv(f"{g}/RTE.tsv", ["index", "sentence1", "sentence2", "label"],
        [(i, a, c, l) for i, ((a, c), l) in enumerate(zip(S, two))])
    tsv(f"{g}/WNLI.tsv", ["index", "sentence1", "sentence2", "label"],
        [(i, a, c, b) for i, ((a, c), b) in enumerate(zip(S, bits))])
    # RTE again for --task classify.
    with open(f"{out}/rte.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["premise", "hypothesis", "gold"])
        for (a, c), l in zip(S, two):
            w.writerow([a, c, l])
    with open(f"{out}/rte.jsonl", "w", encoding="utf-8") as f:
        for (a, c), l in zip(S, two):
            f.write(json.dumps({"premise": a, "hypothesis": c, "gold": l}) + "\n")
    # The old transformers processors: columns by position.
    def read(name, ia, ib, il, header=True):
        with open(f"{g}/{name}.tsv", encoding="utf-8") as f:
            lines = list(csv.reader(f, delimiter="\t", quotechar=None))
        return [(l[ia], l[ib] if ib is not None else None, l[il]) for l in (lines[1:] if header else lines)]
    return {
        "cola": (read("CoLA", 3, None, 1, header=False), ["0", "1"], "cls2"),
        "sst2": (read("SST-2", 0, None, 1), ["0", "1"], "cls2"),
        "mrpc": (read("MRPC", 3, 4, 0), ["0", "1"], "cls2"),
        "qqp": (read("QQP", 3, 4, 5), ["0", "1"], "cls2"),
        "stsb": (read("STS-B", 7, 8, -1), None, "reg"),
        "mnli": (read("MNLI-m", 8, 9, -1), ["entailment", "neutral", "contradiction"], "nli3"),
        "mnli_mismatched": (read("MNLI-mm", 8, 9, -1), ["entailment", "neutral", "contradiction"], "nli3"),
        "qnli": (read("QNLI", 1, 2, -1), ["entailment", "not_entailment"], "nli2"),
        "rte": (read("RTE", 1, 2, -1), ["entailment", "not_entailment"], "nli2"),
        "wnli": (read("WNLI", 1, 2, -1), ["0", "1"], "cls2"),
    }


SQUAD_V2 = {"version": "v2.0", "data": [
    {"title": "Trains", "paragraphs": [{
        "context": "The old railway station of the town was built in 1880 by a company from the north. It served "
                   "passengers for almost a century before the line was closed. Today the station building is a "
                   "small museum about trains, with a red engine in front of it and a cafe on the first floor.",
        "qas": [
            {"id": "t1", "question": "When was the station built?", "is_impossible": False,
             "answers": [{"text": "1880", "answer_start": 49}, {"text": "in 1880", "answer_start": 46}]},
            {"id": "t2", "question": "What is the station today?", "is_impossible": False,
             "answers": [{"text": "a small museum about trains", "answer_start": 0}]},
            {"id": "t3", "question": "Who closed the airport?", "is_impossible": True, "answers": [],
             "plausible_answers": [{"text": "a company", "answer_start": 0}]},
            {"id": "t4", "question": "What color is the engine?", "is_impossible": False,
             "answers": [{"text": "red", "answer_start": 0}]},
            {"id": "t5", "question": "How many passengers used the museum last year?", "is_impossible": True,
             "answers": []},
        ]}]},
    {"title": "Birds", "paragraphs": [{
        "context": "Birds sing in the morning to mark their territory. Some birds, such as the robin, sing even "
                   "at night near street lights.",
        "qas": [
            {"id": "b1", "question": "Why do birds sing in the morning?", "is_impossible": False,
             "answers": [{"text": "to mark their territory", "answer_start": 0}]},
            {"id": "b2", "question": "Which bird sings at night?", "is_impossible": False,
             "answers": [{"text": "the robin", "answer_start": 0}]},
            {"id": "b3", "question": "What do fish sing?", "is_impossible": True, "answers": []},
        ]}]},
]}
SQUAD_SETTINGS = {"max_seq_len": 48, "doc_stride": 16, "max_query_len": 16, "max_answer_len": 15}


def build_vocab(out, texts):
    from transformers.models.bert.tokenization_bert_legacy import BasicTokenizer
    basic = BasicTokenizer(do_lower_case=True)
    words = collections.Counter(w for t in texts for w in basic.tokenize(t))
    chars = sorted(set(string.ascii_lowercase + string.digits + string.punctuation))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in string.ascii_lowercase
                                                                      + string.digits]
    vocab += sorted(w for w, n in words.items() if n >= 2 and w not in vocab)
    return vocab


def tiny_roberta(out, texts):
    """A tiny RoBERTa (pairs without token types) with a byte-level BPE trained on the fixture text."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForSequenceClassification
    folder = os.path.join(out, "tiny-roberta-nli2")
    os.makedirs(folder, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=400, min_frequency=2,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe.save_model(folder)
    with open(os.path.join(folder, "vocab.json")) as f:
        n = len(json.load(f))
    model = RobertaForSequenceClassification(RobertaConfig(
        vocab_size=n, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        layer_norm_eps=1e-5, hidden_act="gelu", attn_implementation="eager",
        id2label={0: "not_entailment", 1: "entailment"}, label2id={"not_entailment": 0, "entailment": 1},
        architectures=["RobertaForSequenceClassification"]))
    g = torch.Generator().manual_seed(8)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g) if "LayerNorm.weight" in pname
                    else 0.3 * torch.randn(p.shape, generator=g))
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    c = model.config.to_dict()
    c["dtype"] = "float16"
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)


def tiny_models(out, vocab):
    from transformers import BertConfig, BertForQuestionAnswering, BertForSequenceClassification
    heads = {
        "cls2": {"0": "LABEL_0", "1": "LABEL_1"},
        "nli2": {"0": "not_entailment", "1": "entailment"},
        "nli3": {"0": "CONTRADICTION", "1": "NEUTRAL", "2": "ENTAILMENT"},
        "reg": {"0": "LABEL_0"},
        "qa": None,
    }
    for name, id2label in heads.items():
        cfg = dict(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, pad_token_id=0,
                   hidden_act="gelu", attn_implementation="eager")
        if id2label is None:
            model = BertForQuestionAnswering(BertConfig(**cfg, architectures=["BertForQuestionAnswering"]))
        else:
            model = BertForSequenceClassification(BertConfig(
                **cfg, id2label={int(k): v for k, v in id2label.items()},
                label2id={v: int(k) for k, v in id2label.items()},
                problem_type="regression" if len(id2label) == 1 else "single_label_classification",
                architectures=["BertForSequenceClassification"]))
        g = torch.Generator().manual_seed(7)  # the same encoder in every checkpoint; heads differ by shape
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "LayerNorm.weight" in pname:
                    p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.3 * torch.randn(p.shape, generator=g))
        folder = os.path.join(out, f"tiny-{name}")
        os.makedirs(folder, exist_ok=True)
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
        save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
        c = model.config.to_dict()
        c["dtype"] = "float16"
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(c, f, indent=2, sort_keys=True)
        with open(os.path.join(folder, "vocab.txt"), "w") as f:
            f.write("\n".join(vocab) + "\n")
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump({"do_lower_case": True}, f)


def load(folder, cls):
    """The stored F16 weights computed in f32 (what spiqa does)."""
    from transformers import RobertaTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
    tok = RobertaTokenizer if "roberta" in folder else BertTokenizerLegacy
    return (tok.from_pretrained(folder),
            cls.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).float().eval())


def patch_threshold(threshold):
    import transformers.models.bert.modeling_bert as mb

    def patched(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kw):
        w = torch.matmul(query, key.transpose(2, 3)) * (scaling if scaling is not None else query.size(-1) ** -0.5)
        if attention_mask is not None:
            w = w + attention_mask
        w = torch.nn.functional.softmax(w, dim=-1)
        if threshold > 0:
            w = w * (w > threshold)
        return torch.matmul(w, value).transpose(1, 2).contiguous(), w

    mb.eager_attention_forward = patched


def glue_reference(out, name, rows, labels, model_name):
    from transformers import AutoModelForSequenceClassification
    tok, model = load(os.path.join(out, f"tiny-{model_name}"), AutoModelForSequenceClassification)
    id2label = [model.config.id2label[i] for i in range(model.config.num_labels)]
    preds, golds, logits_all = [], [], []
    for b in range(0, len(rows), BATCH):
        chunk = rows[b:b + BATCH]
        a = [r[0] for r in chunk]
        p = [r[1] for r in chunk] if chunk[0][1] is not None else None
        enc = tok(a, p, padding=True, truncation=True, max_length=MAX_LENGTH, return_token_type_ids=True, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits.numpy()
        for r, lg in zip(chunk, logits):
            logits_all.append([float(v) for v in lg])
            if labels is None:
                preds.append(float(lg[0]))
                golds.append(float(r[2]))
            else:
                k = int(lg.argmax())
                name_k = id2label[k]
                generic = all(n == f"LABEL_{i}" for i, n in enumerate(id2label))
                preds.append(k if generic else [l.lower() for l in labels].index(name_k.lower()))
                golds.append(labels.index(r[2]))
    res = {"n": len(rows), "predictions": preds, "logits": logits_all}
    if labels is None:
        res.update(pearson=float(pearsonr(preds, golds)[0]), spearmanr=float(spearmanr(preds, golds)[0]))
    else:
        res.update(accuracy=float(accuracy_score(golds, preds)), correct=int(sum(p == g for p, g in zip(preds, golds))),
                   matthews_correlation=float(matthews_corrcoef(golds, preds)))
        if len(labels) == 2:
            res["f1"] = float(f1_score(golds, preds))
    return res


def squad_v2_reference(out, path, threshold):
    """run_qa's postprocess_qa_predictions (version_2_with_negative, n_best 20) on §3.2's features; official v2."""
    from transformers import BertForQuestionAnswering
    tok, model = load(os.path.join(out, "tiny-qa"), BertForQuestionAnswering)
    st = dict(SQUAD_SETTINGS, null_threshold=threshold)
    data = json.load(open(path))["data"]
    preds, rows = [], []
    for article in data:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                doc, feats = sr.featurize(tok, qa["question"], para["context"], st["max_seq_len"], st["doc_stride"],
                                          st["max_query_len"])
                with torch.no_grad():
                    batch = {k: torch.tensor([f[k] for f in feats]) for k in
                             ("input_ids", "token_type_ids", "attention_mask")}
                    o = model(**batch)
                starts, ends = o.start_logits.numpy(), o.end_logits.numpy()
                prelim, null = [], None
                for fi, (f, s, e) in enumerate(zip(feats, starts, ends)):
                    ok = [i > 0 and f["p_mask"][i] == 0 and f["attention_mask"][i] == 1 for i in range(len(s))]
                    fnull = s[0] + e[0]
                    if null is None or null["score"] > fnull:
                        null = {"text": "", "score": fnull, "start_logit": s[0], "end_logit": e[0]}
                    for a in np.argsort(s)[-1:-21:-1].tolist():
                        for b in np.argsort(e)[-1:-21:-1].tolist():
                            if not ok[a] or not ok[b] or b < a or b - a + 1 > st["max_answer_len"]:
                                continue
                            om = f["orig_map"]
                            prelim.append({"text": " ".join(doc[om[a]:om[b] + 1]), "score": s[a] + e[b],
                                           "start_logit": s[a], "end_logit": e[b]})
                prelim.append(null)
                pr = sorted(prelim, key=lambda x: x["score"], reverse=True)[:20]
                if not any(p is null for p in pr):
                    pr.append(null)
                if len(pr) == 0 or (len(pr) == 1 and pr[0]["text"] == ""):
                    pr.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
                i = 0
                while pr[i]["text"] == "":
                    i += 1
                best = pr[i]
                diff = null["score"] - best["start_logit"] - best["end_logit"]
                text = "" if diff > st["null_threshold"] else best["text"]
                golds = [a["text"] for a in qa["answers"] if sr.normalize_answer(a["text"])] or [""]
                em = max(sr.compute_exact(g, text) for g in golds)
                f1 = max(sr.compute_f1(g, text) for g in golds)
                rows.append((bool(qa["answers"]), bool(text), em, f1))
                preds.append({"id": qa["id"], "prediction": text, "score_diff": float(diff), "em": em, "f1": f1,
                              "features": len(feats)})
    def mean(v):
        return 100.0 * sum(v) / len(v)
    def best_thresh(k):
        cur = best = sum(1 for r in rows if not r[0])
        for r in rows:  # every no_answer_probability is 0.0 (run_qa): the sort keeps the order
            cur += r[k] if r[0] else (-1 if r[1] else 0)
            best = max(best, cur)
        return 100.0 * best / len(rows)
    has, no = [r for r in rows if r[0]], [r for r in rows if not r[0]]
    return {"n": len(rows), "em": mean([r[2] for r in rows]), "f1": mean([r[3] for r in rows]),
            "has_ans_n": len(has), "has_ans_em": mean([r[2] for r in has]), "has_ans_f1": mean([r[3] for r in has]),
            "no_ans_n": len(no), "no_ans_em": mean([r[2] for r in no]), "no_ans_f1": mean([r[3] for r in no]),
            "best_em": best_thresh(2), "best_f1": best_thresh(3), "predictions": preds, "settings": st}


def metric_cases():
    """The metric definitions on fixed vectors: binary, three classes, constant predictions; ties for Spearman."""
    rng = np.random.default_rng(3)
    cases = []
    for labels, preds in (([0, 1, 1, 0, 1, 1, 0, 0, 1], [0, 1, 0, 0, 1, 1, 1, 0, 1]),
                          (rng.integers(0, 3, 40).tolist(), rng.integers(0, 3, 40).tolist()),
                          ([0, 1, 1, 0], [1, 1, 1, 1]), ([1, 0, 1], [0, 1, 0])):
        c = {"labels": labels, "predictions": preds, "accuracy": float(accuracy_score(labels, preds)),
             "matthews": float(matthews_corrcoef(labels, preds))}
        if max(labels + preds) <= 1:
            c["f1"] = float(f1_score(labels, preds, zero_division=0))
        cases.append(c)
    for x, y in (([1.0, 2.0, 2.0, 3.5, 0.25, 4.0], [0.5, 2.0, 1.0, 3.0, 0.0, 5.0]),
                 (rng.normal(size=30).round(2).tolist(), rng.normal(size=30).round(1).tolist())):
        cases.append({"x": x, "y": y, "pearson": float(pearsonr(x, y)[0]), "spearmanr": float(spearmanr(x, y)[0])})
    return cases


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(root, "Tests/SpiqaTasksTests/Fixtures/tasks"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)
    tasks = write_glue(a.out)
    squad_path = os.path.join(a.out, "squad-v2.json")
    with open(squad_path, "w") as f:
        json.dump(SQUAD_V2, f, indent=1)
    texts = [t for pair in S for t in pair] + [p["context"] + " " + q["question"] for art in SQUAD_V2["data"]
                                                for p in art["paragraphs"] for q in p["qas"]]
    vocab = build_vocab(a.out, texts)
    tiny_models(a.out, vocab)
    tiny_roberta(a.out, texts)
    refs = {"batch_size": BATCH, "max_length": MAX_LENGTH, "glue": {}}
    for name, (rows, labels, model_name) in tasks.items():
        refs["glue"][name] = dict(glue_reference(a.out, name, rows, labels, model_name), model=f"tiny-{model_name}")
    refs["squad_v2"] = squad_v2_reference(a.out, squad_path, 0.0)
    # A threshold between the score differences, so some questions get no answer.
    diffs = sorted(p["score_diff"] for p in refs["squad_v2"]["predictions"])
    refs["squad_v2_threshold"] = squad_v2_reference(a.out, squad_path, round((diffs[len(diffs) // 2 - 1] + diffs[len(diffs) // 2]) / 2, 3))
    refs["roberta_rte"] = dict(glue_reference(a.out, "rte", *tasks["rte"][:2], "roberta-nli2"),
                               model="tiny-roberta-nli2")
    refs["metrics"] = metric_cases()
    patch_threshold(0.1)
    refs["mnli_pruned"] = dict(glue_reference(a.out, "mnli", *tasks["mnli"][:2], "nli3"), threshold=0.1)
    with open(os.path.join(a.out, "references.json"), "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
    for name, r in refs["glue"].items():
        print(name, {k: v for k, v in r.items() if k not in ("logits",)})
    for k in ("squad_v2", "squad_v2_threshold"):
        print(k, {k: v for k, v in refs[k].items() if k != "predictions"})


if __name__ == "__main__":
    main()
