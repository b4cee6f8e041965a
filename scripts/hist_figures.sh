#!/usr/bin/env bash
# All spiqa-hist figures of one attention stream (PNG + PDF), for `make hist-figures`.
#   scripts/hist_figures.sh BIN_DIR STREAM OUT_DIR [EXAMPLE_ID] [LAYER] [HEAD]
# BIN_DIR holds spiqa-hist (e.g. .build/release). Writes OUT_DIR/hist.npy, rows.npy.gz, heads.tsv and the figures.
set -euo pipefail
bin=$1 stream=$2 out=$3 example=${4:-} layer=${5:-0} head=${6:-0}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
mkdir -p "$out"
"$bin/spiqa-hist" "$stream" --quiet --npy "$out/hist.npy" --per-row "$out/rows.npy.gz" > "$out/heads.tsv"
"$bin/spiqa-hist" "$stream" --quiet --table layers > "$out/layers.tsv"
$py "$here/plot_hist_grid.py" "$out/hist.npy" "$out/hist_grid"
$py "$here/plot_sparsity_grid.py" "$out/hist.npy" "$out/sparsity_zeros"
$py "$here/plot_sparsity_grid.py" "$out/hist.npy" "$out/sparsity_le_1e-3" --threshold 1e-3
$py "$here/plot_row_spread.py" "$out/hist.npy" "$out/row_spread_L${layer}_H${head}" --layer "$layer" --head "$head"
$py "$here/plot_row_spread.py" "$out/hist.npy" "$out/at_hist_per_token_layer_${layer}_head_${head}" \
  --layer "$layer" --head "$head" --per-row "$out/rows.npy.gz"
if [ -z "$example" ]; then
  example=$($py -c 'import sys; sys.path.insert(0, sys.argv[1]); import spiqa; print(next(iter(spiqa.open(sys.argv[2]))).meta["example_id"])' "$here/../python/src" "$stream")
fi
$py "$here/plot_heatmap.py" "$stream" "$out/heatmap_${example}_L${layer}" --example-id "$example" --layer "$layer"
$py "$here/plot_heatmap.py" "$stream" "$out/heatmap_log_${example}_L${layer}" --example-id "$example" --layer "$layer" --scale log
