#!/usr/bin/env python3
"""Whole-SQuAD-dev reference ids for the Unigram (SentencePiece) tokenizer.json fixtures (not committed: ~10 MB).

For tiny-albert-tokenizer.json.gz and tiny-xlmr-tokenizer.json.gz (Tests/SpiqaTokenizersTests/Fixtures/tokenizers,
made by scripts/make_tokenizer_json_fixtures.py), the ids transformers gives without special tokens (AutoTokenizer for
xlmr; for albert PreTrainedTokenizerFast on the file, as that script explains) for every
SQuAD v1.1 dev context and question, the 441 hand-picked and random edge-case texts of edge_cases.json (scripts,
emoji and ZWJ, combining marks, control and zero-width characters, special-token strings), and for every context
word tokenized on its own (squad.py's whitespace split,
as SQuAD featurization does); with the texts' offset_mapping (character offsets, flattened start, end pairs). The test `TokenizerUnigramTests.squadDev` compares with them when SPIQA_UNIGRAM_SQUAD
names the output file.

Usage: python3 scripts/unigram_squad_reference.py OUT.json [--shared ../shared]
"""
import argparse
import gzip
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_tokenizer_fixtures import SHARED_BESIDE_ROOT, squad_texts, squad_words  # noqa: E402


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--shared", default=os.environ.get("SPIQA_SHARED") or SHARED_BESIDE_ROOT)
    a = ap.parse_args()
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    contexts, questions = squad_texts(os.path.join(a.shared, "data", "squad", "dev-v1.1.json"))
    with open(os.path.join(root, "Tests/SpiqaTokenizersTests/Fixtures/tokenizers/edge_cases.json"), encoding="utf-8") as f:
        edge = json.load(f)
    questions = questions + edge["texts"] + edge["random"]["texts"]  # hand-picked and random Unicode edge cases
    out = {}
    for kind in ["albert", "xlmr"]:
        with tempfile.TemporaryDirectory() as d:
            fixture = os.path.join(root, "Tests/SpiqaTokenizersTests/Fixtures/tokenizers", f"tiny-{kind}-tokenizer.json.gz")
            with gzip.open(fixture, "rb") as f, open(os.path.join(d, "tokenizer.json"), "wb") as g:
                g.write(f.read())
            tok = AutoTokenizer.from_pretrained(d) if kind == "xlmr" else PreTrainedTokenizerFast(
                tokenizer_file=os.path.join(d, "tokenizer.json"), unk_token="<unk>")  # the file's own pipeline
            ids = lambda t: tok(t, add_special_tokens=False)["input_ids"]  # noqa: E731
            encoded = [tok(t, add_special_tokens=False, return_offsets_mapping=True) for t in contexts + questions]
            out[kind] = {"texts": [e["input_ids"] for e in encoded],
                         "offsets": [[x for span in e["offset_mapping"] for x in span] for e in encoded],
                         "words": [[i for w in squad_words(c) for i in ids(w)] for c in contexts]}
        print(f"{kind}: {len(contexts) + len(questions)} texts, {sum(map(len, out[kind]['texts']))} ids; "
              f"{len(contexts)} contexts word by word, {sum(map(len, out[kind]['words']))} ids")
    with open(a.out, "w") as f:
        json.dump({"texts": contexts + questions, "contexts": len(contexts), **out}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
