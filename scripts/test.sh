#!/usr/bin/env bash
# Set everything up (idempotent; apt + .venv + test requirements) and run the test suite.
#   bash scripts/test.sh              # the whole suite (pytest)
#   bash scripts/test.sh -k worker    # extra arguments go to pytest
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --test
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
export LRM_OFFLINE=1          # no network probes for pretrained weights
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
