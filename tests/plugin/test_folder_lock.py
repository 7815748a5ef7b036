"""Two lrm:adapt runs given one OUTPUT_TRANSLATED_FOLDER: the second is refused with the
first run's process id (they would train on each other's translated images); a lock left
by a dead process is taken over."""

import importlib
import os
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.fixture()
def lock_module(plugin_package):
    return importlib.import_module("lrm_adapt.algorithms.folder_lock")


def test_a_folder_held_by_a_live_process_is_refused_and_a_dead_ones_lock_taken_over(tmp_path, lock_module):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / lock_module.LOCK_NAME).write_text(str(holder.pid))
        with pytest.raises(lock_module.FolderBusy, match=f"process {holder.pid}"):
            with lock_module.FolderLock(str(tmp_path)):
                pass
    finally:
        holder.kill()
        holder.wait()
    with lock_module.FolderLock(str(tmp_path)):  # the holder is gone: its lock is stale
        assert (tmp_path / lock_module.LOCK_NAME).read_text() == str(os.getpid())
    assert not (tmp_path / lock_module.LOCK_NAME).exists()


def test_two_runs_in_one_qgis_process_are_told_apart(tmp_path, lock_module):
    # QGIS runs algorithms as tasks in threads of one process: the pid is the same
    with lock_module.FolderLock(str(tmp_path)):
        with pytest.raises(lock_module.FolderBusy):
            with lock_module.FolderLock(str(tmp_path)):
                pass
    with lock_module.FolderLock(str(tmp_path)):  # released: free again
        pass


def test_lrm_adapt_refuses_a_translated_folder_another_run_holds(tmp_path):
    folder = tmp_path / "translated"
    folder.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        (folder / ".lrm_adapt.lock").write_text(str(holder.pid))
        raster = tmp_path / "r.tif"
        from osgeo import gdal
        ds = gdal.GetDriverByName("GTiff").Create(str(raster), 32, 32, 3)
        ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
        ds = None
        proc = subprocess.run(
            ["bash", os.path.join(ROOT, "scripts", "qgis_process.sh"), "run", "lrm:adapt", "--",
             f"SOURCE={raster}", f"SOURCE_LABELS={raster}", f"TARGET={raster}", "PRESET=1",
             f"OUTPUT_TRANSLATED_FOLDER={folder}", f"OUTPUT_TRANSLATOR={tmp_path / 't.safetensors'}",
             f"OUTPUT_SEGMENTER={tmp_path / 's.safetensors'}", f"OUTPUT_CLASSIFIED={tmp_path / 'c.tif'}"],
            capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode != 0
    assert f"in use by another LRM Adapt run (process {holder.pid})" in proc.stdout + proc.stderr
    assert not (tmp_path / "t.safetensors").exists()  # refused before any training
    assert (folder / ".lrm_adapt.lock").read_text() == str(holder.pid)  # not the refused run's to remove
