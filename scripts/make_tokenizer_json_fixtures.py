#!/usr/bin/env python3
"""Reference ids for the tokenizer.json tests (Tests/SpiqaTokenizersTests/Fixtures/tokenizers/tokenizer_json.json).

transformers.AutoTokenizer (the Rust fast tokenizer built from tokenizer.json) on
  - a Unicode-heavy line set (scripts, emoji with ZWJ and skin tones, combining marks, full-width forms, ligatures,
    Greek with final sigmas, Turkish dotted/dotless i, CJK, control and zero-width characters), and
  - a sample of SQuAD dev: the first 3 questions of the first 8 articles' first paragraphs, with their contexts,
for the WordPiece tokenizer.json of all-MiniLM-L6-v2 (--model; not copied, the test reads it there) and a small
byte-level BPE tokenizer.json (RoBERTa pre-tokenizer and post-processor, 600 tokens) that this script trains on the
SQuAD sample with the tokenizers library and writes next to the fixture (tiny-bpe-tokenizer.json). Single texts and (question, context) pairs, with special tokens.
The texts are stored in the fixture so the test needs only the tokenizer.json files.

SentencePiece Unigram (the Hub's albert-base-v2 and xlm-roberta-base need the network; this machine has none): two
1,000-piece Unigram models trained with sentencepiece on the SQuAD dev contexts with the nmt_nfkc rule (the
precompiled charsmap both Hub models ship), converted by transformers' own AlbertTokenizer / XLMRobertaTokenizer to
tokenizer.json and stored gzipped (tiny-albert-tokenizer.json.gz, tiny-xlmr-tokenizer.json.gz):
  - albert: ids like albert-base-v2 (<pad> <unk> [CLS] [SEP] [MASK]), lower-cased with accents stripped; the
    converter's normalizer plus the Hub file's trailing Replace(" {2,}" → " ") and a plain Metaspace
    pre-tokenizer (as in the Hub's albert-base-v2 tokenizer.json); [CLS] A [SEP] B [SEP], B type 1. Reference:
    PreTrainedTokenizerFast(tokenizer_file=…), i.e. the Rust tokenizer of the file (transformers 5's
    AlbertTokenizer class would rebuild its own WhitespaceSplit + Metaspace pipeline instead).
  - xlmr: ids like xlm-roberta-base (<s> <pad> </s> <unk> … <mask>), the converter's output unchanged
    (Precompiled; WhitespaceSplit + Metaspace; <s> A </s></s> B </s>).
For these two the fixture also holds the SQuAD featurization ids: every whitespace word of the sample's contexts
tokenized on its own (`tokenizer.tokenize(word)`), concatenated per context.

Usage: python3 scripts/make_tokenizer_json_fixtures.py [--model DIR] [--shared DIR] [--out FILE]
"""
import argparse
import json
import os
import tempfile

from transformers import AutoTokenizer, PreTrainedTokenizerFast

UNICODE_LINES = [
    "ΟΔΟΣ ΟΔΥΣΣΕΥΣ Σ ΣΑΣ. ὈΔΥΣΣΕΎΣ σοφός",
    "İstanbul'da ıspanak, IĞDIR ve İİ ıı",
    "ﬁnance ﬂow ﬀ ﬃ Æsir œuvre ß ẞ",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ　１２３！",
    "e\u0301te\u0301 a\u0308\u0304 n\u0303 Z\u0335\u0321a\u0337lgo",
    "👩‍👩‍👧 👍🏽 🇺🇸 🤖 ❤️",
    "Привет, мир! Ёлка ЁЖ",
    "مرحبا بالعالم ١٢٣",
    "שָׁלוֹם עוֹלָם",
    "नमस्ते दुनिया क्षत्रिय",
    "こんにちは世界、カタカナ ｶﾀｶﾅ",
    "中文分词测试，北京大学。",
    "한국어 텍스트 처리",
    "ไทยภาษา ทดสอบ",
    "zero\u200bwidth\u200dnon\u200cjoiner\ufeffbom",
    "tab\there\u00a0nbsp\u2003em\u3000ideo",
    "ctrl\u0001\u0007 del\u007f soft\u00adhyphen",
    "Ⅻ ½ ² ℃ ™ № ㎏ ﬆ",
    "Ǆ ǅ ǆ Ϊ́ ΐ",
    "[CLS] not special [SEP] <s> </s>",
]


def squad_sample(shared):
    data = json.load(open(os.path.join(shared, "data/squad/dev-v1.1.json")))["data"]
    pairs = []
    for article in data[:8]:
        p = article["paragraphs"][0]
        for q in p["qas"][:3]:
            pairs.append((q["question"], p["context"]))
    return pairs


def train_bpe(texts, path):
    """A RoBERTa-style byte-level BPE trained on the fixture's own texts (deterministic)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers, decoders
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                      ("<s>", tok.token_to_id("<s>")))
    tok.save(path)


def train_unigram(kind, texts, out_gz, workdir):
    """A SentencePiece Unigram model shaped like albert-base-v2's or xlm-roberta-base's, as tokenizer.json (gzipped)."""
    import gzip
    import shutil
    import sentencepiece as spm
    from tokenizers import Regex, normalizers, pre_tokenizers
    train = os.path.join(workdir, "train.txt")
    with open(train, "w", encoding="utf-8") as f:
        f.write("\n".join(texts))
    ids = dict(pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols=["[CLS]", "[SEP]", "[MASK]"]) \
        if kind == "albert" else dict(unk_id=0, bos_id=1, eos_id=2, pad_id=-1)
    prefix = os.path.join(workdir, kind)
    spm.SentencePieceTrainer.train(input=train, model_prefix=prefix, vocab_size=1000, model_type="unigram",
                                   character_coverage=0.9995, normalization_rule_name="nmt_nfkc", num_threads=1,
                                   minloglevel=2, **ids)
    src = os.path.join(workdir, "src_" + kind)
    os.makedirs(src, exist_ok=True)
    shutil.copy(prefix + ".model", os.path.join(src, "spiece.model" if kind == "albert" else "sentencepiece.bpe.model"))
    config = {"tokenizer_class": "AlbertTokenizer", "do_lower_case": True, "keep_accents": False} \
        if kind == "albert" else {"tokenizer_class": "XLMRobertaTokenizer"}
    with open(os.path.join(src, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    tok = AutoTokenizer.from_pretrained(src)
    if kind == "albert":
        backend = tok.backend_tokenizer
        backend.normalizer = normalizers.Sequence([backend.normalizer, normalizers.Replace(Regex(" {2,}"), " ")])
        backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    out = os.path.join(workdir, "out_" + kind)
    tok.save_pretrained(out)
    with open(os.path.join(out, "tokenizer.json"), "rb") as f, gzip.GzipFile(out_gz, "wb", 9, mtime=0) as g:
        g.write(f.read())
    if kind == "xlmr":
        return AutoTokenizer.from_pretrained(out)
    # transformers 5's AlbertTokenizer rebuilds its own pipeline (WhitespaceSplit + Metaspace) instead of the file's,
    # so the reference is the Rust tokenizer of the file itself, through the generic fast class.
    return PreTrainedTokenizerFast(tokenizer_file=os.path.join(out, "tokenizer.json"), unk_token="<unk>",
                                   pad_token="<pad>", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(root, "models/all-MiniLM-L6-v2"))
    ap.add_argument("--shared", default=os.path.join(root, "../shared"))
    ap.add_argument("--out", default=os.path.join(root, "Tests/SpiqaTokenizersTests/Fixtures/tokenizers/tokenizer_json.json"))
    a = ap.parse_args()
    pairs = squad_sample(a.shared)
    contexts = sorted(set(c for _, c in pairs), key=[c for _, c in pairs].index)
    texts = UNICODE_LINES + [q for q, _ in pairs] + contexts
    out = {"texts": texts, "pairs": [[q, contexts.index(c)] for q, c in pairs], "tokenizers": {}}
    bpe_path = os.path.join(os.path.dirname(a.out), "tiny-bpe-tokenizer.json")
    train_bpe(texts, bpe_path)
    candidates = {"wordpiece": os.path.join(a.model, "tokenizer.json"), "bpe": bpe_path}
    squad = json.load(open(os.path.join(a.shared, "data/squad/dev-v1.1.json")))["data"]
    all_contexts = [p["context"] for art in squad for p in art["paragraphs"]]
    sentencepiece = {}
    with tempfile.TemporaryDirectory() as work:
        for kind in ["albert", "xlmr"]:
            gz = os.path.join(os.path.dirname(a.out), f"tiny-{kind}-tokenizer.json.gz")
            sentencepiece[kind] = (train_unigram(kind, all_contexts, gz, work), gz)
    for name, path in list(candidates.items()) + [(k, v[1]) for k, v in sentencepiece.items()]:
        d = os.path.dirname(path)
        if name in sentencepiece:
            tok = sentencepiece[name][0]
        else:
            tok = AutoTokenizer.from_pretrained(d) if name == "wordpiece" else PreTrainedTokenizerFast(
                tokenizer_file=path, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                mask_token="<mask>")
        assert tok.is_fast
        out["tokenizers"][name] = {
            "source": os.path.relpath(path, root) if path.startswith(root) else path,
            "single": [tok(t)["input_ids"] for t in texts],
            "pair": [tok(q, c)["input_ids"] for q, c in pairs],
        }
        if name in sentencepiece:
            out["tokenizers"][name]["pair_types"] = [tok(q, c, return_token_type_ids=True)["token_type_ids"] for q, c in pairs]
            out["tokenizers"][name]["words"] = [
                [i for w in c.split() for i in tok(w, add_special_tokens=False)["input_ids"]] for c in contexts]
        print(f"{name}: {len(texts)} texts, {len(pairs)} pairs")
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{a.out}: {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
