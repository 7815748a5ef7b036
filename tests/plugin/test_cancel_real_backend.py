"""Cancel through Processing feedback with the real backend (not the stand-in worker):
the child is gone within a fraction of a second, the best model so far stays loadable,
and no .partial file is left."""

import os
import time

import numpy as np
import pytest
from osgeo import gdal

from conftest import VENV_PYTHON

pytestmark = pytest.mark.skipif(not os.path.exists(VENV_PYTHON), reason="no .venv worker interpreter")
CANCEL_LIMIT_SECONDS = 1.0  # what the README promises ("within a fraction of a second")


def write(path, array):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), array.shape[2], array.shape[1],
                                              array.shape[0], gdal.GDT_Byte)
    ds.WriteRaster(0, 0, array.shape[2], array.shape[1], np.ascontiguousarray(array).tobytes())
    ds = None
    return str(path)


@pytest.fixture()
def real_backend(monkeypatch):
    monkeypatch.setenv("LRM_PYTHON", VENV_PYTHON)
    monkeypatch.setenv("LRM_OFFLINE", "1")


def cancel_after_saved_model(worker_module, feedback, command, args, output):
    """Run ``command``; cancel once ``output`` exists (a best model was saved) and training
    went on; return (seconds from cancel until the child is gone, the BackendRun)."""
    run = worker_module.BackendRun(command, args, feedback, outputs=[output])
    cancelled_at = []
    original = feedback.setProgress

    def on_progress(value):
        original(value)
        if not cancelled_at and os.path.isfile(output) and value > 0:
            cancelled_at.append(time.monotonic())
            feedback.cancel()

    feedback.setProgress = on_progress
    with pytest.raises(worker_module.WorkerCancelled):
        run.run()
    assert cancelled_at, "the training ended before a model was saved"
    return time.monotonic() - cancelled_at[0], run


def test_cancel_translator_training(worker_module, feedback, real_backend, tmp_path):
    rng = np.random.default_rng(0)
    source = write(tmp_path / "s.tif", rng.integers(0, 255, (3, 96, 96), dtype=np.uint8))
    target = write(tmp_path / "t.tif", rng.integers(0, 255, (3, 96, 96), dtype=np.uint8))
    out = str(tmp_path / "translator.safetensors")
    seconds, run = cancel_after_saved_model(
        worker_module, feedback, "train-translator",
        ["--method", "lrm", "--source", source, "--target", target, "--patch-size", 32,
         "--batch-size", 1, "--epochs", 1000, "--max-iterations", 100000, "--patience", 0,
         "--device", "cpu", "--perceptual-loss", "weight_free", "--output", out], out)
    print(f"translator training: child gone {seconds:.2f} s after cancel")
    assert seconds < CANCEL_LIMIT_SECONDS and run.process.returncode is not None
    assert not list(tmp_path.glob(".*.partial"))
    from models.storage.model_file import load_model

    _, meta = load_model(out, expected_kind="translator")  # the best model so far is valid
    assert meta["kind"] == "translator"


def test_cancel_segmenter_training(worker_module, feedback, real_backend, tmp_path):
    rng = np.random.default_rng(0)
    labels = (rng.random((64, 64)) * 3).astype(np.uint8).repeat(2, 0).repeat(2, 1)
    image = write(tmp_path / "i.tif", (np.stack([labels * 80] * 3) + rng.integers(0, 20, (3, 128, 128))).astype(np.uint8))
    label = write(tmp_path / "l.tif", labels[None])
    out = str(tmp_path / "segmenter.safetensors")
    seconds, run = cancel_after_saved_model(
        worker_module, feedback, "train-segmenter",
        ["--images", image, "--labels", label, "--classes", "0 a 255,0,0; 1 b 0,255,0; 2 c 0,0,255",
         "--encoder", "resnet18", "--patch-size", 64, "--batch-size", 2, "--epochs", 1000,
         "--max-iterations", 100000, "--patience", 0, "--validation-fraction", 0.25,
         "--device", "cpu", "--output", out], out)
    print(f"segmenter training: child gone {seconds:.2f} s after cancel")
    assert seconds < CANCEL_LIMIT_SECONDS and run.process.returncode is not None
    assert not list(tmp_path.glob(".*.partial"))
    from models.storage.model_file import load_model

    _, meta = load_model(out, expected_kind="segmenter")
    assert meta["kind"] == "segmenter"


def worker_children(marker):
    """PIDs of running processes whose command line mentions ``marker``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


@pytest.mark.slow
def test_cancel_adapt_during_its_second_stage(plugin, feedback, real_backend, tmp_path):
    import subprocess

    import processing
    from qgis.core import QgsProcessingException

    from conftest import ROOT

    data = tmp_path / "data"
    subprocess.run([VENV_PYTHON, "-m", "models", "create-sample-data", "--output-folder", str(data),
                    "--tiles", "2", "--size", "64", "--seed", "5", "--skip-shift-check"],
                   cwd=ROOT, check=True, capture_output=True)
    images = sorted(str(p) for p in (data / "source" / "images").glob("*.tif"))
    labels = sorted(str(p) for p in (data / "source" / "labels").glob("*.tif"))
    target = sorted(str(p) for p in (data / "target" / "images").glob("*.tif"))[0]
    out = tmp_path / "adapt"
    stages = []
    original = feedback.pushInfo

    def on_info(message):
        original(message)
        if message.startswith("Stage 2/4"):  # the translator is trained; translation starts
            stages.append(time.monotonic())
            feedback.cancel()

    feedback.pushInfo = on_info
    with pytest.raises(QgsProcessingException, match="(?i)cancel"):
        processing.run("lrm:adapt", {
            "SOURCE": images, "SOURCE_LABELS": labels, "TARGET": target, "PRESET": 1,
            "PATCH_SIZE": 32, "BATCH_SIZE": 2, "TRANSLATOR_ITERATIONS": 2, "SEGMENTER_ITERATIONS": 2,
            "DEVICE": "cpu", "PERCEPTUAL_LOSS": 2, "ONE_SHOT_SIZE": 0,
            "OUTPUT_TRANSLATOR": str(out / "translator.safetensors"),
            "OUTPUT_SEGMENTER": str(out / "segmenter.safetensors"),
            "OUTPUT_CLASSIFIED": str(out / "classified.tif"),
            "OUTPUT_TRANSLATED_FOLDER": str(out / "translated")}, feedback=feedback)
    seconds = time.monotonic() - stages[0]
    print(f"lrm:adapt cancelled in stage 2: returned {seconds:.2f} s after cancel")
    assert seconds < CANCEL_LIMIT_SECONDS
    assert not worker_children(str(out))  # no worker left running
    from models.storage.model_file import load_model

    assert load_model(str(out / "translator.safetensors"), expected_kind="translator")  # stage 1 kept
    assert not (out / "segmenter.safetensors").exists() and not (out / "classified.tif").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]


def test_translating_a_huge_vrt_reports_progress_and_cancels_at_once(worker_module, feedback, real_backend,
                                                                     tmp_path):
    # a 16384 x 16384 VRT (268 megapixels, one 96-pixel tile stretched over it: nothing
    # written at full size) translated through Processing feedback: the percentage rises
    # from the first strip on, and Cancel ends the worker at once, leaving no output
    import subprocess
    import sys

    from conftest import ROOT

    rng = np.random.default_rng(0)
    source = write(tmp_path / "s.tif", rng.integers(0, 255, (3, 96, 96), dtype=np.uint8))
    target = write(tmp_path / "t.tif", rng.integers(0, 255, (3, 96, 96), dtype=np.uint8))
    model = tmp_path / "hm.safetensors"
    subprocess.run([sys.executable if not os.path.exists(VENV_PYTHON) else VENV_PYTHON, "-m", "models",
                    "train-translator", "--method", "histogram_matching", "--source", source, "--target",
                    target, "--patch-size", "32", "--output", str(model)], cwd=ROOT, check=True,
                   capture_output=True)
    size = 16384
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{b}"><SimpleSource><SourceFilename relativeToVRT="0">'
        f'{source}</SourceFilename><SourceBand>{b}</SourceBand><SrcRect xOff="0" yOff="0" xSize="96" '
        f'ySize="96"/><DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/></SimpleSource>'
        f'</VRTRasterBand>' for b in (1, 2, 3))
    vrt = tmp_path / "huge.vrt"
    vrt.write_text(f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><GeoTransform>0, 1, 0, 0, 0, '
                   f'-1</GeoTransform>{bands}</VRTDataset>')
    out = tmp_path / "huge_translated.tif"
    run = worker_module.BackendRun("translate", ["--input", str(vrt), "--model", str(model),
                                                 "--device", "cpu", "--output", str(out)],
                                   feedback, outputs=[str(out)])
    seen, cancelled_at = [], []
    original = feedback.setProgress

    def on_progress(value):
        original(value)
        seen.append(value)
        if value >= 1.0 and not cancelled_at:  # past the first strip: cancel
            cancelled_at.append(time.monotonic())
            feedback.cancel()

    feedback.setProgress = on_progress
    with pytest.raises(worker_module.WorkerCancelled):
        run.run()
    seconds = time.monotonic() - cancelled_at[0]
    print(f"huge VRT: progress {seen[:3]}...{seen[-1]:.2f} %, child gone {seconds:.2f} s after cancel")
    assert 0 < seen[-1] < 50 and seen == sorted(seen)  # rising, stopped early
    assert seconds < CANCEL_LIMIT_SECONDS and run.process.returncode is not None
    assert not out.exists() and not list(tmp_path.glob(".*.partial"))
