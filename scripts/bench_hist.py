#!/usr/bin/env python3
"""spiqa-hist throughput next to numpy, and the flat-memory check on a long stream through a pipe.

  python3 scripts/bench_hist.py [BIN_DIR] [--mb 400] [--pipe-gb 0]
      BIN_DIR holds spiqa-hist (default .build/release). Writes a synthetic attention stream (softmax rows,
      [6, 12, 384, 384] f32 per record) to a temp dir, plain and gzip, then times on the same data:
        numpy  np.histogram(x + 1e-8, bins=E) per record (whole tensor; the fastest numpy way), read included,
               on the plain file, a Python gzip -1 file and the stream as spiqa writes it (spiqa-quantize copy)
        numpy  np.histogram per row (the reference's §3.3 per-row loop), on a slice
        spiqa-hist (every statistic: histograms, per-row histograms, sparsity, thresholds, moments,
                    tokens-to-majority, diversity), plain and gzip input, with peak RSS
      --pipe-gb G  also pipes a G-GB generated stream into `spiqa-hist -` and reports throughput and peak RSS
                   (and the same for G/10 GB, to show that memory does not grow with the stream).
  python3 scripts/bench_hist.py gen --gb G [--n 384]   write a G-GB plain stream to stdout (for pipes)
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SHAPE = (6, 12)


def synthetic(n, seed):
    rng = np.random.default_rng(seed)
    L, H = SHAPE
    z = rng.normal(size=(L, H, n, n)) * (1 + 6 * rng.random((L, H, n, 1)))
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    x = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    x[x < 1e-7] = 0  # some exact zeros, as after float32 softmax underflow / pruning
    return x


def record_bytes(x, i):
    """Meta record + tensor record as np.save writes them."""
    import io
    b = io.BytesIO()
    L, H, n, _ = x.shape
    meta = {"spiqa": 1, "kind": "attention", "example_id": f"bench-{i}", "example_index": i, "feature": 0, "n": n,
            "shape": list(x.shape), "layers": list(range(L)), "heads": list(range(H)), "dtype": "f4",
            "threshold": 0.0, "method": None, "bits": None, "scope": "record"}
    np.save(b, np.frombuffer(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode(), np.uint8))
    np.save(b, x)
    return b.getvalue()


def header_bytes():
    import io
    b = io.BytesIO()
    np.save(b, np.frombuffer(b'{"kind":"stream","producer":"bench_hist.py","spiqa":1}', np.uint8))
    return b.getvalue()


def generate(out, total_bytes, n=384, distinct=4):
    """Writes records cycling through `distinct` pre-generated tensors until total_bytes."""
    recs = [synthetic(n, s) for s in range(distinct)]
    out.write(header_bytes())
    written = 0
    i = 0
    while written < total_bytes:
        b = record_bytes(recs[i % distinct], i)
        out.write(b)
        written += len(b)
        i += 1
    out.flush()
    return written, i


def edges():
    E = 10 ** np.linspace(np.log10(1e-8), np.log10(1 + 1e-8), 101)
    E[0] -= 1e-9
    return E


def read_records(path):
    f = gzip.open(path) if open(path, "rb").read(2) == b"\x1f\x8b" else open(path, "rb")
    while True:
        try:
            m = np.load(f)
        except EOFError:
            return
        if json.loads(m.tobytes()).get("kind") == "stream":
            continue
        yield np.load(f)


def numpy_whole(path):
    """np.histogram of every record, read included: (bytes, CPU seconds, wall seconds)."""
    E = edges()
    t = time.process_time()
    w = time.perf_counter()
    nbytes = 0
    c = np.zeros(100, np.int64)
    for x in read_records(path):
        c += np.histogram(x + 1e-8, bins=E)[0]
        nbytes += x.nbytes
    return nbytes, time.process_time() - t, time.perf_counter() - w


def numpy_rows(path, rows=20000):
    E = edges()
    x = next(read_records(path)).reshape(-1, SHAPE and 384)
    x = x[:rows]
    t = time.process_time()
    for r in x:
        np.histogram(r + 1e-8, bins=E)
    return x.nbytes, time.process_time() - t


def run_timed(cmd, stdin=None):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, CPU seconds, peak RSS in MB)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"bench_hist: {' '.join(cmd)} failed: {p.stderr[-500:]}")
    def field(name):
        v = [l for l in p.stderr.splitlines() if name in l]
        return float(v[0].split(":")[-1]) if v else float("nan")
    cpu = field("User time (seconds)") + field("System time (seconds)")
    return dt, cpu, field("Maximum resident set size") / 1024


def pipe_run(hist, gb):
    gen = subprocess.Popen([sys.executable, os.path.abspath(__file__), "gen", "--gb", str(gb)], stdout=subprocess.PIPE)
    dt, cpu, rss = run_timed([hist, "-", "--quiet"], stdin=gen.stdout)
    gen.stdout.close()
    gen.wait()
    return dt, cpu, rss


def main(argv):
    if argv and argv[0] == "gen":
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--gb", type=float, required=True)
        p.add_argument("--n", type=int, default=384)
        a = p.parse_args(argv[1:])
        try:
            generate(sys.stdout.buffer, int(a.gb * 1e9), a.n)
        except BrokenPipeError:
            pass
        return
    import argparse
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bin", nargs="?", default=".build/release")
    p.add_argument("--mb", type=float, default=400)
    p.add_argument("--pipe-gb", type=float, default=0)
    a = p.parse_args(argv)
    hist = os.path.join(a.bin, "spiqa-hist")
    if not os.access(hist, os.X_OK):
        sys.exit(f"bench_hist: {hist} not built (swift build -c release --product spiqa-hist)")
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "bench.npy")
        gz = os.path.join(d, "bench.npy.gz")
        with open(plain, "wb") as f:
            size, recs = generate(f, int(a.mb * 1e6))
        with open(plain, "rb") as src, gzip.GzipFile(gz, "wb", compresslevel=1, mtime=0) as dst:
            while True:
                b = src.read(1 << 24)
                if not b:
                    break
                dst.write(b)
        # The stream as the spiqa tools write it (default `fast` gzip, members with the SQ field); numpy reads
        # it with gzip.open like any gzip file, so both sides see exactly the same bytes.
        sq = os.path.join(d, "bench-spiqa.npy.gz")
        subprocess.run([os.path.join(a.bin, "spiqa-quantize"), plain, "--quiet", "--output", sq], check=True)
        mb = size / 1e6
        print(f"data: {recs} records [6,12,384,384] f32, {mb:.0f} MB (Python gzip -1: {os.path.getsize(gz) / 1e6:.0f} MB, "
              f"spiqa fast: {os.path.getsize(sq) / 1e6:.0f} MB)")
        inputs = [("plain", plain), ("Python gzip -1", gz), ("spiqa gzip", sq)]
        rows = []
        for name, path in inputs:
            nb, cpu, wall = numpy_whole(path)
            rows.append((f"numpy np.histogram per record ({name})", nb / 1e6 / cpu, nb / 1e6 / wall, float("nan")))
        nb, dt = numpy_rows(plain)
        rows.append(("numpy np.histogram per row (reference §3.3 loop)", nb / 1e6 / dt, nb / 1e6 / dt, float("nan")))
        runs = [("every statistic", []), ("--no-row-stats", ["--no-row-stats"])]
        for label, flags in runs:
            for name, path in inputs:
                for threads in ["1", "2"]:
                    dt, cpu, rss = run_timed([hist, path, "--quiet", "--threads", threads] + flags)
                    rows.append((f"spiqa-hist {label} ({name}, {threads} thread(s))", mb / cpu, mb / dt, rss))
        print("MB of f32 attention per CPU-second and per wall second (numpy is single-threaded: both equal; wall")
        print("rates need a quiet machine); numpy reads with np.load (gzip.open for gzip), records read included")
        print(f"{'what':<62} {'MB/CPU-s':>9} {'MB/s wall':>10} {'peak RSS MB':>12}")
        for what, rate, wall, rss in rows:
            print(f"{what:<62} {rate:9.0f} {wall:10.0f} {rss:12.0f}")
        r = {w: (c, wl) for w, c, wl, _ in rows}
        for name, _ in inputs:
            npw = r[f"numpy np.histogram per record ({name})"][1]
            for label, _ in runs:
                ours = r[f"spiqa-hist {label} ({name}, 2 thread(s))"][1]
                print(f"{name}: spiqa-hist {label} (2 threads) vs numpy np.histogram per record, wall: {ours / npw:.1f}x")
        np_rows = r["numpy np.histogram per row (reference §3.3 loop)"][0]
        print(f"plain: spiqa-hist every statistic (1 thread) vs numpy per-row loop, per CPU-second: "
              f"{r['spiqa-hist every statistic (plain, 1 thread(s))'][0] / np_rows:.1f}x")
    if a.pipe_gb > 0:
        for gb in [a.pipe_gb / 10, a.pipe_gb]:
            dt, cpu, rss = pipe_run(hist, gb)
            print(f"pipe: {gb:g} GB generated | spiqa-hist -: {dt:.0f} s wall ({gb * 1e3 / dt:.0f} MB/s), "
                  f"{cpu:.0f} CPU-s ({gb * 1e3 / cpu:.0f} MB per CPU-second), peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
