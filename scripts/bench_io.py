#!/usr/bin/env python3
"""Python side of `spiqa-bench io`: np.save into gzip.open and np.load from it, on the same data.

Same stream as the Swift benchmark: a JSON header record, then per tensor a JSON metadata record (1-D uint8)
and a float32 [layers, heads, n, n] record whose rows are softmax(3·z), z from splitmix64 + Box-Muller
(the generator of Sources/spiqa-bench/IOBench.swift). Prints the same columns.

usage: python3 scripts/bench_io.py [--megabytes 1024] [--n 384] [--dir /tmp] [--settings gzip,none]
"""
import argparse
import gzip
import json
import os
import resource
import time

import numpy as np

M = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix(seed, x):
    """splitmix64 of seed·φ + x·0xD1B54A32D192ED03 (uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + x * np.uint64(0xD1B54A32D192ED03)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def attention_like(record, count, n, seed):
    i = np.arange(count, dtype=np.uint64) + np.uint64(record * count)
    u1 = ((splitmix(seed, np.uint64(2) * i) >> np.uint64(11)).astype(np.float64) + 0.5) / 9007199254740992.0
    u2 = (splitmix(seed, np.uint64(2) * i + np.uint64(1)) >> np.uint64(11)).astype(np.float64) / 9007199254740992.0
    z = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
    e = np.exp(3 * z).reshape(-1, n)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def meta_record(obj):
    b = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return np.frombuffer(b, dtype=np.uint8)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megabytes", type=int, default=1024)
    ap.add_argument("--n", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--pool", type=int, default=4)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--settings", default="gzip,none", help="gzip (gzip.open defaults) and/or none")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    shape = (a.layers, a.heads, a.n, a.n)
    per = int(np.prod(shape))
    records = max(1, -(-a.megabytes * 1_000_000 // (per * 4)))
    t0 = time.monotonic()
    data = [attention_like(r, per, a.n, a.seed).reshape(shape) for r in range(a.pool)]
    print(f"data: {records} records of {list(shape)} f32, pool {a.pool}, generated in {time.monotonic() - t0:.0f} s, "
          f"peak RSS {peak_rss_mb():.0f} MB (numpy {np.__version__})")
    print(f"{'setting':12}{'write MB/s':12}{'read MB/s':12}{'ratio':8}{'file MB':10}{'write cpu s':12}{'read cpu s':12}"
          "peak RSS MB after write / read")
    for setting in a.settings.split(","):
        path = os.path.join(a.dir, f"spiqa-bench-io-py-{os.getpid()}.npy" + (".gz" if setting == "gzip" else ""))
        opener = gzip.open if setting == "gzip" else open
        try:
            w0, wc0 = time.monotonic(), cpu()
            uncompressed = 0
            with opener(path, "wb") as f:
                for arr in [meta_record({"spiqa": 1, "kind": "stream", "producer": "bench_io.py"})]:
                    np.save(f, arr)
                for r in range(records):
                    m = meta_record({"spiqa": 1, "kind": "attention", "example_id": f"bench-{r}", "example_index": r,
                                     "feature": 0, "n": a.n, "shape": list(shape), "dtype": "f4"})
                    np.save(f, m)
                    np.save(f, data[r % a.pool])
                    uncompressed += data[r % a.pool].nbytes
            write_s, write_cpu = time.monotonic() - w0, cpu() - wc0
            rss_write = peak_rss_mb()
            size = os.path.getsize(path)
            r0, rc0 = time.monotonic(), cpu()
            tensors = 0
            with opener(path, "rb") as f:
                while True:
                    try:
                        arr = np.load(f)
                    except EOFError:
                        break
                    if arr.dtype == np.float32:
                        tensors += 1
            read_s, read_cpu = time.monotonic() - r0, cpu() - rc0
            assert tensors == records, (tensors, records)
            mb = uncompressed / 1e6
            print(f"{setting:12}{mb / write_s:<12.0f}{mb / read_s:<12.0f}{uncompressed / size:<8.3f}{size / 1e6:<10.0f}"
                  f"{write_cpu:<12.3f}{read_cpu:<12.3f}{rss_write:.0f} / {peak_rss_mb():.0f}")
        finally:
            if os.path.exists(path):
                os.unlink(path)


if __name__ == "__main__":
    main()
