"""spiqa: read and write spiqa attention record streams (docs/stream-format.md) from Python.

    import spiqa
    with spiqa.open("attn.npy.gz") as s:          # a path, "-", bytes, a binary file object or a Popen
        print(s.header["model"])
        for meta, a in s:                         # tensor records; a is a writable numpy array
            p = spiqa.decode_attention(meta, a)   # float32 [layers, heads, n, n], codes decoded

Tables of spiqa-hist: ``read_heads``, ``read_hist``, ``read_tables`` (pandas), ``hist_arrays`` (numpy).
The HTML viewer: ``python -m spiqa.view STREAM -o view.html`` (also ``spiqa-view``). Docs: docs/python.md.
"""
from ._errors import StreamError
from .stream import Record, Stream, arrays, decode_attention, open, pipe
from .tables import hist_arrays, read_heads, read_hist, read_tables
from .tools import find_tool
from .writer import Writer, meta_array

__version__ = "0.1.0"

__all__ = ["StreamError", "Record", "Stream", "open", "pipe", "arrays", "decode_attention", "hist_arrays",
           "read_heads", "read_hist", "read_tables", "find_tool", "Writer", "meta_array", "__version__"]
