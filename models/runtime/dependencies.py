"""Where the backend lives and what it needs: the plugin folder, the install command, and
the check that the backend's libraries import before a command that needs them is loaded."""

import importlib
import os
import sys

REQUIREMENTS_HINT = (
    '"{python}" -m pip install -r "{root}/requirements.txt" -c "{root}/constraints.txt"'
)
BACKEND_MODULES = ("torch", "segmentation_models_pytorch", "safetensors", "osgeo.gdal", "numpy")

# this file is <plugin root>/models/runtime/dependencies.py
_MODELS_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def plugin_root():
    """The plugin folder (the one holding requirements.txt and the ``models`` package)."""
    return os.path.dirname(_MODELS_PACKAGE)


def install_command():
    return REQUIREMENTS_HINT.format(python=sys.executable, root=plugin_root())


def check_backend_dependencies():
    """Raise MissingDependencyError naming this interpreter and the install command."""
    from ..errors import MissingDependencyError

    missing = []
    for module in BACKEND_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:  # ImportError, or a broken binary wheel
            missing.append(f"{module} ({type(exc).__name__}: {exc})")
    if missing:
        raise MissingDependencyError(
            f"The Python interpreter {sys.executable} (Python {sys.version.split()[0]}) cannot "
            f"import: {'; '.join(missing)}. Install the backend requirements with:\n  "
            f"{install_command()}\nor choose another interpreter in Processing options > "
            f"Providers > LRM Adapt > 'Python interpreter with PyTorch' (or set LRM_PYTHON). "
            f"GDAL's Python bindings (osgeo) come from your system or QGIS install."
        )
