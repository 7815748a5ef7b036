"""lrm:install_backend: a real venv and a real pip install from a test-made wheelhouse
(offline), the check of lrm:check_environment, the setting written only on success, and
what a failed or cancelled install leaves behind (nothing)."""

import base64
import hashlib
import os
import zipfile

import pytest
from qgis.core import QgsProcessingException, QgsSettings

from conftest import ROOT, VENV_PYTHON

BASE_PYTHON = "/usr/bin/python3"  # Debian's: has venv, ensurepip, GDAL and numpy 1.x
DEAD_PROXY = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
SETTING_KEY = "/Processing/Configuration/LRM_PYTHON_INTERPRETER"

pytestmark = pytest.mark.skipif(not (os.path.exists(BASE_PYTHON) and os.path.exists(VENV_PYTHON)),
                                reason="needs Debian's python3 and the .venv")


def make_wheel(folder, name, version, files):
    """A minimal pure-Python wheel holding ``files`` {path in site-packages: text}."""
    dist = f"{name}-{version}.dist-info"
    contents = dict(files)
    contents[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    contents[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    contents[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    path = os.path.join(folder, f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in contents.items():
            wheel.writestr(member, text)
    return path


@pytest.fixture(autouse=True)
def keep_the_interpreter_setting(qgis_app):
    """These tests write the provider setting: put it back for the rest of the suite."""
    before = QgsSettings().value(SETTING_KEY)
    yield
    if before is None:
        QgsSettings().remove(SETTING_KEY)
    else:
        QgsSettings().setValue(SETTING_KEY, before)
    try:
        from processing.core.ProcessingConfig import ProcessingConfig

        if "LRM_PYTHON_INTERPRETER" in ProcessingConfig.settings:
            ProcessingConfig.settings["LRM_PYTHON_INTERPRETER"].value = before or ""
    except ImportError:
        pass


@pytest.fixture()
def wheelhouse(tmp_path):
    """One small wheel whose .pth makes this checkout's .venv packages (torch, smp, ...)
    importable: the real pinned set is far too big for a test, the mechanism is the same."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    site = os.path.join(ROOT, ".venv", "lib", "python3.11", "site-packages")
    make_wheel(str(folder), "lrm_test_bridge", "0.1", {"lrm_test_bridge.pth": site + "\n"})
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("lrm_test_bridge==0.1\n")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("")
    return folder, str(requirements), str(constraints)


@pytest.fixture()
def installer_module(plugin_package):
    import importlib

    return importlib.import_module("lrm_adapt.algorithms.backend_installer")


def test_offline_install_checks_and_stores_the_interpreter(installer_module, wheelhouse, tmp_path,
                                                           monkeypatch, qgis_app):
    folder, requirements, constraints = wheelhouse
    for key, value in DEAD_PROXY.items():  # any network use would fail
        monkeypatch.setenv(key, value)
    logged = []
    target = tmp_path / "env"
    installer = installer_module.BackendInstaller(
        str(target), base_python=BASE_PYTHON, variant="cpu", wheelhouse=str(folder),
        requirements=[requirements], constraints=[constraints], log=logged.append)
    python, report = installer.run()
    assert python == installer_module.venv_python_path(str(target)) and os.path.isfile(python)
    assert report["problems"] == [] and report["torch_version"]
    pip_line = next(line for line in logged if " -m pip install " in line)
    assert "--no-index" in pip_line and "--find-links" in pip_line and "index-url" not in pip_line
    assert any("Successfully installed lrm_test_bridge-0.1" in line for line in logged)
    assert any(line.startswith("numpy stays at 1.") for line in logged)

    QgsSettings().remove(SETTING_KEY)
    installer_module.store_interpreter(python)
    assert QgsSettings().value(SETTING_KEY) == python


def test_pip_command_offline_and_variants(installer_module):
    offline = installer_module.pip_command("py", "cuda", wheelhouse="/w", numpy_pin="1.24.2")
    assert offline[-3:] == ["--no-index", "--find-links", "/w"] and "numpy==1.24.2" in offline
    assert not any("index-url" in part for part in offline)
    cpu = installer_module.pip_command("py", "cpu")
    assert cpu[-2:] == ["--extra-index-url", installer_module.TORCH_INDEX["cpu"]]
    index = installer_module.torch_index
    assert index("cuda", "Linux") is None and index("cuda", "Darwin") is None  # PyPI's builds
    assert index("cuda", "Windows") == installer_module.TORCH_INDEX["cuda"]
    assert index("cpu", "Windows") == index("cpu", "Linux") == installer_module.TORCH_INDEX["cpu"]
    assert installer_module.resolve_variant("cpu") == "cpu"
    assert installer_module.resolve_variant("auto") in ("cpu", "cuda")
    with pytest.raises(installer_module.InstallError, match="VARIANT"):
        installer_module.resolve_variant("rocm")


def test_a_failed_pip_is_reported_and_leaves_nothing(run_algorithm, tmp_path, monkeypatch, qgis_app):
    empty = tmp_path / "empty_wheelhouse"
    empty.mkdir()
    for key, value in DEAD_PROXY.items():
        monkeypatch.setenv(key, value)
    QgsSettings().setValue(SETTING_KEY, "/previous/python")
    target = tmp_path / "env"
    with pytest.raises(QgsProcessingException) as raised:
        run_algorithm("lrm:install_backend", {"PYTHON": BASE_PYTHON, "TARGET_FOLDER": str(target),
                                              "VARIANT": 1, "WHEELHOUSE": str(empty)})
    message = str(raised.value)
    assert "installing the requirements with pip failed" in message
    assert "torch" in message  # pip's own reason: no wheel for the pinned torch in the folder
    assert not target.exists()  # the half-made environment is gone
    assert QgsSettings().value(SETTING_KEY) == "/previous/python"  # and not selected


def test_cancel_kills_pip_and_removes_the_environment(installer_module, wheelhouse, tmp_path):
    folder, requirements, constraints = wheelhouse
    logged = []
    target = tmp_path / "env"
    installer = installer_module.BackendInstaller(
        str(target), base_python=BASE_PYTHON, variant="cpu", wheelhouse=str(folder),
        requirements=[requirements], constraints=[constraints], log=logged.append,
        cancelled=lambda: any(" -m pip install " in line for line in logged))
    with pytest.raises(installer_module.InstallCancelled, match="pip"):
        installer.run()
    assert not target.exists()


@pytest.fixture()
def run_algorithm(plugin):
    import processing

    return processing.run
