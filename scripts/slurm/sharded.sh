#!/usr/bin/env bash
# Run one spiqa-extract or spiqa-eval in N shards on a Slurm cluster and merge them (docs/scaling.md).
#
#   scripts/slurm/sharded.sh extract N OUTDIR -- [spiqa-extract flags]   → OUTDIR/attention.npy.gz (+ hist.tsv)
#   scripts/slurm/sharded.sh eval    N OUTDIR -- [spiqa-eval flags]      → OUTDIR/result.json, OUTDIR/examples.jsonl
#
# Submits the shards that have no output yet as one job array (`sbatch --array`, task i runs `--shard i/N`), then a
# merge job that depends on it (`--dependency=afterok`, cancelled if a shard fails), and waits until it has left
# the queue (scripts/slurm/wait_jobs.sh).
# extract: the merge is `cat` of the shard streams (the whole run's stream; with --compression none byte for byte),
# then `spiqa-hist` of it into hist.tsv. eval: `spiqa-eval --merge` of the shards' --per-example files (the
# unsharded result line and per-example lines). Every output is written under a temporary name and renamed, so a
# failed or cancelled shard leaves nothing behind and running the same command again submits only that shard.
#
# Environment: SPIQA_BIN (folder of the tools, default .build/release), SHARDED_HIST=0 (no hist.tsv),
# SHARDED_FAILURE_ROWS=1 (eval: a shard's exit 65 makes result.json a failure row, as scripts/figures/eval_row.py
# does; `make figures` sets it), and the site's sbatch options
# SLURM_PARTITION (-p), SLURM_ACCOUNT (-A), SLURM_TIME (-t), SLURM_CPUS (--cpus-per-task); SLURM_EXTRA is added
# to every sbatch as is. Job logs go to OUTDIR/slurm/. Exit status: 0 when the merged outputs exist, 1 otherwise.
set -euo pipefail
usage() { echo "usage: sharded.sh extract|eval N OUTDIR -- TOOL_FLAGS..." >&2; exit 64; }
[ $# -ge 4 ] && [ "$4" = "--" ] || usage
mode=$1; n=$2; out=$3; shift 4
case $mode in extract|eval) ;; *) usage ;; esac
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "sharded.sh: N must be a whole number ≥ 1, got '$n'" >&2; exit 64; }
bin=$(cd "${SPIQA_BIN:-.build/release}" && pwd)
mkdir -p "$out/slurm"
out=$(cd "$out" && pwd)

site=(--parsable)
[ -n "${SLURM_PARTITION:-}" ] && site+=(--partition "$SLURM_PARTITION")
[ -n "${SLURM_ACCOUNT:-}" ] && site+=(--account "$SLURM_ACCOUNT")
[ -n "${SLURM_TIME:-}" ] && site+=(--time "$SLURM_TIME")
[ -n "${SLURM_CPUS:-}" ] && site+=(--cpus-per-task "$SLURM_CPUS")
# shellcheck disable=SC2206
[ -n "${SLURM_EXTRA:-}" ] && site+=($SLURM_EXTRA)

ext=.npy.gz
for a in "$@"; do case $a in --no-gzip|none|--compression=none) ext=.npy ;; esac; done
if [ "$mode" = extract ]; then
  shard_file() { echo "$out/shard-$1-of-$n$ext"; }
  merged=("$out/attention$ext")
  [ "${SHARDED_HIST:-1}" = 0 ] || merged+=("$out/hist.tsv")
else
  shard_file() { [ -e "$out/shard-$1-of-$n.failed" ] && echo "$out/shard-$1-of-$n.failed" || echo "$out/shard-$1-of-$n.jsonl"; }
  merged=("$out/result.json" "$out/examples.jsonl")
fi
done_all() { for f in "$@"; do [ -e "$f" ] || return 1; done; }
if done_all "${merged[@]}"; then echo "sharded: $out is complete" >&2; exit 0; fi

q() { local s; s=$(printf '%q ' "$@"); echo "${s% }"; }
tool=$(q "$bin/spiqa-$mode" "$@")
missing=()
for ((i = 0; i < n; i++)); do
  [ -e "$(shard_file $i)" ] || { missing+=("$i"); rm -f "$(shard_file $i)".tmp* "$(shard_file $i)".*tmp-* 2>/dev/null || true; }
done

dep=()
if [ ${#missing[@]} -gt 0 ]; then
  list=$(IFS=,; echo "${missing[*]}")
  if [ "$mode" = extract ]; then
    task="$tool --quiet --shard \$SLURM_ARRAY_TASK_ID/$n --output $(q "$out/shard-")\$SLURM_ARRAY_TASK_ID-of-$n$ext"
  else
    s="$(q "$out/shard-")\$SLURM_ARRAY_TASK_ID-of-$n"
    task="rc=0; $tool --quiet --shard \$SLURM_ARRAY_TASK_ID/$n --per-example $s.jsonl > $s.json.tmp 2> $s.err || rc=\$?"
    task+=$'\ncat '"$s.err"$' >&2\nif [ $rc = 0 ]; then mv '"$s.json.tmp $s.json; rm -f $s.err; exit 0; fi"
    if [ "${SHARDED_FAILURE_ROWS:-0}" = 1 ]; then
      task+=$'\nif [ $rc = 65 ]; then mv '"$s.err $s.failed; rm -f $s.json.tmp; exit 0; fi"
    fi
    task+=$'\nexit $rc'
  fi
  printf '#!/usr/bin/env bash\nset -euo pipefail\n%s\n' "$task" > "$out/slurm/shard.sh"
  array=$(sbatch "${site[@]}" --job-name "spiqa-$mode-shard" --array "$list" \
    --output "$out/slurm/shard-%a.log" "$out/slurm/shard.sh")
  echo "sharded: job array $array submitted: shards $list of $n" >&2
  dep=(--dependency "afterok:$array" --kill-on-invalid-dep=yes)
fi

files=()
for ((i = 0; i < n; i++)); do files+=("$(shard_file $i)"); done
if [ "$mode" = extract ]; then
  merge="cat $(q "${files[@]}") > $(q "${merged[0]}.tmp")"
  if [ ${#merged[@]} = 2 ]; then
    merge+=" && $(q "$bin/spiqa-hist") --quiet $(q "${merged[0]}.tmp") > $(q "${merged[1]}.tmp")"
    merge+=" && mv $(q "${merged[1]}.tmp") $(q "${merged[1]}")"
  fi
  merge+=" && mv $(q "${merged[0]}.tmp") $(q "${merged[0]}")"
else
  merge="$(q "$bin/spiqa-eval") --merge $(q "${files[@]}") --per-example $(q "${merged[1]}") > $(q "${merged[0]}.tmp")"
  merge+=" && mv $(q "${merged[0]}.tmp") $(q "${merged[0]}")"
  if [ "${SHARDED_FAILURE_ROWS:-0}" = 1 ]; then
    # A shard that exited 65 (a setting the method cannot handle) makes the row a failure row, as
    # scripts/figures/eval_row.py records it for an unsharded run.
    fail="python3 -c 'import json, sys; e = open(sys.argv[1]).read().strip().splitlines(); "
    fail+="print(json.dumps({\"failed\": True, \"exit_code\": 65, \"error\": e[-1] if e else \"exit code 65\", "
    fail+="\"command\": sys.argv[2:]}, sort_keys=True))' \"\${failed[0]}\" $tool > $(q "${merged[0]}.tmp")"
    fail+=" && : > $(q "${merged[1]}") && mv $(q "${merged[0]}.tmp") $(q "${merged[0]}")"
    merge=$'shopt -s nullglob\nfailed=('"$(q "$out")"$'/shard-*-of-'"$n"$'.failed)\nif [ ${#failed[@]} -gt 0 ]; then '"$fail"$'\nelse '"$merge"$'\nfi'
  fi
fi
printf '#!/usr/bin/env bash\nset -euo pipefail\n%s\n' "$merge" > "$out/slurm/merge.sh"
job=$(sbatch "${site[@]}" "${dep[@]}" --job-name "spiqa-$mode-merge" --output "$out/slurm/merge.log" \
  "$out/slurm/merge.sh")
"$(dirname "$0")/wait_jobs.sh" "$job"
echo "sharded: merge job $job has left the queue" >&2
if done_all "${merged[@]}"; then exit 0; fi
absent=()
for ((i = 0; i < n; i++)); do [ -e "$(shard_file $i)" ] || absent+=("$i"); done
echo "sharded: incomplete: shards without output: ${absent[*]:-none} (logs in $out/slurm/); run the same command again" >&2
exit 1
