#!/usr/bin/env bash
# Idempotent setup for Debian 12, run as root: QGIS + GDAL from apt, a virtual
# environment (.venv) made from /usr/bin/python3 with --system-site-packages so it
# sees Debian's qgis, osgeo and numpy, and the pinned backend requirements.
#   scripts/setup.sh          backend + QGIS
#   scripts/setup.sh --test   also the test-only requirements
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
APT_PACKAGES=(qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-venv python3-pip)
# the desktop test runs the real QGIS window on a virtual display
[ "${1:-}" = "--test" ] && APT_PACKAGES+=(xvfb)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi

want_files=("$ROOT/requirements.txt" "$ROOT/constraints.txt")
[ "${1:-}" = "--test" ] && want_files+=("$ROOT/requirements-test.txt")
stamp="$VENV/.lrm-requirements.sha256"
digest="$(cat "${want_files[@]}" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || ! grep -q "$digest" "$stamp"; then
  args=(-r "$ROOT/requirements.txt")
  [ "${1:-}" = "--test" ] && args+=(-r "$ROOT/requirements-test.txt")
  echo "setup: installing Python requirements into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$ROOT/constraints.txt" "${args[@]}"
  echo "$digest" >> "$stamp"
fi
"$VENV/bin/python" - <<'PY'
import numpy, torch, segmentation_models_pytorch as smp
from osgeo import gdal
assert numpy.__version__.startswith("1."), f"numpy {numpy.__version__}: GDAL needs numpy 1.x"
print(f"setup: ok (torch {torch.__version__}, smp {smp.__version__}, numpy {numpy.__version__}, GDAL {gdal.__version__})")
PY
