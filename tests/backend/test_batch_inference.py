"""Batches of rasters (issue 13): sharded over CPU workers, resumable, mosaicked, failing clearly.

Tiny rasters and an untrained resnet18 U-Net written straight to a model file (classification
only needs a valid file, not a good model); outputs are compared with classifying each raster
alone, array for array.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from osgeo import gdal

from models.errors import LrmError
from models.labels.classes import load_class_table
from models.segmentation.network import build_unet
from models.segmentation.predict import classify_raster
from models.storage.model_file import save_model
from segmenter_rasters import CLASS_MEANS, THREE_CLASSES, block_labels, image_for, run_command, write_raster

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    net = build_unet("resnet18", 3, 3, (32, 16, 16, 8, 8))
    path = str(tmp_path_factory.mktemp("batch_model") / "segmenter.safetensors")
    save_model(path, net.state_dict(), {
        "kind": "segmenter", "architecture": "unet", "encoder": "resnet18", "encoder_depth": 5,
        "decoder_channels": [32, 16, 16, 8, 8], "in_channels": 3, "bands": [1, 2, 3],
        "input_scaling": {"mean": [128.0] * 3, "std": [60.0] * 3, "dtype": "uint8"},
        "classes": load_class_table(THREE_CLASSES).to_dict(), "patch_size": 32})
    return path


def tile(folder, name, column, row=0, size=(64, 48), seed=0):
    """A ``size`` (w, h) raster placed at tile (column, row) of a 0.5 m grid."""
    rng = np.random.default_rng(seed)
    image = image_for(block_labels(max(size), 3, rng)[:size[1], :size[0]], rng, means=CLASS_MEANS)
    transform = (500000.0 + column * size[0] * 0.5, 0.5, 0.0, 5700000.0 - row * size[1] * 0.5, 0.0, -0.5)
    return write_raster(os.path.join(folder, name), image, geotransform=transform)


@pytest.fixture
def tiles(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return [tile(folder, f"t{i}.tif", i % 2, i // 2, seed=i) for i in range(3)]


def read(path):
    return gdal.Open(str(path)).ReadAsArray()


def alone(model, path, out, confidence=None):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what each of the two cpu:2 workers gets on 2 cores
    try:
        classify_raster(path, model, str(out), confidence and str(confidence), device="cpu")
    finally:
        torch.set_num_threads(threads)
    return read(out), (read(confidence) if confidence else None)


def test_two_cpu_workers_give_what_each_raster_gives_alone_and_a_mosaic(model, tiles, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, LRM_OFFLINE="1", PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "models", "classify", "--inputs", tiles[0],
                           "--input-folder", os.path.dirname(tiles[0]), "--model", model,
                           "--output-folder", out, "--output-confidence", "yes", "--device", "cpu:2",
                           "--overlap", "8"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["devices"] == ["cpu", "cpu"] and result["skipped"] == []
    assert [o["input"] for o in result["outputs"]] == tiles  # INPUTS first, each input once
    assert sorted(result["written"]) == [str(out / f"t{i}.tif") for i in range(3)]
    for i, path in enumerate(tiles):
        classes, confidence = alone(model, path, tmp_path / f"alone{i}.tif", tmp_path / f"c{i}.tif")
        assert np.array_equal(read(out / f"t{i}.tif"), classes)
        # float32 probabilities agree to rounding (kernel choices differ between processes)
        np.testing.assert_allclose(read(out / f"t{i}_confidence.tif"), confidence, atol=1e-6)
    assert "3/3:" in proc.stderr and "written on cpu" in proc.stderr
    # the mosaic covers the three 64x48 tiles laid out 2x2 (one corner empty)
    mosaic = gdal.Open(result["mosaic"])
    assert result["mosaic"] == str(out / "mosaic.vrt") and (mosaic.RasterXSize, mosaic.RasterYSize) == (128, 96)
    assert np.array_equal(mosaic.ReadAsArray()[48:, :64], read(out / "t2.tif"))
    assert (out / "mosaic.qml").is_file()  # styled like the class rasters
    assert not [f for f in os.listdir(out) if f.startswith(".")]


def test_a_rerun_makes_only_the_missing_or_broken_outputs(model, tiles, tmp_path):
    out = tmp_path / "out"
    args = ["--input-folder", os.path.dirname(tiles[0]), "--model", model, "--output-folder", out,
            "--device", "cpu", "--overlap", 8]
    first, _ = run_command("classify", *args)
    assert len(first["written"]) == 3 and first["mosaic"]
    # a crash: t1's output never appeared (only its hidden partial), t2's was damaged
    os.replace(out / "t1.tif", out / f".t1.tif.{os.getpid() + 1}.partial")
    with open(out / "t2.tif", "wb") as f:
        f.write(b"not a tiff")
    kept = os.stat(out / "t0.tif").st_mtime_ns
    time.sleep(0.01)
    second, reporter = run_command("classify", *args)
    assert second["skipped"] == [str(out / "t0.tif")]
    assert second["written"] == [str(out / "t1.tif"), str(out / "t2.tif")]
    assert os.stat(out / "t0.tif").st_mtime_ns == kept
    assert any("t2.tif exists but GDAL cannot open it" in w and "made again" in w
               for w in reporter.warnings)
    assert any("1 of 3 outputs are already complete" in m for m in reporter.infos)
    assert read(out / "t2.tif").shape == (48, 64)
    assert gdal.Open(str(out / "mosaic.vrt")).RasterXSize == 128


@pytest.mark.parametrize("device", ["cpu", "cpu:2"])
def test_a_bad_input_stops_the_batch_with_its_name(model, tiles, tmp_path, device):
    bad = os.path.join(os.path.dirname(tiles[0]), "t05_broken.tif")
    with open(bad, "wb") as f:
        f.write(b"II*\0 truncated")
    out = tmp_path / "out"
    with pytest.raises(LrmError) as caught:
        run_command("classify", "--inputs", tiles[0], "--inputs", bad, "--inputs", tiles[1],
                    "--model", model, "--output-folder", out, "--device", device)
    message = str(caught.value)
    assert "t05_broken.tif" in message and "not a raster GDAL can read" in message
    assert "The batch stopped" in message and "of 3 outputs are complete" in message
    assert not (out / "t05_broken.tif").exists() and not (out / "mosaic.vrt").exists()
    assert not [f for f in os.listdir(out) if f.endswith(".partial")]


def test_batch_arguments_are_checked_before_anything_runs(model, tiles, tmp_path):
    folder = os.path.dirname(tiles[0])
    with pytest.raises(LrmError, match="give OUTPUT_FOLDER"):
        run_command("classify", "--inputs", tiles[0], "--inputs", tiles[1], "--model", model,
                    "--output", tmp_path / "x.tif", "--output-folder", "")
    with pytest.raises(LrmError, match="Give INPUT and OUTPUT"):
        run_command("classify", "--input", tiles[0], "--model", model)
    with pytest.raises(LrmError, match="OUTPUT_FOLDER is INPUT_FOLDER"):
        run_command("classify", "--input-folder", folder, "--model", model, "--output-folder", folder)
    tile(tmp_path, "t0.vrt", 0)  # another input named t0
    with pytest.raises(LrmError, match="would both be written to"):
        run_command("classify", "--inputs", str(tmp_path / "t0.vrt"), "--input-folder", folder,
                    "--model", model, "--output-folder", tmp_path / "out")
    with pytest.raises(LrmError, match="holds no raster"):
        run_command("classify", "--input-folder", tmp_path / "out", "--model", model,
                    "--output-folder", tmp_path / "o2")


def test_cancel_stops_the_workers_and_leaves_no_partial(model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        tile(folder, f"big{i}.tif", i, size=(768, 768), seed=i)
    out = tmp_path / "out"
    env = dict(os.environ, LRM_OFFLINE="1", PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "models", "classify", "--jsonl", "--input-folder",
                             folder, "--model", model, "--output-folder", out, "--device", "cpu:2",
                             "--window", "256"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        for line in proc.stdout:  # wait until a worker is classifying
            if json.loads(line).get("type") == "progress" and json.loads(line)["value"] > 0:
                break
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)  # what Processing's Cancel does
        rest = proc.stdout.read()
        assert proc.wait(timeout=20) == 130
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert '"kind": "cancelled"' in rest
    left = os.listdir(out)
    assert not [f for f in left if f.startswith(".")], left  # no partials, no hidden leftovers
    for name in left:  # whatever was finished before the cancel is complete
        assert read(out / name).shape == (768, 768)
    assert _group_ends(proc.pid, within=3.0), subprocess.run(  # the workers are gone with it
        ["ps", "-o", "pid,stat,args", "-g", str(proc.pid)], capture_output=True, text=True).stdout


def _group_ends(group, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_translate_batch_and_a_mosaic_it_cannot_make(tmp_path):
    from osgeo import osr
    from translation_rasters import source_and_target

    source, target, image, _ = source_and_target(str(tmp_path), size=64, target_size=32)
    model, _ = run_command("train-translator", "--source", source, "--target", target,
                           "--method", "histogram_matching", "--patch-size", 32,
                           "--output", tmp_path / "hm.safetensors",
                           "--device", "cpu")
    folder = tmp_path / "in"
    folder.mkdir()
    a = write_raster(folder / "a.tif", image)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    write_raster(folder / "b.tif", image[:, :40], geotransform=(7.0, 1e-5, 0, 48.0, 0, -1e-5),
                 wkt=wgs84.ExportToWkt())
    out = tmp_path / "out"
    result, reporter = run_command("translate", "--input-folder", folder, "--model", model["output"],
                                   "--output-folder", out, "--device", "cpu")
    assert result["written"] == [str(out / "a.tif"), str(out / "b.tif")] and result["mosaic"] is None
    assert any("No mosaic was made" in w and "different CRSs" in w for w in reporter.warnings)
    run_command("translate", "--input", a, "--model", model["output"], "--output", tmp_path / "a.tif")
    assert np.array_equal(read(out / "a.tif"), read(tmp_path / "a.tif"))
    assert read(out / "b.tif").shape == (3, 40, 64)
