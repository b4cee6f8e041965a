#!/usr/bin/env bash
# Writes a set of tool outputs to a folder, so two builds can be compared byte for byte:
#   scripts/golden_outputs.sh BIN OUTDIR        (BIN: a folder holding spiqa-extract, -quantize, -hist, -eval)
#   diff -r OUTDIR_BEFORE OUTDIR_AFTER          (no output = identical)
# It covers every stream kind the tools write (f32/f16/codes, pruned, quantized, hidden states, tokens), the hist
# tables/JSON/npy, eval result lines and per-example files, replay, and the error lines and exit codes of bad input.
# Needs ../shared (or $SPIQA_SHARED) for the fine-tuned MiniLM checkpoints and the data sets.
set -uo pipefail
BIN=${1:?usage: golden_outputs.sh BIN OUTDIR}
OUT=${2:?usage: golden_outputs.sh BIN OUTDIR}
SHARED=${SPIQA_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
M=$SHARED/models; D=$SHARED/data
mkdir -p "$OUT"
cd "$OUT"

# run NAME CMD...: stdout to NAME.out, stderr (tool name stripped of its path) to NAME.err, exit code to NAME.rc.
run() {
  local name=$1; shift
  "$@" >"$name.out" 2>"$name.err"
  echo $? >"$name.rc"
}

X="$BIN/spiqa-extract -q"; Q="$BIN/spiqa-quantize"; H="$BIN/spiqa-hist --quiet"; E="$BIN/spiqa-eval --quiet"
SQ="--model $M/minilm-squad --task squad --data $D/squad/dev-v1.1.json"
S2="--model $M/minilm-sst2 --task sst2 --data $D/glue/SST-2/dev.tsv"

# Streams.
run x_squad $X $SQ --samples 3 --tokens -o x_squad.npy.gz
run x_sst2 $X $S2 --limit 6 --dtype f16 --hidden-states -o x_sst2.npy.gz
run x_sst2_q $X $S2 --limit 6 --threshold 0.01 --method log-pruned --bits 3 -o x_sst2_q.npy.gz
run x_sst2_dd $X $S2 --limit 6 --method uniform_slog_clamped_mean --bits 4 --scope record -o x_sst2_dd.npy.gz
run x_sst2_hs $X $S2 --limit 4 --hs-threshold 0.05 --hs-bits 8 --layers 0,3-5 --heads 1-2 --no-gzip -o x_sst2_hs.npy
printf 'a short line\n\nthe second line, with ünïcödé and 漢字\n' >text.txt
run x_text $X --model $M/minilm-sst2 --task text --data text.txt --tokens -o x_text.npy.gz
run x_list $X $SQ --samples 3 --list

# Offline quantization.
run q_log $Q x_squad.npy.gz --method log-pruned --bits 3 --threshold 0.001 --js --report q_log.report.json -o q_log.npy.gz
run q_codes $Q x_sst2.npy.gz --method linear --bits 4 --dtype codes -o q_codes.npy.gz
run q_dd $Q x_squad.npy.gz --method uniform_slog_clamped_mean --bits 3 --scope example -o q_dd.npy.gz
run q_bin $Q x_sst2.npy.gz --method binarization --bits 1 --scope record --dtype f16 --no-gzip -o q_bin.npy
run q_cor $Q x_sst2.npy.gz --method log --bits 2 --variant corrected -o q_cor.npy.gz

# Statistics.
run h_heads $H x_squad.npy.gz
run h_tables $H x_sst2.npy.gz --table layers --table hist --table rows --table ref-stats
run h_json $H q_log.npy.gz --json
run h_npy $H x_sst2.npy.gz --npy h_npy.npy --per-row h_rows.npy
run h_js $H x_squad.npy.gz --compare q_log.npy.gz --json
run h_lin $H x_sst2_hs.npy --bins linear:20 --layers 3-5 --thresholds 0.001,0.01 --no-row-stats

# Evaluation.
run e_squad $E $SQ --samples 5 --per-example e_squad.jsonl
run e_squad_q $E $SQ --samples 5 --method log-pruned --bits 3 --threshold 0.001
run e_sst2 $E $S2 --limit 20 --threshold 0.05 --per-example e_sst2.jsonl
run e_sst2_dd $E $S2 --limit 20 --method uniform_slog_clamped_mean --bits 3 --hs-bits 8
run e_replay $E $S2 --limit 6 --replay x_sst2_q.npy.gz

# Bad input: one line and an exit code each.
head -c 3000 x_squad.npy.gz >trunc.npy.gz
run bad_trunc $H trunc.npy.gz
run bad_quant_flag $Q x_squad.npy.gz --method nope --bits 3
run bad_bits $Q x_squad.npy.gz --method log --bits 40
run bad_model $E --model /nonexistent --task sst2 --data $D/glue/SST-2/dev.tsv
run bad_data $X --model $M/minilm-sst2 --task sst2 --data /nonexistent.tsv
run bad_replay $E $S2 --limit 6 --replay x_squad.npy.gz

# Elapsed times and absolute paths differ between runs: blank them so a diff shows only real changes.
for f in *.out *.err *.jsonl *.json; do
  [ -f "$f" ] || continue
  sed -i -E 's/"(seconds|[a-z]+_per_second)": ?[0-9.e+-]+/"\1": T/g; s/[0-9.]+ ?s\b/Ts/g' "$f"
  sed -i "s#$BIN/##g" "$f"
done
echo "golden_outputs: wrote $(ls | wc -l) files to $OUT"
