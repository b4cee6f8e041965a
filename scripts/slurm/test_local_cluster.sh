#!/usr/bin/env bash
# `make slurm-test` (part of `make test`): spiqa's shards and merges through a real Slurm cluster on this machine.
#
# Starts munged, slurmctld and slurmd (scripts/slurm/local_cluster.sh, a generated slurm.conf in a scratch folder),
# runs 2-shard extractions (+ spiqa-hist) and evaluations of a small sample through sbatch job arrays and dependent
# merge jobs (scripts/slurm/sharded.sh), and checks that the merged results equal the single-process run: streams
# byte for byte (plain) or record for record (gzip, compared uncompressed), hist tables and per-example files byte
# for byte, result lines equal but for their timings. Then it cancels one shard mid-run (scancel), checks that the
# rerun submits only that shard, and stops the daemons it started.
#
#   scripts/slurm/test_local_cluster.sh BIN SHARED        (BIN: the built tools; SHARED: ../shared)
#
# Skips (exit 0, with the reason) when not root or when ../shared's models are absent; fails when slurm-wlm or
# munge are missing (`make slurm-test` installs them first and says so when it cannot).
set -euo pipefail
bin=$(cd "${1:?usage: test_local_cluster.sh BIN SHARED}" && pwd)
shared=${2:?usage: test_local_cluster.sh BIN SHARED}
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "slurm-test: SKIPPED: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root to start slurmd and munged"
[ -d "$shared/models/minilm-sst2" ] && [ -d "$shared/models/minilm-squad" ] || skip "$shared/models is absent"
command -v sbatch >/dev/null && [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ] \
  || { echo "slurm-test: FAILED: slurm-wlm and munge are not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/spiqa-slurm-test.XXXXXX)
chmod 0755 "$work"   # munged runs as the munge user and must reach its socket folder inside
cleanup() { "$here/local_cluster.sh" stop "$work/cluster" || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
fails=0
check() {  # check NAME COMMAND...: run a comparison, report it
  if "${@:2}" >/dev/null 2>&1; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}
# Result lines equal but for timings (seconds, *_per_second).
same_result() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def load(p):
    d = json.loads(open(p).read())
    return {k: v for k, v in d.items() if k != "seconds" and not k.endswith("_per_second")}
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
}

# Ports of its own (two: slurmctld, slurmd), so a cluster started by hand or another test run is not disturbed.
export SPIQA_SLURM_PORT=${SPIQA_SLURM_PORT:-$((20000 + RANDOM % 10000 * 2))}
conf=$("$here/local_cluster.sh" start "$work/cluster")
eval "$conf"
export SLURM_CONF SPIQA_BIN=$bin
echo "slurm-test: cluster up ($(sinfo -h -o '%P %D %c %t'))"
S2=(--task sst2 --model "$shared/models/minilm-sst2" --data "$shared/data/glue/SST-2/dev.tsv" --samples 6 --batch-size 3)
SQ=(--task squad --model "$shared/models/minilm-squad" --data "$shared/data/squad/dev-v1.1.json" --samples 3)
ref=$work/ref; mkdir -p "$ref"

# The single-process runs.
"$bin/spiqa-extract" -q "${S2[@]}" --compression none --output "$ref/sst2.npy"
"$bin/spiqa-hist" --quiet "$ref/sst2.npy" > "$ref/sst2.hist.tsv"
"$bin/spiqa-extract" -q "${SQ[@]}" --output "$ref/squad.npy.gz"
"$bin/spiqa-hist" --quiet "$ref/squad.npy.gz" > "$ref/squad.hist.tsv"
"$bin/spiqa-eval" --quiet "${S2[@]}" --threshold 0.01 --per-example "$ref/sst2.jsonl" > "$ref/sst2.json"
"$bin/spiqa-eval" --quiet "${SQ[@]}" --per-example "$ref/squad.jsonl" > "$ref/squad.json"

# The same through Slurm, two shards each.
run() { "$here/sharded.sh" "$@" 2>>"$work/sharded.log"; }
run extract 2 "$work/x_sst2" -- "${S2[@]}" --compression none
run extract 2 "$work/x_squad" -- "${SQ[@]}"
run eval 2 "$work/e_sst2" -- "${S2[@]}" --threshold 0.01
run eval 2 "$work/e_squad" -- "${SQ[@]}"
check "sst2: cat of the 2 shard streams = the single-process stream (cmp)" \
  cmp <(cat "$work/x_sst2/shard-0-of-2.npy" "$work/x_sst2/shard-1-of-2.npy") "$ref/sst2.npy"
check "sst2: the merge job's stream = the single-process stream (cmp)" cmp "$work/x_sst2/attention.npy" "$ref/sst2.npy"
check "sst2: spiqa-hist of the merged stream = of the single-process stream" \
  cmp "$work/x_sst2/hist.tsv" "$ref/sst2.hist.tsv"
check "squad (gzip): the merged stream's bytes uncompressed = the single-process stream's" \
  cmp <(gzip -dc "$work/x_squad/attention.npy.gz") <(gzip -dc "$ref/squad.npy.gz")
check "squad: spiqa-hist of the merged stream = of the single-process stream" \
  cmp "$work/x_squad/hist.tsv" "$ref/squad.hist.tsv"
check "sst2: spiqa-eval --merge result line = the single-process line (timings aside)" \
  same_result "$work/e_sst2/result.json" "$ref/sst2.json"
check "sst2: merged per-example lines = the single-process file (cmp)" cmp "$work/e_sst2/examples.jsonl" "$ref/sst2.jsonl"
check "squad: spiqa-eval --merge result line = the single-process line (timings aside)" \
  same_result "$work/e_squad/result.json" "$ref/squad.json"
check "squad: merged per-example lines = the single-process file (cmp)" cmp "$work/e_squad/examples.jsonl" "$ref/squad.jsonl"

# Shards that do not belong together are refused with one line and exit 65.
refused() {  # refused FILES...: spiqa-eval --merge must exit 65 with a one-line message
  local rc=0 err
  err=$("$bin/spiqa-eval" --merge "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" = 65 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
}
check "--merge refuses shards of different runs (exit 65)" \
  refused "$work/e_sst2/shard-0-of-2.jsonl" "$work/e_squad/shard-1-of-2.jsonl"
check "--merge refuses a missing shard (exit 65)" refused "$work/e_sst2/shard-0-of-2.jsonl"
check "--merge refuses a duplicate shard (exit 65)" \
  refused "$work/e_sst2/shard-0-of-2.jsonl" "$work/e_sst2/shard-0-of-2.jsonl" "$work/e_sst2/shard-1-of-2.jsonl"

# Cancel shard 1 mid-run; the rerun submits only it. 60 questions: a few seconds per shard, time to catch it running.
# Exact SQuAD runs windows of 4 x --batch-size questions in length-sorted batches and a shard takes whole windows:
# --batch-size 5 makes three windows of 20 (shards of 20 and 40 questions), and the cmp below checks the bits.
BIG=(--task squad --model "$shared/models/minilm-squad" --data "$shared/data/squad/dev-v1.1.json" --samples 60
     --batch-size 5)
out=$work/e_cancel
( rc=0; run eval 2 "$out" -- "${BIG[@]}" || rc=$?; echo "$rc" > "$work/cancel.rc" ) &
task=""
for _ in $(seq 600); do
  task=$(squeue -h -n spiqa-eval-shard -t R -o %i | grep '_1$' || true)
  [ -n "$task" ] && break
  sleep 0.1
done
sleep 0.5
[ -n "$task" ] && scancel "$task"
wait
check "scancel of shard 1 ($task) while running: the first run fails" test "$(cat "$work/cancel.rc")" = 1
check "  shard 0 finished, shard 1 and the merged result absent" \
  bash -c "[ -e '$out/shard-0-of-2.jsonl' ] && [ ! -e '$out/shard-1-of-2.jsonl' ] && [ ! -e '$out/result.json' ]"
before=$(stat -c '%i %Y' "$out/shard-0-of-2.jsonl")
: > "$work/sharded.log"
run eval 2 "$out" -- "${BIG[@]}"
check "  the rerun submitted only shard 1" grep -q "shards 1 of 2\$" "$work/sharded.log"
check "  shard 0's file untouched by the rerun" test "$(stat -c '%i %Y' "$out/shard-0-of-2.jsonl")" = "$before"
"$bin/spiqa-eval" --quiet "${BIG[@]}" --per-example "$ref/big.jsonl" > "$ref/big.json"
check "  the merged result = the single-process result (timings aside)" same_result "$out/result.json" "$ref/big.json"
check "  the merged per-example lines = the single-process file (cmp)" cmp "$out/examples.jsonl" "$ref/big.jsonl"

if [ "$fails" -gt 0 ]; then
  echo "slurm-test: $fails check(s) failed (KEEP=1 keeps $work)"; KEEP=1; exit 1
fi
echo "slurm-test: all checks passed"
