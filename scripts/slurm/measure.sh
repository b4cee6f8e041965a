#!/usr/bin/env bash
# The table of docs/scaling.md: 1 vs 2 shards through a Slurm cluster (SLURM_CONF set; scripts/slurm/local_cluster.sh
# starts one on this machine), with the single process beside them, and the merge's equality checks.
#
#   scripts/slurm/measure.sh BIN SHARED WORKDIR
set -euo pipefail
bin=$(cd "$1" && pwd); shared=$2; work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"; work=$(cd "$work" && pwd)
export SPIQA_BIN=$bin
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }
same() { python3 - "$1" "$2" <<'PY'
import json, sys
l = [{k: v for k, v in json.load(open(p)).items() if k != "seconds" and not k.endswith("_per_second")} for p in sys.argv[1:]]
sys.exit(0 if l[0] == l[1] else 1)
PY
}
QA=(--task squad --model "$shared/models/minilm-squad" --data "$shared/data/squad/dev-v1.1.json" --samples 100)
S2=(--task sst2 --model "$shared/models/minilm-sst2" --data "$shared/data/glue/SST-2/dev.tsv")
echo "| run | single process | Slurm, 1 shard | Slurm, 2 shards | merged = single process |"
echo "|---|---|---|---|---|"

t0=$(now); "$bin/spiqa-eval" --quiet "${QA[@]}" --per-example "$work/qa.jsonl" > "$work/qa.json"; t1=$(now)
rm -rf "$work/qa1" "$work/qa2"
"$here/sharded.sh" eval 1 "$work/qa1" -- "${QA[@]}" 2>/dev/null; t2=$(now)
"$here/sharded.sh" eval 2 "$work/qa2" -- "${QA[@]}" 2>/dev/null; t3=$(now)
ok="result line: $(same "$work/qa2/result.json" "$work/qa.json" && echo equal || echo DIFFERENT)"
ok+="; per-example file: $(cmp -s "$work/qa2/examples.jsonl" "$work/qa.jsonl" && echo identical || echo DIFFERENT)"
echo "| spiqa-eval, SQuAD, 100 questions | $(secs "$t0" "$t1") s | $(secs "$t1" "$t2") s | $(secs "$t2" "$t3") s | $ok |"

t0=$(now); "$bin/spiqa-extract" -q "${S2[@]}" --output "$work/s2.npy.gz"; "$bin/spiqa-hist" --quiet "$work/s2.npy.gz" > "$work/s2.tsv"; t1=$(now)
rm -rf "$work/s21" "$work/s22"
"$here/sharded.sh" extract 1 "$work/s21" -- "${S2[@]}" 2>/dev/null; t2=$(now)
"$here/sharded.sh" extract 2 "$work/s22" -- "${S2[@]}" 2>/dev/null; t3=$(now)
ok="stream uncompressed: $(cmp -s <(gzip -dc "$work/s22/attention.npy.gz") <(gzip -dc "$work/s2.npy.gz") && echo identical || echo DIFFERENT)"
ok+="; hist table: $(cmp -s "$work/s22/hist.tsv" "$work/s2.tsv" && echo identical || echo DIFFERENT)"
echo "| spiqa-extract + spiqa-hist, SST-2, 872 sentences | $(secs "$t0" "$t1") s | $(secs "$t1" "$t2") s | $(secs "$t2" "$t3") s | $ok |"

P=(--compression none)
t0=$(now); "$bin/spiqa-extract" -q "${S2[@]}" --limit 200 "${P[@]}" --output "$work/p.npy"; "$bin/spiqa-hist" --quiet "$work/p.npy" > "$work/p.tsv"; t1=$(now)
rm -rf "$work/p1" "$work/p2"
"$here/sharded.sh" extract 1 "$work/p1" -- "${S2[@]}" --limit 200 "${P[@]}" 2>/dev/null; t2=$(now)
"$here/sharded.sh" extract 2 "$work/p2" -- "${S2[@]}" --limit 200 "${P[@]}" 2>/dev/null; t3=$(now)
ok="cat of the shards: $(cmp -s <(cat "$work"/p2/shard-*-of-2.npy) "$work/p.npy" && echo identical || echo DIFFERENT)"
ok+="; hist table: $(cmp -s "$work/p2/hist.tsv" "$work/p.tsv" && echo identical || echo DIFFERENT)"
echo "| same, 200 sentences, --compression none | $(secs "$t0" "$t1") s | $(secs "$t1" "$t2") s | $(secs "$t2" "$t3") s | $ok |"
