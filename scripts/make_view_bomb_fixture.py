#!/usr/bin/env python3
"""Write Tests/SpiqaModelTests/Fixtures/pytorch/view-bomb.bin: a torch.save zip checkpoint (written by hand, no
torch needed) whose state dict holds 100 tensors that are stride-0 views of 2^20 float32 elements over one
4-byte storage. Each view is within the loader's per-view copy cap (4 MiB), together they ask for 400 MiB from a
file of a few kB: the loader must refuse the file (PyTorchBinFile's copy budget), not allocate.

Usage: python3 scripts/make_view_bomb_fixture.py [OUT_DIR]   (default Tests/SpiqaModelTests/Fixtures/pytorch)
"""
import os
import struct
import sys
import zipfile

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SpiqaModelTests", "Fixtures", "pytorch")
VIEWS = 100
ELEMENTS = 1 << 20


def text(s):
    """Pickle BINUNICODE."""
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def integer(n):
    """Pickle BININT."""
    return b"J" + struct.pack("<i", n)


def view_pickle():
    ordered_dict = b"ccollections\nOrderedDict\n)R"
    rebuild = b"ctorch._utils\n_rebuild_tensor_v2\n"
    # persistent id ("storage", torch.FloatStorage, key "0", "cpu", 1 element), loaded by BINPERSID
    storage = b"(" + text("storage") + b"ctorch\nFloatStorage\n" + text("0") + text("cpu") + integer(1) + b"tQ"
    args = b"(" + storage + integer(0) + b"(" + integer(ELEMENTS) + b"t" + b"(" + integer(0) + b"t" + b"\x89" \
        + ordered_dict + b"t"
    body = b"".join(text(f"view.{k}") + rebuild + args + b"R" + b"s" for k in range(VIEWS))
    return b"\x80\x02" + ordered_dict + body + b"."


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "view-bomb.bin")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", view_pickle())
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", b"\0\0\0\0")
        z.writestr("archive/version", "3\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
