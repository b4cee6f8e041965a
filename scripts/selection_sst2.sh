#!/usr/bin/env bash
# The per-layer / per-head table of docs/evaluation.md: SST-2 accuracy of minilm-sst2 on the first N dev sentences
# (default 200) with one layer's attention pruned at 1e-2 (each layer in turn), and with one head of LAYER
# (default 0) ablated (each head in turn). Prints TSV: what, index, correct, accuracy, sparsity.
#   scripts/selection_sst2.sh BIN [N] [LAYER]      (BIN: the folder holding spiqa-eval)
set -euo pipefail
BIN=${1:?usage: selection_sst2.sh BIN [N] [LAYER]}
N=${2:-200}
LAYER=${3:-0}
SHARED=${SPIQA_SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
E="$BIN/spiqa-eval --quiet --model $SHARED/models/minilm-sst2 --task sst2 --data $SHARED/data/glue/SST-2/dev.tsv --limit $N"
row() {
  local what=$1 idx=$2; shift 2
  $E "$@" | python3 -c "import json,sys; r=json.load(sys.stdin); print('\t'.join(['$what','$idx',str(r['correct']),'%.3f'%r['accuracy'],'%.4f'%r['sparsity']]))"
}
row exact -
row all_pruned_1e-2 - --threshold 0.01
LAYERS=$("$BIN/spiqa-eval" --help >/dev/null; python3 -c "import json; print(json.load(open('$SHARED/models/minilm-sst2/config.json'))['num_hidden_layers'])")
HEADS=$(python3 -c "import json; print(json.load(open('$SHARED/models/minilm-sst2/config.json'))['num_attention_heads'])")
for ((l = 0; l < LAYERS; l++)); do row pruned_1e-2_layer "$l" --threshold 0.01 --transform-layers "$l"; done
for ((l = 0; l < LAYERS; l++)); do row ablated_layer "$l" --ablate --transform-layers "$l"; done
for ((h = 0; h < HEADS; h++)); do row "ablated_layer${LAYER}_head" "$h" --ablate --transform-layers "$LAYER" --transform-heads "$h"; done
