#!/usr/bin/env bash
# Run QGIS's qgis_process headless with this plugin loaded.
#   scripts/qgis_process.sh list
#   scripts/qgis_process.sh run lrm:check_environment -- OUTPUT_HTML=/tmp/env.html
# What it does:
# - makes a plugin folder named lrm_adapt (a symlink to this checkout) under
#   build/qgis_plugins and puts it on QGIS_PLUGINPATH (the checkout's own folder
#   name does not matter);
# - offscreen Qt (no display needed);
# - LRM_PYTHON defaults to this checkout's .venv (the PyTorch worker interpreter);
# - calls qgis_process.bin directly: Debian's /usr/bin/qgis_process wrapper of QGIS
#   3.22 passes --noversioncheck, which 3.22 rejects;
# - enables the plugin once in the QGIS profile (qgis_process only loads enabled plugins).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGINS="${LRM_QGIS_PLUGIN_DIR:-$ROOT/build/qgis_plugins}"
mkdir -p "$PLUGINS"
[ "$(readlink "$PLUGINS/lrm_adapt" 2>/dev/null)" = "$ROOT" ] || ln -sfn "$ROOT" "$PLUGINS/lrm_adapt"
export QGIS_PLUGINPATH="$PLUGINS${QGIS_PLUGINPATH:+:$QGIS_PLUGINPATH}"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
if [ -z "${LRM_PYTHON:-}" ] && [ -x "$ROOT/.venv/bin/python" ]; then
  export LRM_PYTHON="$ROOT/.venv/bin/python"
fi
BIN=/usr/bin/qgis_process.bin
[ -x "$BIN" ] || BIN="$(command -v qgis_process)"
# QGIS_CUSTOM_CONFIG_PATH (set e.g. by pytest-qgis) moves the profile folder.
PROFILE_INI="${QGIS_CUSTOM_CONFIG_PATH:-${HOME}/.local/share/QGIS/QGIS3}/profiles/default/QGIS/QGIS3.ini"
if ! grep -qs '^lrm_adapt=true' "$PROFILE_INI"; then
  "$BIN" plugins enable lrm_adapt >/dev/null 2>&1 || true
fi
exec "$BIN" "$@"
