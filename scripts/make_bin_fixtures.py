#!/usr/bin/env python3
"""Generate the PyTorch `.bin` fixtures of Tests/SpiqaModelTests/Fixtures/pytorch/ (issue 10).

Writes small random-weight checkpoints twice — `pytorch_model.bin` (torch.save zip format, as transformers 4.x
`save_pretrained(safe_serialization=False)` wrote it) and `model.safetensors` (transformers' own save) — plus
hand-made files covering the pickle subset: F32/F16/BF16, views with offsets and strides, shared storages, an int64
buffer, the legacy (pre-1.6, non-zip) format, and pickles that must be refused.

Note: transformers 5.x ignores `safe_serialization=False` and always writes safetensors, so the `.bin` is written
with `torch.save(model.state_dict())`, which is what transformers 4.x did (state dict with its `_metadata`).

Usage: python3 scripts/make_bin_fixtures.py [OUT_DIR]   (default Tests/SpiqaModelTests/Fixtures/pytorch)
Tested with torch 2.15 and transformers 5.24. Deterministic (fixed seeds) up to torch's serialization ids.
"""
import json
import os
import sys
import zipfile

import torch
from safetensors.torch import save_file
from transformers import (BertConfig, BertForQuestionAnswering, RobertaConfig,
                          RobertaForSequenceClassification)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SpiqaModelTests", "Fixtures", "pytorch")


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def bert_vocab():
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "sat", "on", "mat", "who", "what",
             "where", "is", "was", "dog", "ran", "##s", "##ed", "##ing", ".", ",", "?", "!", "and", "of", "to",
             "in", "it"]
    return words + [f"w{i}" for i in range(60 - len(words))]


def roberta_vocab():
    # Byte-level BPE: the 256 byte symbols are not all needed for a random-weight model; keep a small valid vocab.
    tokens = ["<s>", "<pad>", "</s>", "<unk>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + \
             ["Ġ", "Ġt", "Ġth", "Ġthe", "Ġa", "Ġc", "Ġca", "Ġcat", ".", ",", "<mask>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = ["#version: 0.2", "Ġ t", "Ġt h", "Ġth e", "Ġ a", "Ġ c", "Ġc a", "Ġca t"]
    return vocab, merges


def save_twins(model, name, extra_files):
    """`<name>-bin/` holds pytorch_model.bin, `<name>-st/` model.safetensors; both get config + tokenizer files."""
    for suffix in ("bin", "st"):
        d = os.path.join(OUT, f"{name}-{suffix}")
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        model.save_pretrained(d)  # config.json + model.safetensors
        if suffix == "bin":
            os.remove(os.path.join(d, "model.safetensors"))
            torch.save(model.state_dict(), os.path.join(d, "pytorch_model.bin"))
        for fname, text in extra_files.items():
            write_text(os.path.join(d, fname), text)


# Fixed inputs for the reference outputs (row 2 right-padded; lengths 7 and 4).
REFERENCE_INPUTS = {"bert-qa": ([[2, 11, 14, 5, 7, 3, 5], [2, 7, 8, 3, 0, 0, 0]], [[0, 0, 0, 0, 0, 0, 1], [0] * 7]),
                    "roberta-cls": ([[0, 35, 32, 40, 37, 2, 2], [0, 36, 39, 2, 1, 1, 1]], None)}


def reference_outputs(model, name, pad_id):
    """transformers' logits for REFERENCE_INPUTS (real tokens only), so tests can check the .bin end to end."""
    ids, types = REFERENCE_INPUTS[name]
    input_ids = torch.tensor(ids)
    mask = (input_ids != pad_id).long()
    if name == "bert-qa":
        mask[0] = 1  # row 0 holds no padding ([PAD] = 0 is not used in it)
    with torch.no_grad():
        kwargs = {"token_type_ids": torch.tensor(types)} if types else {}
        out = model(input_ids=input_ids, attention_mask=mask, **kwargs)
    lengths = mask.sum(1).tolist()
    ref = {"input_ids": ids, "token_type_ids": types, "lengths": lengths}
    if name == "bert-qa":
        ref["start_logits"] = [out.start_logits[b, :n].tolist() for b, n in enumerate(lengths)]
        ref["end_logits"] = [out.end_logits[b, :n].tolist() for b, n in enumerate(lengths)]
    else:
        ref["logits"] = out.logits.tolist()
    return ref


def make_models():
    torch.manual_seed(1234)
    bc = BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=48, max_position_embeddings=64, type_vocab_size=2)
    bert = BertForQuestionAnswering(bc).eval()
    save_twins(bert, "bert-qa", {"vocab.txt": "\n".join(bert_vocab()) + "\n",
                                 "tokenizer_config.json": json.dumps({"do_lower_case": True}) + "\n"})
    references = {"bert-qa": reference_outputs(bert, "bert-qa", 0)}

    torch.manual_seed(5678)
    vocab, merges = roberta_vocab()
    rc = RobertaConfig(vocab_size=len(vocab), hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                       intermediate_size=64, max_position_embeddings=40, type_vocab_size=1, pad_token_id=1,
                       bos_token_id=0, eos_token_id=2, num_labels=2)
    roberta = RobertaForSequenceClassification(rc).eval()
    files = {"vocab.json": json.dumps(vocab, ensure_ascii=False) + "\n", "merges.txt": "\n".join(merges) + "\n"}
    save_twins(roberta, "roberta-cls", files)
    references["roberta-cls"] = reference_outputs(roberta, "roberta-cls", 1)
    with open(os.path.join(OUT, "reference-outputs.json"), "w") as f:
        json.dump(references, f)
    # The same RoBERTa in half precision (F16 storages), .bin only, compared to the F32 twin after rounding.
    torch.save({k: v.half() for k, v in roberta.state_dict().items()}, os.path.join(OUT, "roberta-cls-f16.bin"))


def make_mixed():
    """Every storage/view case in one state dict; the safetensors twin holds contiguous copies."""
    torch.manual_seed(42)
    base = torch.randn(4, 6)
    sd = {
        "f32": torch.randn(3, 5),
        "f16": torch.randn(7).half(),
        "bf16": torch.randn(2, 3).to(torch.bfloat16),
        "transposed": base.t(),                 # strides (1, 6): not contiguous
        "row_slice": base[2],                   # storage offset 12, shares base's storage
        "col_slice": base[:, 1:5:2],            # offset 1, strides (6, 2)
        "base": base,
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "expanded": torch.randn(1, 3).expand(2, 3),  # stride 0
    }
    sd["position_ids"] = torch.arange(10).unsqueeze(0)  # int64 buffer: parsed, not exposed as a weight
    torch.save(sd, os.path.join(OUT, "mixed.bin"))
    torch.save(sd, os.path.join(OUT, "mixed-legacy.bin"), _use_new_zipfile_serialization=False)
    # pickle protocol 4 (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE)
    torch.save(sd, os.path.join(OUT, "mixed-proto4.bin"), pickle_protocol=4)
    save_file({k: v.contiguous().clone() for k, v in sd.items()}, os.path.join(OUT, "mixed.safetensors"))
    rewrite_as_zip64(os.path.join(OUT, "mixed.bin"), os.path.join(OUT, "mixed-zip64.bin"))
    # A training checkpoint: {"state_dict": {...nn.Parameter...}, "epoch": ..., "lr": ...} (_rebuild_parameter).
    nested = {"state_dict": {"f32": torch.nn.Parameter(sd["f32"].clone()),
                             "f16": torch.nn.Parameter(sd["f16"].clone(), requires_grad=False)},
              "epoch": 3, "lr": 0.5, "name": "run-1"}
    torch.save(nested, os.path.join(OUT, "nested-params.bin"))
    assert torch.load(os.path.join(OUT, "mixed-zip64.bin"))["base"].equal(base)


def rewrite_as_zip64(src, dst):
    """Re-write a torch.save zip with every ZIP64 structure torch uses for > 4 GiB files: 0xFFFFFFFF sizes and
    offsets in the central directory with a ZIP64 extra field, a ZIP64 end record and its locator."""
    import struct
    import zlib
    with zipfile.ZipFile(src) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    out, central = bytearray(), bytearray()
    for name, data in members:
        offset = len(out)
        fname = name.encode()
        # Pad the local extra field so the data starts 64-byte aligned, as torch does.
        pad = (-(offset + 30 + len(fname) + 4)) % 64
        extra = struct.pack("<HH", 0x4654, pad) + b"Z" * pad
        crc = zlib.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, len(data), len(data), len(fname),
                           len(extra)) + fname + extra + data
        z64 = struct.pack("<HHQQQ", 0x0001, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF,
                               0xFFFFFFFF, len(fname), len(z64), 0, 0, 0, 0, 0xFFFFFFFF) + fname + z64
    cd_offset = len(out)
    out += central
    z64_end = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members), len(central),
                       cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, z64_end, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)
    with zipfile.ZipFile(dst) as z:  # Python's reader must agree
        assert [(i.filename, z.read(i.filename)) for i in z.infolist()] == members


def make_refused():
    """Zip checkpoints whose pickle calls something outside the allow-list (must be refused, never run)."""
    evil = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueq\x00\x85R."
    with zipfile.ZipFile(os.path.join(OUT, "evil-global.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", evil)
        z.writestr("archive/version", "3\n")
    # An allowed global called with REDUCE it is not allowed for (builtins.eval via STACK_GLOBAL, protocol 4).
    evil4 = (b"\x80\x04\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x041+1\x94\x85\x94R\x94.")
    with zipfile.ZipFile(os.path.join(OUT, "evil-stack-global.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", evil4)
        z.writestr("archive/version", "3\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    make_models()
    make_mixed()
    make_refused()
    total = 0
    for root, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"wrote fixtures to {OUT} ({total} bytes)")
