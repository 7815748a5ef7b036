"""Fixtures for tests that run the plugin in a real QGIS (pytest-qgis)."""

import importlib
import os
import stat
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_worker.py")
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")


@pytest.fixture(scope="session")
def plugin_package(tmp_path_factory):
    """The repository imported as a QGIS plugin package named ``lrm_adapt``."""
    parent = tmp_path_factory.mktemp("qgis_plugins")
    os.symlink(ROOT, parent / "lrm_adapt")
    sys.path.insert(0, str(parent))
    return importlib.import_module("lrm_adapt")


@pytest.fixture()
def plugin(plugin_package, qgis_iface, qgis_processing):
    """The loaded plugin (classFactory + initGui), unloaded after the test."""
    instance = plugin_package.classFactory(qgis_iface)
    instance.initGui()
    yield instance
    instance.unload()


@pytest.fixture()
def fake_interpreter(tmp_path, monkeypatch):
    """Point LRM_PYTHON at a stand-in interpreter that runs tests/plugin/fake_worker.py.

    Returns a function: scenario name -> path of the stand-in.
    """
    def make(scenario):
        script = tmp_path / "fake_python"
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_WORKER}" "$@"\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("LRM_PYTHON", str(script))
        monkeypatch.setenv("FAKE_SCENARIO", scenario)
        monkeypatch.setenv("FAKE_DIR", str(tmp_path))
        return str(script)

    return make


@pytest.fixture()
def worker_module(plugin_package):
    return importlib.import_module("lrm_adapt.algorithms.worker")


class RecordingFeedback:
    """A real QgsProcessingFeedback that also records what it was told."""

    def __new__(cls):
        from qgis.core import QgsProcessingFeedback

        class _Recording(QgsProcessingFeedback):
            def __init__(self):
                super().__init__()
                self.infos, self.warnings, self.debug, self.errors, self.progress_values = [], [], [], [], []
                self.progressChanged.connect(self.progress_values.append)

            def pushInfo(self, info):  # noqa: N802
                self.infos.append(info)
                super().pushInfo(info)

            def pushWarning(self, warning):  # noqa: N802
                self.warnings.append(warning)
                super().pushWarning(warning)

            def pushDebugInfo(self, info):  # noqa: N802
                self.debug.append(info)
                super().pushDebugInfo(info)

            def reportError(self, error, fatalError=False):  # noqa: N802,N803
                self.errors.append(error)
                super().reportError(error, fatalError)

        return _Recording()


@pytest.fixture()
def feedback(qgis_app):
    return RecordingFeedback()
