"""Dependency rules: models/ never imports qgis; the plugin imports itself relatively."""

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OWN_PACKAGES = {"models", "algorithms", "lrm_plugin"}


def _python_files(folder):
    for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0, node.lineno
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level, node.lineno


@pytest.mark.parametrize("path", list(_python_files("models")), ids=lambda p: os.path.relpath(p, ROOT))
def test_models_never_import_qgis(path):
    for module, level, line in _imports(path):
        top = module.split(".")[0]
        assert level > 0 or top not in {"qgis", "PyQt5", "processing", "algorithms", "lrm_plugin"}, \
            f"{os.path.relpath(path, ROOT)}:{line} imports {module}"


@pytest.mark.parametrize("folder", ["models", "algorithms", "lrm_plugin"])
def test_own_modules_are_imported_relatively(folder):
    offenders = []
    for path in _python_files(folder):
        for module, level, line in _imports(path):
            if level == 0 and module.split(".")[0] in OWN_PACKAGES:
                offenders.append(f"{os.path.relpath(path, ROOT)}:{line} ({module})")
    assert not offenders, "absolute imports of the plugin's own modules: " + ", ".join(offenders)


def test_backend_runs_with_qgis_unimportable(tmp_path):
    """Importing every backend module must work where qgis cannot be imported at all."""
    blocker = tmp_path / "qgis"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('qgis is blocked in this test')\n")
    code = ("import importlib, pkgutil, models, models.commands\n"
            "for m in pkgutil.walk_packages(models.__path__, 'models.'):\n"
            "    importlib.import_module(m.name)\n"
            "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"
