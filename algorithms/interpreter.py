"""Which Python interpreter runs the PyTorch worker.

Looked up in this order (the first that is set wins):

1. the environment variable ``LRM_PYTHON`` (per process: scripts, qgis_process, CI);
2. the Processing setting "Python interpreter with PyTorch"
   (Settings > Options > Processing > Providers > LRM Adapt);
3. the plugin's own virtual environment ``<plugin folder>/.venv`` (made by scripts/setup.sh);
4. the interpreter QGIS embeds, derived from ``sys.exec_prefix``. ``sys.executable``
   is never used: inside qgis_process it is whatever ``python3`` comes first on PATH.
"""

import os
import sys
from dataclasses import dataclass

SETTING_PYTHON = "LRM_PYTHON_INTERPRETER"
ENV_PYTHON = "LRM_PYTHON"


def plugin_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Interpreter:
    path: str
    source: str  # where the choice came from, for messages

    def describe(self):
        return f"{self.path} (from {self.source})"


def venv_python(root=None):
    root = root or plugin_root()
    for rel in (("bin", "python"), ("bin", "python3"), ("Scripts", "python.exe")):
        path = os.path.join(root, ".venv", *rel)
        if os.path.isfile(path):
            return path
    return None


def embedded_python():
    """The interpreter QGIS embeds (OSGeo4W/Windows, macOS bundle, Linux packages)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    prefixes = [sys.exec_prefix, sys.base_exec_prefix, os.environ.get("PYTHONHOME", "")]
    names = ["python.exe", "python3.exe"] if os.name == "nt" else [f"python{version}", "python3"]
    for prefix in filter(None, prefixes):
        for folder in (prefix, os.path.join(prefix, "bin")):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    return path
    return None


def _setting_value():
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        return (ProcessingConfig.getSetting(SETTING_PYTHON) or "").strip()
    except Exception:  # Processing not initialised (e.g. a bare script)
        return ""


def find_interpreter():
    """Return the Interpreter to use; raise FileNotFoundError when a configured one is missing."""
    for value, source in ((os.environ.get(ENV_PYTHON, "").strip(), f"the {ENV_PYTHON} environment variable"),
                          (_setting_value(), "Processing options > Providers > LRM Adapt")):
        if value:
            if not os.path.isfile(value):
                raise FileNotFoundError(
                    f"The Python interpreter {value!r} set in {source} does not exist. Point it at "
                    f"a python executable that has torch installed, or clear it to use the default.")
            return Interpreter(value, source)
    venv = venv_python()
    if venv:
        return Interpreter(venv, "the plugin's .venv")
    embedded = embedded_python()
    if embedded:
        return Interpreter(embedded, "the Python embedded in QGIS")
    raise FileNotFoundError(
        "No Python interpreter found for the PyTorch worker. Set 'Python interpreter with PyTorch' "
        "in Processing options > Providers > LRM Adapt, or the LRM_PYTHON environment variable.")
