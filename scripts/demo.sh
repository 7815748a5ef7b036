#!/usr/bin/env bash
# The main job, end to end on the embedded sample data, through qgis_process.
#   bash scripts/demo.sh [OUTPUT_FOLDER]      (default: out/demo)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/out/demo}")"
bash "$ROOT/scripts/setup.sh"
QP="$ROOT/scripts/qgis_process.sh"
mkdir -p "$OUT"
echo "== Environment"
"$QP" run lrm:check_environment -- OUTPUT_HTML="$OUT/environment.html" | sed -n '/^Results/,$p'
echo "== Sample data"
"$QP" run lrm:create_sample_data -- OUTPUT_FOLDER="$OUT/data" TILES=6 SIZE=256 SEED=0 | sed -n '/^Results/,$p'
echo "Done: outputs in $OUT"
