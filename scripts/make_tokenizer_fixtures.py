#!/usr/bin/env python3
"""Reference token ids for spiqa's Swift tokenizers (Tests/SpiqaTokenizersTests/Fixtures/tokenizers/).

Reference Python pinned: CPython 3.11 (unicodedata 14.0.0), transformers 5.24, tokenizers 0.23,
regex 2026.5.9. The script refuses other Python minor versions unless --any-python is given,
because `unicodedata` (used by the BERT rules) changes with the Python version.

What is "the reference":
  * BERT WordPiece: transformers' slow Python tokenizer. In transformers 5 `BertTokenizer` is the
    Rust-backed one; the slow class is `BertTokenizerLegacy` (models/bert/tokenization_bert_legacy.py).
    It is checked here, text by text, against `GoogleStyleBert` below (a re-implementation of
    Google's tokenization.py with HF's `_is_control`), and must agree on everything.
  * RoBERTa byte-level BPE: transformers 5 has no slow RoBERTa/GPT-2 tokenizer any more, so
    `SlowRoberta31` below re-implements transformers 3.1's slow `RobertaTokenizer` (GPT-2
    encoder.py BPE, merges read as `split("\\n")[1:-1]`, special tokens split out of the text with
    3.x's AddedToken rules, `add_prefix_space` only before non-whitespace, whitespace-only text → []).
    It is compared with the Rust `RobertaTokenizer` of transformers 5 and the differences are counted.
  * Offsets: slow tokenizers have none; the reference is the fast tokenizer's offset_mapping, used
    only for texts where fast and slow ids agree.

Outputs (all in --out):
  squad_<set>.bin   one 24-byte record per text: u32 token count, u32 flags (bit 0: offsets
                    reference present), u64 hash of the ids, u64 hash of the offsets. Sets:
                    bert_text, bert_words, roberta_text, roberta_words (words = each whitespace word
                    of a context tokenized on its own, as SQuAD featurization does; the hash then also
                    covers the word boundaries).
  squad_manifest.json  counts, parity statistics, versions, the hash definition.
  edge_cases.json   small hand-picked texts with full tokens/ids/offsets for four configurations.

Hash (same in Swift): h = 0xcbf29ce484222325; for each u32 value v: h ^= v; h *= 0x100000001b3
(mod 2^64); h ^= h >> 32. Ids text hash: values = ids. Offsets hash: start, end per token.
Words hash: per word its ids then 0xFFFFFFFF.

Usage: python3 scripts/make_tokenizer_fixtures.py [--shared ../shared] [--model models/all-MiniLM-L6-v2]
       python3 scripts/make_tokenizer_fixtures.py --show bert_text 17     # print one reference
"""
import argparse
import json
import os
import struct
import sys
import unicodedata

import regex

# The shared data folder when $SPIQA_SHARED is unset or empty: ../shared beside this package (DefaultPaths).
SHARED_BESIDE_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared")

MASK64 = (1 << 64) - 1


def fnv(values):
    h = 0xCBF29CE484222325
    for v in values:
        h ^= v & 0xFFFFFFFF
        h = (h * 0x100000001B3) & MASK64
        h ^= h >> 32
    return h


# ---------------------------------------------------------------- BERT (Google tokenization.py)
def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch).startswith("C")  # HF; Google's original: ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class GoogleStyleBert:
    """Google's BasicTokenizer + WordpieceTokenizer; `final_sigma=False` lower-cases each character
    on its own first (what transformers 2-4 slow did with do_lower_case in the config)."""

    def __init__(self, vocab_file, do_lower_case=True, final_sigma=True):
        self.vocab = {}
        with open(vocab_file, encoding="utf-8") as f:
            for i, line in enumerate(f.readlines()):
                self.vocab[line.rstrip("\n")] = i
        self.inv = {v: k for k, v in self.vocab.items()}
        self.lower = do_lower_case
        self.final_sigma = final_sigma
        self.specials = ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"]

    def tokenize(self, text):
        out = []
        for piece in self._split_specials(text):
            if piece in self.specials:
                out.append(piece)
                continue
            if self.lower and not self.final_sigma:
                piece = "".join(ch.lower() for ch in piece)
            out.extend(self._basic_wordpiece(piece))
        return out

    def _split_specials(self, text):
        pieces = [text]
        for s in self.specials:
            nxt = []
            for p in pieces:
                if p in self.specials:
                    nxt.append(p)
                    continue
                parts = p.split(s)
                for k, part in enumerate(parts):
                    if part:
                        nxt.append(part)
                    if k < len(parts) - 1:
                        nxt.append(s)
            pieces = nxt
        return pieces

    def _basic_wordpiece(self, text):
        text = "".join(" " if _is_whitespace(c) else c for c in text
                       if not (ord(c) == 0 or ord(c) == 0xFFFD or _is_control(c)))
        text = "".join(f" {c} " if _is_chinese_char(ord(c)) else c for c in text)
        out = []
        for tok in text.split():
            if self.lower:
                tok = tok.lower()
                tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
            words, cur = [], ""
            for c in tok:
                if _is_punctuation(c):
                    if cur:
                        words.append(cur)
                    words.append(c)
                    cur = ""
                else:
                    cur += c
            if cur:
                words.append(cur)
            for w in " ".join(words).split():
                out.extend(self._wordpiece(w))
        return out

    def _wordpiece(self, w):
        chars = list(w)
        if len(chars) > 100:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(chars):
            end, cur = len(chars), None
            while start < end:
                sub = "".join(chars[start:end])
                if start > 0:
                    sub = "##" + sub
                if sub in self.vocab:
                    cur = sub
                    break
                end -= 1
            if cur is None:
                return ["[UNK]"]
            pieces.append(cur)
            start = end
        return pieces

    def ids(self, tokens):
        return [self.vocab.get(t, self.vocab["[UNK]"]) for t in tokens]


# ---------------------------------------------------------------- RoBERTa (transformers 3.1 slow)
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class SlowRoberta31:
    PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")

    def __init__(self, vocab_file, merges_file, add_prefix_space=False):
        with open(vocab_file, encoding="utf-8") as f:
            self.encoder = json.load(f)
        self.byte_encoder = bytes_to_unicode()
        with open(merges_file, encoding="utf-8") as f:
            merges = f.read().split("\n")[1:-1]
        merges = [tuple(m.split()) for m in merges]
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {}
        self.add_prefix_space = add_prefix_space
        # (lstrip, rstrip) of the 3.x AddedTokens; order is irrelevant for these strings.
        self.specials = {"<s>": (False, False), "</s>": (False, False), "<unk>": (False, False),
                         "<pad>": (False, False), "<mask>": (True, False)}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token)
        pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        if not pairs:
            return token
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new.extend(word[i:])
                    break
                new.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
            if len(word) == 1:
                break
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
        out = " ".join(word)
        self.cache[token] = out
        return out

    def _tokenize(self, text):
        toks = []
        for t in regex.findall(self.PAT, text):
            t = "".join(self.byte_encoder[b] for b in t.encode("utf-8"))
            toks.extend(self.bpe(t).split(" "))
        return toks

    def tokenize(self, text, add_prefix_space=None):
        aps = self.add_prefix_space if add_prefix_space is None else add_prefix_space
        if aps and len(text) > 0 and not text[0].isspace():
            text = " " + text
        if not text.strip():
            return []
        pieces = [text]
        for tok, (lstrip, rstrip) in self.specials.items():
            nxt = []
            for p in pieces:
                if p in self.specials:
                    nxt.append(p)
                    continue
                parts = p.split(tok)
                for i, sub in enumerate(parts):
                    if rstrip and i > 0:
                        sub = sub.lstrip()
                    if lstrip and i < len(parts) - 1:
                        sub = sub.rstrip()
                    if i == 0 and not sub:
                        nxt.append(tok)
                    elif i == len(parts) - 1:
                        if sub:
                            nxt.append(sub)
                    else:
                        if sub:
                            nxt.append(sub)
                        nxt.append(tok)
            pieces = nxt
        out = []
        for p in pieces:
            out.extend([p] if p in self.specials else self._tokenize(p))
        return out

    def ids(self, tokens):
        return [self.encoder.get(t, self.encoder["<unk>"]) for t in tokens]


# ---------------------------------------------------------------- data
def squad_texts(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    contexts, questions = [], []
    for a in d["data"]:
        for p in a["paragraphs"]:
            contexts.append(p["context"])
            questions.extend(q["question"] for q in p["qas"])
    return contexts, questions


def squad_words(context):
    """squad.py's whitespace split (space, \\t, \\r, \\n, U+202F)."""
    words, prev_ws = [], True
    for c in context:
        if c in " \t\r\n" or ord(c) == 0x202F:
            prev_ws = True
        else:
            if prev_ws:
                words.append(c)
            else:
                words[-1] += c
            prev_ws = False
    return words


EDGE_TEXTS = [
    "", " ", "\t\n ", "Hello world!", "Hello world! cécé herlolip 418",
    "UNwant\u00e9d,running", " \tHeLLo!how  \n Are yoU?  ", "H\u00e9llo", "ah\u535a\u63a8zz", "生活的真谛是",
    "Café naïve coöperate résumé Ångström", "e\u0301\u0323 x\u0323\u0301 \u0300leading combining",
    "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷", "new in 15/16: \U0001faf8 \U0001fae9 end",
    "a\u0000b\u0005c\ufffdd\u007fe\u0085f", "non\u00a0breaking\u202fnarrow\u200bzero\u200dwidth\ufeffbom\u2060wj",
    "I'm don't 'S 'S's 're 'VE 'll 'd it's IT'S", "rock 'n' roll '' '''", "x" * 101, "y" * 100, "é" * 101,
    "ΟΔΟΣ ΟΔΟΣ. ΣΑΣ σίσυφος ΑΣ. Σ ΑΣ'Σ", "İstanbul ǅungla ß ﬁne ẞ", "123 4.5 1,000,000 ١٢٣ ²³ Ⅻ ½",
    "<s>hello</s> <mask> world <pad><unk>", "a <mask>b  <mask>  c", "[CLS] hi [SEP] [MASK]x[UNK]", "[cls] [Mask]",
    "a  b   c    ", "  leading space", "trailing   ", "\u2028line\u2029para\x1cgs\x1fus", "tab\tsep\r\nwin\rmac",
    "한국어 日本語 ｶﾀｶﾅ ㈱ \u3000ideo space", "$^+~`|\\ ¿Qué? ¡Sí! «quote» “curly” — – …", "\u1fef\u037e\u0387",
    "A\n'll !!to?'d''d of, can't.", "you…\u00a0\u00a0", "\U0001d400\U0001d49c math", "Zürich's 1990s-era U.S.-based",
    "The Super Bowl 50 was played on February 7, 2016, at Levi's Stadium in Santa Clara, California.",
]


def random_texts(n=400, seed=20261128):
    """Deterministic random strings over code points that stress the rules."""
    import random
    rng = random.Random(seed)
    pool = (list("abcXYZ019 '") + list(" \t\n\r") + ["'s", "'S", "'ll", "'re", "'d", " 's", "n't"]
            + list("!?.,;:-$^+~`|\\\"#%&*()[]{}<>@_/=") + list("éÉüßİıǅﬁÅ") + list("ΣΟΔσςάΑ")
            + ["\u0301", "\u0323", "\u0308", "\u3099", "\u200d", "\u200b", "\ufeff", "\u00a0", "\u202f",
               "\u3000", "\u2028", "\u0085", "\x00", "\x05", "\x1c", "\x7f", "\ufffd", "\ue000"]
            + list("生活真谛日本語한국ｶ㈱") + ["\U00020000", "\U0002a700", "\uf900"]
            + ["😀", "👍🏽", "🇫🇷", "\U0001fae9", "\U0001d400"] + list("١٢٣²½Ⅻ") + list("«»“”—–…¿¡§")
            + ["<s>", "</s>", "<mask>", "<pad>", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "Σ ", "ΑΣ."])
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 24))) for _ in range(n)]


def bert_offsets_ok(fast, text, ids):
    enc = fast(text, add_special_tokens=False, return_offsets_mapping=True)
    if enc["input_ids"] != ids:
        return None
    return [list(o) for o in enc["offset_mapping"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.environ.get("SPIQA_SHARED") or SHARED_BESIDE_ROOT)
    ap.add_argument("--model", default=os.environ.get("SPIQA_MODEL", "models/all-MiniLM-L6-v2"))
    ap.add_argument("--out", default="Tests/SpiqaTokenizersTests/Fixtures/tokenizers")
    ap.add_argument("--show", nargs=2, metavar=("SET", "INDEX"))
    ap.add_argument("--any-python", action="store_true")
    args = ap.parse_args()
    if sys.version_info[:2] != (3, 11) and not args.any_python:
        sys.exit("make_tokenizer_fixtures: needs CPython 3.11 (unicodedata 14.0); use --any-python to override")

    import transformers
    from transformers import BertTokenizer, RobertaTokenizer
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    vocab_txt = os.path.join(args.model, "vocab.txt")
    rob_dir = os.path.join(args.shared, "data", "roberta-base")
    rob_vocab, rob_merges = os.path.join(rob_dir, "vocab.json"), os.path.join(rob_dir, "merges.txt")
    legacy = BertTokenizerLegacy.from_pretrained(args.model)
    bert_fast = BertTokenizer.from_pretrained(args.model)
    google = GoogleStyleBert(vocab_txt)
    google_persigma = GoogleStyleBert(vocab_txt, final_sigma=False)
    rob = SlowRoberta31(rob_vocab, rob_merges)
    rob_prefix = SlowRoberta31(rob_vocab, rob_merges, add_prefix_space=True)
    rob_fast = RobertaTokenizer.from_pretrained(rob_dir)
    assert legacy.do_lower_case and legacy.basic_tokenizer.tokenize_chinese_chars

    contexts, questions = squad_texts(os.path.join(args.shared, "data", "squad", "dev-v1.1.json"))
    texts = contexts + questions  # index order of the .bin records

    if args.show:
        which, i = args.show[0], int(args.show[1])
        t = texts[i]
        print(repr(t))
        if which.startswith("bert"):
            toks = legacy.tokenize(t) if which == "bert_text" else [x for w in squad_words(t) for x in legacy.tokenize(w)]
            print(list(zip(toks, legacy.convert_tokens_to_ids(toks))))
        else:
            toks = rob.tokenize(t) if which == "roberta_text" else [x for w in squad_words(t) for x in rob.tokenize(w)]
            print(list(zip(toks, rob.ids(toks))))
        return

    os.makedirs(args.out, exist_ok=True)
    stats = {}

    def write_set(name, records):
        with open(os.path.join(args.out, f"squad_{name}.bin"), "wb") as f:
            for count, flags, h_ids, h_off in records:
                f.write(struct.pack("<IIQQ", count, flags, h_ids, h_off))

    # BERT, whole texts
    recs, google_disagree, fast_disagree, n_ids = [], [], 0, 0
    for i, t in enumerate(texts):
        toks = legacy.tokenize(t)
        ids = legacy.convert_tokens_to_ids(toks)
        if google.ids(google.tokenize(t)) != ids:
            google_disagree.append(i)
        offs = bert_offsets_ok(bert_fast, t, ids)
        fast_disagree += offs is None
        n_ids += len(ids)
        h_off = fnv([v for o in offs for v in o]) if offs is not None else 0
        recs.append((len(ids), 1 if offs is not None else 0, fnv(ids), h_off))
    write_set("bert_text", recs)
    stats["bert_text"] = {"texts": len(texts), "ids": n_ids, "google_reimpl_disagrees": google_disagree,
                          "fast_ids_differ": fast_disagree}
    print("bert_text", stats["bert_text"], flush=True)

    def words_set(name, tok_ids):
        recs, n = [], 0
        for t in contexts:
            vals, count = [], 0
            for w in squad_words(t):
                ids = tok_ids(w)
                vals.extend(ids)
                vals.append(0xFFFFFFFF)
                count += len(ids)
            n += count
            recs.append((count, 0, fnv(vals), 0))
        write_set(name, recs)
        stats[name] = {"texts": len(contexts), "ids": n}
        print(name, stats[name], flush=True)

    words_set("bert_words", lambda w: legacy.convert_tokens_to_ids(legacy.tokenize(w)))

    # RoBERTa, whole texts
    recs, fast_disagree, n_ids, examples = [], 0, 0, []
    for i, t in enumerate(texts):
        ids = rob.ids(rob.tokenize(t))
        enc = rob_fast(t, add_special_tokens=False, return_offsets_mapping=True)
        offs = [list(o) for o in enc["offset_mapping"]] if enc["input_ids"] == ids else None
        if offs is None:
            fast_disagree += 1
            if len(examples) < 5:
                examples.append(i)
        n_ids += len(ids)
        recs.append((len(ids), 1 if offs is not None else 0, fnv(ids),
                     fnv([v for o in offs for v in o]) if offs is not None else 0))
    write_set("roberta_text", recs)
    stats["roberta_text"] = {"texts": len(texts), "ids": n_ids, "fast_ids_differ": fast_disagree,
                             "fast_differ_examples": examples}
    print("roberta_text", stats["roberta_text"], flush=True)
    words_set("roberta_words", lambda w: rob.ids(rob.tokenize(w)))

    manifest = {
        "generator": "scripts/make_tokenizer_fixtures.py",
        "python": sys.version.split()[0], "unicodedata": unicodedata.unidata_version,
        "transformers": transformers.__version__, "regex": regex.__version__,
        "squad": "dev-v1.1.json (md5 3e85deb501d4e538b6bc56f786231552)",
        "contexts": len(contexts), "questions": len(questions),
        "order": "contexts in file order, then questions in file order; words sets: contexts only",
        "record": "<IIQQ count, flags(bit0 offsets present), ids hash, offsets hash",
        "bert": {"vocab": "all-MiniLM-L6-v2/vocab.txt", "reference": "BertTokenizerLegacy (slow)"},
        "roberta": {"vocab": "roberta-base vocab.json + merges.txt", "reference": "SlowRoberta31 (this script)"},
        "stats": stats,
    }
    with open(os.path.join(args.out, "squad_manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)

    # Edge cases with full detail.
    configs = {
        "bert": (lambda t: legacy.tokenize(t), lambda toks: legacy.convert_tokens_to_ids(toks), bert_fast),
        "bert_per_scalar_lower": (google_persigma.tokenize, google_persigma.ids, None),
        "roberta": (rob.tokenize, rob.ids, rob_fast),
        "roberta_prefix_space": (rob_prefix.tokenize, rob_prefix.ids,
                                 RobertaTokenizer.from_pretrained(rob_dir, add_prefix_space=True)),
    }
    edge = {"texts": EDGE_TEXTS, "configs": {}}
    for name, (tok, to_ids, fast) in configs.items():
        rows = []
        for t in EDGE_TEXTS:
            toks = tok(t)
            ids = to_ids(toks)
            if name == "bert":
                g = google.tokenize(t)
                assert g == toks, (t, g, toks)
            row = {"tokens": toks, "ids": ids}
            if fast is not None:
                enc = fast(t, add_special_tokens=False, return_offsets_mapping=True)
                row["fast_ids"] = enc["input_ids"]
                row["offsets"] = [list(o) for o in enc["offset_mapping"]] if enc["input_ids"] == ids else None
            rows.append(row)
        edge["configs"][name] = rows
    # Random strings: ids (and fast offsets where fast agrees) for the same four configurations.
    rnd = random_texts()
    edge["random"] = {"texts": rnd}
    for name, (tok, to_ids, fast) in configs.items():
        rows = []
        for t in rnd:
            toks = tok(t)
            ids = to_ids(toks)
            if name == "bert":
                assert google.tokenize(t) == toks, (t, google.tokenize(t), toks)
            row = {"ids": ids}
            # Where BERT cleaning/accent stripping removes characters, HF fast attaches them to a
            # neighbouring token's span and the Swift port leaves them out: no offset reference.
            removes = name.startswith("bert") and any(
                ord(c) == 0 or c == "\ufffd" or _is_control(c) or unicodedata.category(c) == "Mn"
                for c in unicodedata.normalize("NFD", t))
            if fast is not None and not removes:
                enc = fast(t, add_special_tokens=False, return_offsets_mapping=True)
                row["offsets"] = [list(o) for o in enc["offset_mapping"]] if enc["input_ids"] == ids else None
            rows.append(row)
        edge["random"][name] = rows
        print("random", name, "fast agrees on", sum(r.get("offsets") is not None for r in rows), "of", len(rows))
    # Pair encodings: slow `tokenizer(a, b)` for BERT; RoBERTa layout built from the slow ids.
    a, b = "Who won Super Bowl 50?", "The Denver Broncos defeated the Carolina Panthers."
    enc = legacy(a, b, return_token_type_ids=True)
    edge["pairs"] = {
        "a": a, "b": b,
        "bert": {"ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"]},
        "roberta": {"ids": [0] + rob.ids(rob.tokenize(a)) + [2, 2] + rob.ids(rob.tokenize(b)) + [2],
                    "fast_ids": rob_fast(a, b)["input_ids"]},
    }
    with open(os.path.join(args.out, "edge_cases.json"), "w") as f:
        json.dump(edge, f, ensure_ascii=False, indent=None, separators=(",", ":"))
    print("edge cases:", len(EDGE_TEXTS), "texts")


if __name__ == "__main__":
    main()
