#!/usr/bin/env python3
"""Python side of `spiqa-bench tokenizers`: the same SQuAD v1.1 dev workloads (all questions, all
contexts, contexts word by word) through the Python tokenizers the Swift ports are checked against.

  BERT:    transformers' slow BertTokenizerLegacy and the Rust-backed BertTokenizer (MiniLM vocab)
  RoBERTa: SlowRoberta31 (scripts/make_tokenizer_fixtures.py, the 3.1 slow algorithm) and the Rust one
  Unigram: with --unigram DIR (repeatable), the Rust tokenizer of DIR/tokenizer.json (ALBERT, XLM-R)

Prints process CPU seconds per workload (one pass each; the BPE caches start empty).
Usage: python3 scripts/bench_tokenizers.py [--shared ../shared] [--model models/all-MiniLM-L6-v2] [--unigram DIR]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tokenizer_fixtures import SHARED_BESIDE_ROOT, SlowRoberta31, squad_texts, squad_words  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("SPIQA_SHARED") or SHARED_BESIDE_ROOT)
    ap.add_argument("--model", default=os.environ.get("SPIQA_MODEL", "models/all-MiniLM-L6-v2"))
    ap.add_argument("--unigram", action="append", default=[], help="folder with a Unigram tokenizer.json")
    args = ap.parse_args()

    from transformers import AutoTokenizer, BertTokenizer, RobertaTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy
    from transformers.utils import logging

    logging.set_verbosity_error()
    contexts, questions = squad_texts(os.path.join(args.shared, "data", "squad", "dev-v1.1.json"))
    words = [squad_words(c) for c in contexts]
    rob_dir = os.path.join(args.shared, "data", "roberta-base")
    tokenizers = [
        ("bert slow (BertTokenizerLegacy)", BertTokenizerLegacy.from_pretrained(args.model).tokenize),
        ("bert fast (Rust)", BertTokenizer.from_pretrained(args.model).tokenize),
        ("roberta slow (3.1 algorithm)",
         SlowRoberta31(os.path.join(rob_dir, "vocab.json"), os.path.join(rob_dir, "merges.txt")).tokenize),
        ("roberta fast (Rust)", RobertaTokenizer.from_pretrained(rob_dir).tokenize),
    ] + [(f"unigram fast (Rust, {d})", AutoTokenizer.from_pretrained(d).tokenize) for d in args.unigram]
    print(f"squad: {len(questions)} questions, {len(contexts)} contexts, {sum(map(len, words))} context words")
    for name, tok in tokenizers:
        row = []
        for label, run in [("questions", lambda: sum(len(tok(q)) for q in questions)),
                           ("contexts", lambda: sum(len(tok(c)) for c in contexts)),
                           ("per word", lambda: sum(len(tok(w)) for ws in words for w in ws))]:
            t = time.process_time()
            n = run()
            row.append(f"{label} {n} tokens {1000 * (time.process_time() - t):.0f} ms CPU")
        print(f"{name}: " + "; ".join(row), flush=True)


if __name__ == "__main__":
    main()
