#!/usr/bin/env bash
# `make bench`: every benchmark in one run, Swift next to Python (numpy / PyTorch when installed).
# Prints numbers only; nothing here asserts a time.
set -uo pipefail
BIN=${1:-.build/release}
cd "$(dirname "$0")/.."
export SPIQA_MODEL=${SPIQA_MODEL:-$PWD/models/all-MiniLM-L6-v2}
export SPIQA_SHARED=${SPIQA_SHARED:-$(cd .. && pwd)/shared}
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
have_torch=0; python3 -c 'import torch, transformers' 2>/dev/null && have_torch=1

section() { printf '\n==== %s ====\n' "$1"; }
run() { echo "\$ $*"; "$@" || echo "(failed: exit $?)"; }

for area in io tokenizers runtime quantize hist extract eval attention; do
  if "$BIN/spiqa-bench" help "$area" >/dev/null 2>&1; then
    section "$area (Swift)"
    BENCH_OUT="$OUT" run "$BIN/spiqa-bench" "$area"
  fi
  py=scripts/bench_${area}.py
  if [ -f "$py" ]; then
    needs_torch=0; grep -q '^import torch\|^from transformers\|import torch$' "$py" && needs_torch=1
    if [ $needs_torch = 1 ] && [ $have_torch = 0 ]; then
      section "$area (Python): skipped, torch/transformers not installed (pip install torch transformers)"
    else
      section "$area (Python)"
      BENCH_OUT="$OUT" run python3 "$py"
    fi
  fi
done
