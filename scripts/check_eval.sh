#!/usr/bin/env bash
# The big spiqa-eval checks against the committed Python/transformers reference numbers.
#   scripts/check_eval.sh [BIN_DIR]          first 1000 SQuAD dev questions, the paper's 100, SST-2 (all 872) at
#                                            thresholds 0, 1e-3, 1e-2, 5e-2
#   FULL=1 scripts/check_eval.sh [BIN_DIR]   also all 10,570 SQuAD dev questions (docs/evaluation.md: EM 60.8231 / F1 72.2336)
# Needs $SPIQA_SHARED (when empty: ../shared beside this package) with models/minilm-{squad,sst2} and the data;
# exits 1 on any mismatch.
set -euo pipefail
BIN=${1:-.build/release}
SHARED=${SPIQA_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
FIX=Tests/SpiqaTasksTests/Fixtures
OUT=${CHECK_OUT:-$(mktemp -d)}
EVAL="$BIN/spiqa-eval"
[ -x "$EVAL" ] || { echo "check_eval: $EVAL missing (swift build -c release --product spiqa-eval)" >&2; exit 1; }
export SPIQA_SHARED="$SHARED"
fail=0

# compare NAME RESULT_JSON KEY EXPECTED TOLERANCE
compare() {
  python3 - "$@" <<'PY' || fail=1
import json, sys
name, path, key, expected, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
got = json.loads(open(path).read().strip().splitlines()[-1])[key]
ok = abs(got - expected) <= tol
print(f"{'ok  ' if ok else 'FAIL'} {name}: {key} {got:.6f} (reference {expected:.6f}, tolerance {tol})")
sys.exit(0 if ok else 1)
PY
}
ref() { python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; print(l[int(sys.argv[2])][sys.argv[3]])" "$@"; }

squad() {  # name expected_em expected_f1 flags...
  local name=$1 em=$2 f1=$3; shift 3
  echo "check_eval: squad $name ($*)" >&2
  "$EVAL" --model "$SHARED/models/minilm-squad" --task squad "$@" --per-example "$OUT/squad-$name.jsonl" > "$OUT/squad-$name.json"
  compare "squad $name" "$OUT/squad-$name.json" em "$em" 0.01
  compare "squad $name" "$OUT/squad-$name.json" f1 "$f1" 0.01
}

squad first1000 "$(ref $FIX/squad_reference_scores.jsonl 0 em)" "$(ref $FIX/squad_reference_scores.jsonl 0 f1)" --limit 1000
squad paper100 "$(ref $FIX/squad_reference_scores.jsonl 1 em)" "$(ref $FIX/squad_reference_scores.jsonl 1 f1)" --samples 100
for i in 0 1 2 3; do
  t=$(ref $FIX/sst2_reference_scores.jsonl $i threshold)
  echo "check_eval: sst2 threshold $t" >&2
  "$EVAL" --model "$SHARED/models/minilm-sst2" --task sst2 --threshold "$t" > "$OUT/sst2-$t.json"
  compare "sst2 threshold $t" "$OUT/sst2-$t.json" correct "$(ref $FIX/sst2_reference_scores.jsonl $i correct)" 0
done
if [ "${FULL:-0}" = 1 ]; then
  squad all 60.8231 72.2336 --quiet
fi
echo "check_eval: outputs in $OUT" >&2
exit $fail
