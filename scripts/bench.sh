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

# One area's Swift bench, then its Python counterpart, writing into $2 (extra Swift flags after it).
bench_area() {
  local area=$1 out=$2; shift 2
  if "$BIN/spiqa-bench" help "$area" >/dev/null 2>&1; then
    section "$area (Swift, output in $out)"
    BENCH_OUT="$out" run "$BIN/spiqa-bench" "$area" "$@"
  fi
  py=scripts/bench_${area}.py
  if [ -f "$py" ]; then
    needs_torch=0; grep -q '^import torch\|^from transformers\|import torch$' "$py" && needs_torch=1
    if [ $needs_torch = 1 ] && [ $have_torch = 0 ]; then
      section "$area (Python): skipped, torch/transformers not installed (pip install torch transformers)"
    else
      section "$area (Python, output in $out)"
      BENCH_OUT="$out" run python3 "$py"
    fi
  fi
}

for area in io tokenizers runtime quantize hist extract eval attention; do
  bench_area "$area" "$OUT"
  # Uncompressed extraction is bound by the file system: the same comparison again on tmpfs.
  if [ "$area" = extract ] && [ -d /dev/shm ]; then
    shm=$(mktemp -d /dev/shm/spiqa-bench.XXXXXX)
    bench_area extract "$shm" --rss-features 0
    rm -rf "$shm"
  fi
  # Length-bucketed batching needs windows of many questions: exact attention per question vs 20 features per pass.
  if [ "$area" = eval ] && "$BIN/spiqa-bench" help eval >/dev/null 2>&1; then
    section "eval (Swift): exact attention, one question per pass vs length-bucketed batches"
    run "$BIN/spiqa-bench" eval --only longest --chunk 40 --questions 160
    # The data-dependent quantizers lean most on the C kernels: on an AVX-512 machine, again as an AVX2 one runs them.
    if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
      section "eval (Swift): the data-dependent quantizers with AVX2 kernels and OpenBLAS's Haswell sgemm"
      SPIQA_MAX_ISA=avx2 OPENBLAS_CORETYPE=Haswell run "$BIN/spiqa-bench" eval --only mean --questions 40
    fi
  fi
done
