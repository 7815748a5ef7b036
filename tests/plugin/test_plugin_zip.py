"""The plugin ZIP: runtime files only, repository checks, and a real install into a fresh
QGIS profile (extract, ``qgis_process plugins enable``, list, ``lrm:check_environment``)."""

import html
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, VENV_PYTHON

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import package  # noqa: E402  (scripts/package.py)

QGIS_PROCESS = "/usr/bin/qgis_process.bin" if os.path.exists("/usr/bin/qgis_process.bin") \
    else shutil.which("qgis_process")


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    path, problems = package.build(str(tmp_path_factory.mktemp("dist")))
    return path, problems


def test_zip_has_one_top_folder_and_runtime_files_only(plugin_zip):
    path, _ = plugin_zip
    assert os.path.basename(path) == "lrm_adapt-{}.zip".format(
        package.read_metadata(open(os.path.join(ROOT, "metadata.txt")).read())["version"])
    names = zipfile.ZipFile(path).namelist()
    assert {n.split("/")[0] for n in names} == {"lrm_adapt"}
    inner = {n.split("/", 1)[1] for n in names}
    for required in ("__init__.py", "metadata.txt", "LICENSE", "resources/icon.svg",
                     "models/__main__.py", "algorithms/worker.py", "lrm_plugin/provider.py",
                     "requirements.txt", "resources/models/lrm_pipeline.model3"):
        assert required in inner, required
    tops = {n.split("/")[0] for n in inner}
    assert not tops & {"tests", "benchmarks", "scripts", "docs", ".venv", "build", "out", "dist",
                       ".ci", ".git"}, tops
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_the_only_repository_problem_left_is_the_placeholder_email(plugin_zip):
    _, problems = plugin_zip
    # The maintainers' real address cannot be invented here; everything else must pass.
    assert [p for p in problems if "'email'" not in p] == []


@pytest.mark.parametrize("change, expected", [
    ({"tracker": ""}, "required key 'tracker'"),
    ({"changelog": ""}, "recommended key 'changelog'"),
    ({"email": "me@example.com"}, "placeholder"),
    ({"repository": "github.com/x"}, "'repository' is not a web address"),
    ({"experimental": "maybe"}, "'experimental' must be True or False"),
    ({"supportsQt6": "True"}, "deprecated"),
    ({"author": "a/b"}, "slashes"),
])
def test_metadata_checks_catch_what_the_repository_rejects(change, expected):
    meta = dict(name="n", description="d", version="1.0.0", qgisMinimumVersion="3.22",
                qgisMaximumVersion="4.99", author="a", email="maintainer@lrm-adapt.org",
                about="x", tracker="https://t.org/i", repository="https://t.org/r",
                homepage="https://t.org", changelog="1.0.0 first", tags="raster",
                icon="icon.svg")
    assert package.metadata_problems(meta, names={"icon.svg", "LICENSE"}) == []
    meta.update(change)
    problems = package.metadata_problems(meta, names={"icon.svg", "LICENSE"})
    assert any(expected in p for p in problems), problems


def test_metadata_checks_look_inside_the_package():
    meta = package.read_metadata(open(os.path.join(ROOT, "metadata.txt")).read())
    problems = package.metadata_problems(meta, names=set())
    assert any("LICENSE" in p for p in problems) and any("icon" in p for p in problems)


@pytest.mark.skipif(not QGIS_PROCESS, reason="qgis_process is not installed")
@pytest.mark.skipif(not os.path.exists(VENV_PYTHON), reason="no .venv worker interpreter")
def test_zip_installs_into_a_fresh_profile_and_runs(plugin_zip, tmp_path):
    path, _ = plugin_zip
    config = tmp_path / "qgis"
    plugins = config / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(path).extractall(plugins)  # what Plugins > Install from ZIP does
    env = {k: v for k, v in os.environ.items() if k != "QGIS_PLUGINPATH"}  # only the profile
    env.update(QGIS_CUSTOM_CONFIG_PATH=str(config), QT_QPA_PLATFORM="offscreen",
               XDG_RUNTIME_DIR=str(tmp_path / "xdg"), LRM_PYTHON=VENV_PYTHON, LRM_OFFLINE="1",
               TORCH_HOME=str(tmp_path / "torch"))
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)

    def qgis_process(*args):
        proc = subprocess.run([QGIS_PROCESS, *args], capture_output=True, text=True,
                              timeout=300, env=env, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout

    listed = qgis_process("list")
    assert "lrm:" not in listed  # installed but not yet enabled: QGIS does not load it
    qgis_process("plugins", "enable", "lrm_adapt")
    listed = qgis_process("list")
    for algorithm in ("lrm:adapt", "lrm:check_environment", "lrm:train_translator",
                      "lrm:classify", "lrm:lrm_pipeline"):
        assert algorithm in listed, algorithm
    report = tmp_path / "env.html"
    out = qgis_process("--json", "run", "lrm:check_environment", "--", f"OUTPUT_HTML={report}")
    results = json.loads(out[out.index("{"):])["results"]
    assert results["TORCH_VERSION"] not in ("", "not installed")
    assert results["PERCEPTUAL_LOSS_AUTO"] == "weight_free"
    # the backend that answered is the one from the ZIP, not this checkout
    raw = html.unescape(report.read_text())
    assert f'"plugin_root": "{plugins / "lrm_adapt"}"' in raw
