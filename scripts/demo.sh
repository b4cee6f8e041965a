#!/usr/bin/env bash
# `make demo`: a short real pipeline on the default model.
#   extract 20 SQuAD questions -> quantize (3-bit log-pruned, the paper's method) -> histograms -> summary
# The streams are written small, as a first look needs no more: attention as float16 with token labels
# (--dtype f16 --tokens; f32 is the default for exact work) and the quantized stream as 3-bit codes (--dtype codes).
set -euo pipefail
BIN=${1:-.build/release}
cd "$(dirname "$0")/.."
OUT=${DEMO_OUT:-work/demo}
mkdir -p "$OUT"
SHARED=${SPIQA_SHARED:-$(cd .. && pwd)/shared}
SQUAD=$SHARED/data/squad/dev-v1.1.json
if [ ! -f "$SQUAD" ]; then
  SQUAD=data/squad/dev-v1.1.json
  if [ ! -f "$SQUAD" ]; then
    echo "demo: ../shared is absent; downloading the official SQuAD v1.1 dev set" >&2
    mkdir -p data/squad
    curl -fsSL -o "$SQUAD.partial" https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json
    mv "$SQUAD.partial" "$SQUAD"
  fi
fi
MODEL=models/all-MiniLM-L6-v2

echo "demo: extracting attention for 20 SQuAD questions ($MODEL)" >&2
"$BIN/spiqa-extract" --model "$MODEL" --task squad --data "$SQUAD" --samples 20 --dtype f16 --tokens \
  --output "$OUT/attention.npy.gz"
echo "demo: quantizing (log-pruned, 3 bits)" >&2
"$BIN/spiqa-quantize" "$OUT/attention.npy.gz" --method log-pruned --bits 3 --dtype codes \
  --output "$OUT/attention-q3.npy.gz" \
  --report "$OUT/quantize-report.json"
echo "demo: histograms and sparsity" >&2
"$BIN/spiqa-hist" "$OUT/attention.npy.gz" > "$OUT/heads.tsv"
"$BIN/spiqa-hist" "$OUT/attention-q3.npy.gz" > "$OUT/heads-q3.tsv"

python3 - "$OUT" <<'PY'
import csv, json, os, sys
out = sys.argv[1]
def load(p):
    with open(p) as f:
        return list(csv.DictReader(f, delimiter="\t"))
def sizes(*names):
    return ", ".join(f"{n} {os.path.getsize(os.path.join(out, n))/1e6:.1f} MB" for n in names)
print(f"spiqa demo — outputs in {out}/")
print("  streams:", sizes("attention.npy.gz", "attention-q3.npy.gz"))
for name in ("heads.tsv", "heads-q3.tsv"):
    rows = load(os.path.join(out, name))
    if rows and "sparsity" in rows[0] and "le_0.001" in rows[0]:
        def mean(k):
            return sum(float(r[k]) for r in rows) / len(rows)
        print(f"  {name}: {len(rows)} heads, mean share of exact zeros {mean('sparsity'):.4f}, "
              f"of values <= 1e-3 {mean('le_0.001'):.4f}")
print("  (float16 rounds values below 6e-8 to zero; extract with --dtype f32 for exact zero counts)")
rep = json.load(open(os.path.join(out, "quantize-report.json")))
print("  quantize report:", json.dumps(rep)[:400])
PY
