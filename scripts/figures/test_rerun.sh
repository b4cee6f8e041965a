#!/usr/bin/env bash
# `make figures-test`: `make figures SMOKE=1` twice into a scratch folder; the second run must execute no recipe.
#
#   scripts/figures/test_rerun.sh BIN SHARED [PYTHON]     (BIN: the built tools; SHARED: ../shared)
#
# 1. make figures SMOKE=1 into a fresh scratch folder (FIG_RESULTS / FIG_FIGURES under mktemp -d; docs/results.md
#    and results/smoke are not touched);
# 2. make -q figures (the same variables) must exit 0: make itself finds nothing out of date;
# 3. make figures again for real: it must print only "Nothing to be done" and change no file (modification times
#    and sizes of every file in the scratch folder compared before and after).
# Prints the wall time of both runs. Skips (exit 0, saying why) when SHARED's models or data, the tools, or
# numpy/matplotlib are missing. KEEP=1 keeps the scratch folder; FIGURES_TEST_DIR=DIR uses (and keeps) DIR instead,
# so a repeated test only pays for the second run; FIGURES_TEST_MAKEFLAGS (default -j2, which also checks that the
# pipeline is safe in parallel) is passed on.
set -uo pipefail
bin=${1:?usage: test_rerun.sh BIN SHARED [PYTHON]}
shared=${2:?usage: test_rerun.sh BIN SHARED [PYTHON]}
py=${3:-python3}
skip() { echo "figures-test: SKIPPED: $*"; exit 0; }
fail() { echo "figures-test: FAILED: $*" >&2; exit 1; }
for f in models/minilm-squad models/minilm-sst2 data/squad/dev-v1.1.json data/glue/SST-2/dev.tsv; do
  [ -e "$shared/$f" ] || skip "$shared/$f is absent (the shared models and data)"
done
[ -e models/all-MiniLM-L6-v2/config.json ] || skip "models/all-MiniLM-L6-v2 is absent (make model)"
for t in spiqa-eval spiqa-extract spiqa-hist spiqa-quantize; do
  [ -x "$bin/$t" ] || skip "$bin/$t is not built"
done
"$py" -c 'import numpy, matplotlib' 2>/dev/null || skip "$py has no numpy/matplotlib (make figures-setup installs them)"

if [ -n "${FIGURES_TEST_DIR:-}" ]; then   # a kept folder: the first run only completes what is missing
  mkdir -p "$FIGURES_TEST_DIR" && work=$(cd "$FIGURES_TEST_DIR" && pwd)
else
  work=$(mktemp -d /tmp/spiqa-figures-test.XXXXXX)
  [ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/results" "$work/figures"
vars=(SMOKE=1 FIG_RUN=smoke FIG_RESULTS="$work/results" FIG_FIGURES="$work/figures" FIG_BIN="$bin" NO_BUILD=1
      SHARED="$shared" FIG_SHARED="$shared" FIG_PYTHON="$py")
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS ${MAKE:-make} --no-print-directory ${FIGURES_TEST_MAKEFLAGS--j2} "$@"; }
snapshot() { find "$work/results" "$work/figures" -type f -printf '%P %s %T@\n' | sort; }

t0=$(date +%s%N)
mk figures "${vars[@]}" > "$work/first.log" 2>&1 || { tail -30 "$work/first.log" >&2; fail "the first make figures SMOKE=1 failed"; }
t1=$(date +%s%N)
echo "figures-test: first run $(( (t1 - t0) / 1000000 )) ms"
before=$(snapshot)

if ! mk -q figures "${vars[@]}"; then
  echo "figures-test: make -n says it would run:" >&2
  mk -n figures "${vars[@]}" 2>&1 | head -30 >&2
  fail "make -q figures: the second run is not up to date"
fi

t2=$(date +%s%N)
mk figures "${vars[@]}" > "$work/second.log" 2>&1 || { cat "$work/second.log" >&2; fail "the second make figures failed"; }
t3=$(date +%s%N)
after=$(snapshot)
echo "figures-test: second run $(( (t3 - t2) / 1000000 )) ms"
if grep -v "Nothing to be done for 'figures'" "$work/second.log" | grep -q .; then
  cat "$work/second.log" >&2
  fail "the second make figures printed more than \"Nothing to be done\" (it ran a recipe)"
fi
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") | head -20 >&2
  fail "the second make figures changed files"
fi
n=$(echo "$before" | wc -l)
echo "figures-test: OK: the second make figures ran no recipe and changed none of the $n files"
