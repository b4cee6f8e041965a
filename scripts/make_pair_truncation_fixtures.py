#!/usr/bin/env python3
"""Reference lengths for pair truncation (Tests/SpiqaTokenizersTests/Fixtures/tokenizers/pair_truncation.json).

For every pair of segment lengths n1, n2 in 0..10 and every max_length in 3..16 (BERT layout, 3 special tokens),
the lengths `truncation="longest_first"` keeps of each segment:
  - slow: transformers' Python tokenizers (`PythonBackend.truncate_sequences`, as PreTrainedTokenizer in
    transformers 3-4);
  - fast: the Rust tokenizers library (what AutoTokenizer loads): a word-level tokenizer over "a" and "b" with
    BERT's post-processor, encoding "a a …" with "b b …" under enable_truncation(max_length).
Needs only `pip install transformers tokenizers` (no torch).

Usage: python3 scripts/make_pair_truncation_fixtures.py [--out FILE]
"""
import argparse
import json
import os
import types

from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import PythonBackend
from transformers.utils import logging

SPECIALS = 3


def fast_tokenizer():
    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3, "b": 4}
    t = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    t.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    t.post_processor = processors.BertProcessing(("[SEP]", 2), ("[CLS]", 1))
    return t


def fast_lengths(t, n1, n2, max_length):
    t.enable_truncation(max_length=max_length, strategy="longest_first")
    e = t.encode(" ".join(["a"] * n1), " ".join(["b"] * n2))
    return e.ids.count(3), e.ids.count(4)


def slow_lengths(n1, n2, max_length):
    remove = n1 + n2 + SPECIALS - max_length
    if remove <= 0:
        return n1, n2
    holder = types.SimpleNamespace(truncation_side="right")
    ids, pair, _ = PythonBackend.truncate_sequences(
        holder, list(range(n1)), list(range(n2)), num_tokens_to_remove=remove, truncation_strategy="longest_first")
    return len(ids), len(pair)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "Tests", "SpiqaTokenizersTests", "Fixtures", "tokenizers", "pair_truncation.json")
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=default)
    args = ap.parse_args()
    logging.set_verbosity_error()  # truncate_sequences warns on every pair
    t = fast_tokenizer()
    rows = []
    for n1 in range(11):
        for n2 in range(11):
            for max_length in range(3, 17):
                rows.append([n1, n2, max_length, *slow_lengths(n1, n2, max_length), *fast_lengths(t, n1, n2, max_length)])
    with open(args.out, "w") as f:
        f.write('{"specials": 3, "columns": ["n1", "n2", "max_length", "slow1", "slow2", "fast1", "fast2"], "rows": [\n')
        f.write(",\n".join(json.dumps(r) for r in rows))
        f.write("\n]}\n")
    differ = sum(1 for r in rows if r[3:5] != r[5:7])
    print(f"{args.out}: {len(rows)} rows, {differ} where slow and fast differ")


if __name__ == "__main__":
    main()
