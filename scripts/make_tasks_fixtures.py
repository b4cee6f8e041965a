#!/usr/bin/env python3
"""Fixtures for Tests/SpiqaTasksTests (no torch needed): Python's random.sample and the official SQuAD metric.

Writes Tests/SpiqaTasksTests/Fixtures/python_sample.json: [{"n", "k", "seed", "indices"}] from
`random.seed(seed); random.sample(range(n), k)` for (n, k) pairs covering both of CPython's branches
(pool when n <= setsize, set otherwise) and getrandbits with more than 32 bits, and squad_metric.json:
[{"gold", "prediction", "normalized_gold", "normalized_prediction", "em", "f1"}] from the official functions,
and squad_features_toy.json: squad_reference.featurize (HF 3.1's overflow loop) run with ToyTokenizer (each word
cut into pieces of up to 3 characters; ids from the characters) on long synthetic contexts, so the Swift
featurizer's span logic is checked without a real vocabulary. With --with-tokens (needs transformers and
../shared) also squad_tokens_first20.json, the slow BertTokenizer's ids of every word and question of the first 20
dev questions.
"""
import json, os, random, sys

sys.path.insert(0, os.path.dirname(__file__))
from squad_reference import compute_exact, compute_f1, featurize, normalize_answer  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SpiqaTasksTests", "Fixtures")

CASES = [(10570, 100, 123), (10570, 1000, 123), (10570, 5, 123), (10570, 6, 123), (1000, 1, 123),
         (20, 3, 123), (21, 21, 123), (22, 5, 123), (50, 10, 123), (84, 10, 123), (85, 10, 123), (86, 10, 123),
         (100, 30, 123), (872, 872, 123), (872, 40, 123), (10570, 10570, 123), (1, 1, 123), (7, 0, 123),
         (2 ** 33, 5, 123), (2 ** 40 + 7, 8, 123), (10570, 100, 0), (10570, 100, 2 ** 40 + 5)]

PAIRS = [("Denver Broncos", "denver broncos"), ("the Broncos", "Broncos!"), ("An apple a day", "apple day"),
         ("a", ""), ("The", "the the"), ("Saint-Étienne", "saint étienne"), ("théâtre anal", "theatre"),
         ("an_a the1 a's", "an_a the1 s"), ("New  York\u00a0City", "new york city"), ("1,000", "1000"),
         ("Super Bowl 50", "Bowl 50 Super Bowl"), ("a b a b", "b b a"), ("«the» answer", "answer"),
         ("ÀN apple", "àn apple"), ("x", "y"), ("the cat the cat", "cat cat cat")]


class ToyTokenizer:
    """Deterministic stand-in: lower-case, pieces of <= 3 chars, id = 10 + (sum of code points * 7) % 997."""
    cls_token_id, sep_token_id, pad_token_id = 1, 2, 0

    def tokenize(self, text):
        out = []
        for word in text.split():
            w = word.lower()
            out += [w[i:i + 3] for i in range(0, len(w), 3)]
        return out

    def convert_tokens_to_ids(self, tokens):
        return [10 + (sum(map(ord, t)) * 7) % 997 for t in tokens]

    def encode(self, text, add_special_tokens=False):
        return self.convert_tokens_to_ids(self.tokenize(text))


def toy_features():
    import random as r
    rng = r.Random(5)
    vocab = ["alpha", "be", "gamma-ray", "d", "epsilonic", "zeta's", "eta,", "theta.", "iota\u00e9", "kappa"]
    cases = []
    for words, qwords, msl, stride, mql in [(40, 5, 64, 16, 12), (300, 8, 320, 128, 64), (900, 30, 320, 128, 64),
                                            (700, 70, 320, 128, 64), (120, 3, 48, 20, 10), (10, 4, 320, 128, 64),
                                            (500, 10, 128, 96, 20), (0, 3, 320, 128, 64)]:
        seps = [" ", " ", " ", "\t", "\n", "  ", "\u202f", "\u00a0"]
        context = "".join(rng.choice(vocab) + rng.choice(seps) for _ in range(words))
        question = " ".join(rng.choice(vocab) for _ in range(qwords)) + "?"
        tok = ToyTokenizer()
        doc, feats = featurize(tok, question, context, max_seq_len=msl, doc_stride=stride, max_query_len=mql)
        cases.append({"context": context, "question": question, "max_seq_len": msl, "doc_stride": stride,
                      "max_query_len": mql, "doc_tokens": doc,
                      "features": [{"input_ids": f["input_ids"][:f["n"]], "token_type_ids": f["token_type_ids"][:f["n"]],
                                    "n": f["n"], "orig_map": sorted(f["orig_map"].items()),
                                    "allowed": [i for i in range(msl) if (1 - f["p_mask"][i]) & f["attention_mask"][i]]}
                                   for f in feats]})
    return cases


def main():
    samples = []
    for n, k, seed in CASES:
        random.seed(seed)
        samples.append({"n": n, "k": k, "seed": seed, "indices": random.sample(range(n), k)})
    with open(os.path.join(OUT, "python_sample.json"), "w") as f:
        json.dump(samples, f, separators=(",", ":"))
    metric = [{"gold": g, "prediction": p, "normalized_gold": normalize_answer(g),
               "normalized_prediction": normalize_answer(p), "em": compute_exact(g, p), "f1": compute_f1(g, p)}
              for g, p in PAIRS]
    with open(os.path.join(OUT, "squad_metric.json"), "w") as f:
        json.dump(metric, f, indent=1, ensure_ascii=False)
    with open(os.path.join(OUT, "squad_features_toy.json"), "w") as f:
        json.dump(toy_features(), f, separators=(",", ":"))




def tokenizer_lookup(model="../shared/models/minilm-squad", data="../shared/data/squad/dev-v1.1.json", count=20):
    """squad_tokens_first20.json: {text: ids} for every whitespace word and question of the first `count` dev
    questions, from the slow BertTokenizer (lets the Swift tests check featurization + model without a tokenizer)."""
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
    from squad_reference import load_squad, split_doc
    tok = BertTokenizerLegacy.from_pretrained(model)
    table = {}
    for context, question, _, _ in load_squad(data)[:count]:
        for w in split_doc(context):
            table[w] = tok.convert_tokens_to_ids(tok.tokenize(w))
        table[question] = tok.encode(question, add_special_tokens=False)
    with open(os.path.join(OUT, "squad_tokens_first20.json"), "w") as f:
        json.dump(table, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main()
    if "--with-tokens" in sys.argv:
        tokenizer_lookup()
