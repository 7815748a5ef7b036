#!/usr/bin/env bash
# Build dist/lrm_adapt-<version>.zip for Plugins > Install from ZIP (see scripts/package.py).
#   bash scripts/package.sh [--release] [--output-folder DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec python3 "$ROOT/scripts/package.py" "$@"
