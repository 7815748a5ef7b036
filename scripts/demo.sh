#!/usr/bin/env bash
# The main job, end to end on the embedded sample data, through qgis_process:
# set-up, sample data, lrm:adapt (quick preset, CPU) and the baselines, a table and
# an HTML report (out/demo/report.html). See scripts/demo.py for the fair split.
#   bash scripts/demo.sh [OUTPUT_FOLDER]      (default: out/demo)
set -euo pipefail
START="$(date +%s)"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(realpath -m "${1:-$ROOT/out/demo}")"
bash "$ROOT/scripts/setup.sh"
QP="$ROOT/scripts/qgis_process.sh"
mkdir -p "$OUT"
echo "== Environment"
"$QP" run lrm:check_environment -- OUTPUT_HTML="$OUT/environment.html" | sed -n '/^Results/,$p'
echo "== Sample data"
"$QP" run lrm:create_sample_data -- OUTPUT_FOLDER="$OUT/data" TILES=6 SIZE=256 SEED=0 | sed -n '/^Results/,$p'
echo "== Adaptation: lrm:adapt (quick preset, CPU) and the baselines, side by side"
"$ROOT/.venv/bin/python" "$ROOT/scripts/demo.py" --data "$OUT/data" --out "$OUT" --started-at "$START"
echo "Done in $(( $(date +%s) - START )) s: outputs in $OUT (report: $OUT/report.html)"
