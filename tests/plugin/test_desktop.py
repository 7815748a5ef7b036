"""The real QGIS desktop under Xvfb: a throw-away profile with the plugin enabled, a raster
layer, its context menu > "Adapt to this layer...", the dialog filled with tiny settings and
run as a background task, and the styled classification in the layer tree. No iface stub.
Screenshots (dialog, log, result) are kept under the test's tmp folder."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, VENV_PYTHON

SESSION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "desktop_session.py")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("qgis")
                                      and os.path.exists(VENV_PYTHON)),
                                 reason="needs Xvfb, the qgis desktop and the .venv")]


@pytest.fixture()
def display(tmp_path):
    """A fresh Xvfb display (the first free number from a pid-based start)."""
    import time

    for number in range(90 + os.getpid() % 100, 300):
        if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
            continue
        xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):  # up to 10 s for the server to listen
            if os.path.exists(f"/tmp/.X11-unix/X{number}") or xvfb.poll() is not None:
                break
            time.sleep(0.1)
        if xvfb.poll() is None:
            break
    else:
        pytest.fail("no Xvfb display could be started")
    yield f":{number}"
    xvfb.terminate()
    xvfb.wait(timeout=10)


def test_adapt_to_this_layer_in_the_real_desktop(display, tmp_path):
    data = tmp_path / "data"
    subprocess.run([VENV_PYTHON, "-m", "models", "create-sample-data", "--output-folder", str(data),
                    "--tiles", "2", "--size", "64", "--seed", "5", "--skip-shift-check"],
                   cwd=ROOT, check=True, capture_output=True)
    files = lambda sub: sorted(str(p) for p in (data / sub).glob("*.tif"))  # noqa: E731
    profiles = tmp_path / "profiles"
    plugins = profiles / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    os.symlink(ROOT, plugins / "lrm_adapt")
    ini = profiles / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[PythonPlugins]\nlrm_adapt=true\nprocessing=true\n"
                   "[qgis]\ncheckVersion=false\nshowTips=false\n")
    out, shots = tmp_path / "out", tmp_path / "screenshots"
    shots.mkdir()
    classified = str(out / "classified.tif")
    spec = {"target": files("target/images")[0], "classified": classified, "timeout": 400,
            "report": str(tmp_path / "seen.json"), "screenshots": str(shots),
            "parameters": {"SOURCE": files("source/images"), "SOURCE_LABELS": files("source/labels"),
                           "PRESET": 1, "PATCH_SIZE": 32, "BATCH_SIZE": 2, "TRANSLATOR_ITERATIONS": 2,
                           "SEGMENTER_ITERATIONS": 2, "DEVICE": "cpu", "ENCODER": "resnet18",
                           "PERCEPTUAL_LOSS": 2, "ONE_SHOT_SIZE": 0,
                           "OUTPUT_TRANSLATOR": str(out / "translator.safetensors"),
                           "OUTPUT_SEGMENTER": str(out / "segmenter.safetensors"),
                           "OUTPUT_CLASSIFIED": classified}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, DISPLAY=display, LRM_PYTHON=VENV_PYTHON, LRM_OFFLINE="1",
               LRM_DESKTOP_SPEC=str(tmp_path / "spec.json"), XDG_RUNTIME_DIR=str(tmp_path / "xdg"))
    env.pop("QT_QPA_PLATFORM", None)  # a real (virtual) display, not offscreen
    env.pop("QGIS_CUSTOM_CONFIG_PATH", None)
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    proc = subprocess.run(["qgis", "--profiles-path", str(profiles), "--nologo", "--noversioncheck",
                           "--code", SESSION], env=env, capture_output=True, text=True, timeout=600)
    assert (tmp_path / "seen.json").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert "error" not in seen, seen.get("error")
    assert seen["plugin_loaded"]
    assert any(e.startswith("Adapt to target layer") for e in seen["raster_menu_entries"]), seen
    assert any(e.startswith("Adapt to target layer") for e in seen["toolbar_entries"]), seen
    assert seen["context_menu_has_action"]
    assert seen["dialog_target"] == seen["layer_id"]  # the dialog opened with that layer as TARGET
    assert seen["paletted"] and "building" in seen["class_labels"], seen
    for name in ("dialog.png", "log.png", "result.png"):
        assert (shots / name).stat().st_size > 10_000, name  # a real picture, not an empty grab
