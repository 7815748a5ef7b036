"""Which interpreter runs the worker, and what users are told when it lacks torch."""

import importlib
import os
import sys

import pytest
from qgis.core import QgsProcessingException

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's Python: has GDAL and QGIS, not torch


def _has_torch(python):
    import subprocess

    return subprocess.run([python, "-c", "import torch"], capture_output=True).returncode == 0


@pytest.fixture()
def interpreter_module(plugin_package):
    return importlib.import_module("lrm_adapt.algorithms.interpreter")


def test_env_variable_wins_and_missing_file_is_an_error(interpreter_module, monkeypatch, tmp_path):
    monkeypatch.setenv("LRM_PYTHON", str(tmp_path / "no-such-python"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        interpreter_module.find_interpreter()
    monkeypatch.setenv("LRM_PYTHON", sys.executable)
    found = interpreter_module.find_interpreter()
    assert found.path == sys.executable and "LRM_PYTHON" in found.source


def test_default_is_the_plugin_venv_then_the_embedded_python(interpreter_module, monkeypatch):
    monkeypatch.delenv("LRM_PYTHON", raising=False)
    found = interpreter_module.find_interpreter()
    venv = interpreter_module.venv_python()
    if venv:
        assert found.path == venv
    else:
        assert found.path == interpreter_module.embedded_python()
    embedded = interpreter_module.embedded_python()
    assert embedded and os.path.isfile(embedded)
    # the embedded interpreter is derived from sys.exec_prefix, never sys.executable
    assert embedded.startswith(sys.exec_prefix) or embedded.startswith(sys.base_exec_prefix)


@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON) or _has_torch(SYSTEM_PYTHON),
                    reason="needs a Python without torch")
def test_missing_torch_names_the_interpreter_and_the_install_command(plugin_package, feedback, monkeypatch):
    worker = importlib.import_module("lrm_adapt.algorithms.worker")
    monkeypatch.setenv("LRM_PYTHON", SYSTEM_PYTHON)
    with pytest.raises(QgsProcessingException) as info:
        worker.run_backend("translate", ["--input", "x.tif"], feedback)
    message = str(info.value)
    assert SYSTEM_PYTHON in message
    assert "cannot import: torch" in message
    assert f'"{SYSTEM_PYTHON}" -m pip install -r' in message and "requirements.txt" in message
    assert "LRM_PYTHON" in message


@pytest.mark.skipif(not os.path.exists(SYSTEM_PYTHON) or _has_torch(SYSTEM_PYTHON),
                    reason="needs a Python without torch")
def test_check_environment_reports_missing_torch(plugin, feedback, monkeypatch, tmp_path):
    import processing

    monkeypatch.setenv("LRM_PYTHON", SYSTEM_PYTHON)
    out = tmp_path / "env.html"
    result = processing.run("lrm:check_environment", {"OUTPUT_HTML": str(out)}, feedback=feedback)
    assert result["TORCH_VERSION"] == "not installed"
    assert result["CUDA_AVAILABLE"] is False
    assert any("pip install" in w for w in feedback.warnings)
    assert "NOT INSTALLED" in out.read_text()
