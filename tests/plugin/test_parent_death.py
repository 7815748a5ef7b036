"""When the process running Processing dies (QGIS crashed or was killed), the worker ends
by itself within seconds, even in a phase where it writes nothing (models/runtime/parent_watch.py)."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import FAKE_WORKER, ROOT, VENV_PYTHON

PARENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parent_for_worker.py")
LIMIT_SECONDS = 5.0

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and /proc: Linux")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def kill_parent_and_time_child(tmp_path, env, command, *args):
    """Start the parent, wait for the child's first progress, SIGKILL the parent;
    return seconds until the child is gone (or None if it outlived 30 s)."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    os.symlink(ROOT, plugins / "lrm_adapt")
    parent = subprocess.Popen([sys.executable, PARENT, str(plugins), command, *map(str, args)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=dict(os.environ, **env))
    try:
        line = parent.stdout.readline()
        match = re.match(r"CHILD (\d+)", line)
        assert match, f"the parent printed {line!r}"
        child = int(match.group(1))
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        start = time.monotonic()
        while alive(child):
            if time.monotonic() - start > 30:
                os.killpg(child, signal.SIGKILL)
                return None
            time.sleep(0.05)
        return time.monotonic() - start
    finally:
        parent.stdout.close()
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_quiet_worker_ends_when_its_parent_is_killed(tmp_path):
    script = tmp_path / "fake_python"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_WORKER}" "$@"\n')
    script.chmod(0o755)
    env = {"LRM_PYTHON": str(script), "FAKE_SCENARIO": "quiet_watching",
           "FAKE_DIR": str(tmp_path), "FAKE_PLUGIN_ROOT": ROOT}
    seconds = kill_parent_and_time_child(tmp_path, env, "anything")
    print(f"quiet worker gone {seconds:.2f} s after its parent was killed")
    # it writes nothing after its first progress: only the stdin watch can end it
    assert seconds is not None and seconds < LIMIT_SECONDS, seconds


@pytest.mark.skipif(not os.path.exists(VENV_PYTHON), reason="no .venv worker interpreter")
def test_a_training_worker_ends_when_its_parent_is_killed(tmp_path):
    from osgeo import gdal
    import numpy as np

    rng = np.random.default_rng(0)
    paths = []
    for name in ("source", "target"):
        path = str(tmp_path / f"{name}.tif")
        ds = gdal.GetDriverByName("GTiff").Create(path, 96, 96, 3, gdal.GDT_Byte)
        ds.WriteRaster(0, 0, 96, 96, rng.integers(0, 255, (3, 96, 96), dtype=np.uint8).tobytes())
        ds = None
        paths.append(path)
    out = tmp_path / "translator.safetensors"
    seconds = kill_parent_and_time_child(
        tmp_path, {"LRM_PYTHON": VENV_PYTHON, "LRM_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
        "train-translator", "--method", "lrm", "--source", paths[0], "--target", paths[1],
        "--patch-size", 32, "--batch-size", 1, "--epochs", 1000, "--max-iterations", 100000,
        "--patience", 0, "--device", "cpu", "--perceptual-loss", "weight_free",
        "--output", out)
    print(f"training worker gone {seconds:.2f} s after its parent was killed")
    assert seconds is not None and seconds < LIMIT_SECONDS, seconds
    assert not list(tmp_path.glob(".*.partial"))


def test_the_variable_is_the_one_the_worker_watches():
    from models.runtime.parent_watch import ENV_VARIABLE

    source = open(os.path.join(ROOT, "algorithms", "worker.py")).read()
    assert f'EXIT_WITH_PARENT_VARIABLE = "{ENV_VARIABLE}"' in source
