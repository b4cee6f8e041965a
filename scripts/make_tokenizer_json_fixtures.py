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

Usage: python3 scripts/make_tokenizer_json_fixtures.py [--model DIR] [--shared DIR] [--out FILE]
"""
import argparse
import json
import os

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
    for name, path in candidates.items():
        d = os.path.dirname(path)
        tok = AutoTokenizer.from_pretrained(d) if name == "wordpiece" else PreTrainedTokenizerFast(
            tokenizer_file=path, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
            mask_token="<mask>")
        assert tok.is_fast
        out["tokenizers"][name] = {
            "source": os.path.relpath(path, root) if path.startswith(root) else path,
            "single": [tok(t)["input_ids"] for t in texts],
            "pair": [tok(q, c)["input_ids"] for q, c in pairs],
        }
        print(f"{name}: {len(texts)} texts, {len(pairs)} pairs")
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{a.out}: {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
