"""classify: class raster with colour table, category names, style, georeferencing, nodata."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from osgeo import gdal

from models.labels.classes import load_class_table
from models.errors import LrmError
from models.storage.model_file import save_model
from segmenter_rasters import (CLASS_MEANS, GEOTRANSFORM, THREE_CLASSES, block_labels, image_for,
                               run_command, train_tiny, write_raster)

pytestmark = pytest.mark.slow  # a tiny model is trained once for the module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify_model")
    result, _ = train_tiny(folder, "--epochs", 3, "--max-iterations", 6)
    return result["output"]


@pytest.fixture
def scene(tmp_path):
    """A 150x130 image with a nodata corner; returns (path, labels)."""
    rng = np.random.default_rng(42)
    labels = block_labels(150, 3, rng)[:130]
    image = image_for(labels, rng)
    image[:, :10, :20] = 0
    return write_raster(tmp_path / "scene.tif", image, nodata=0), labels


def test_classified_raster_has_table_names_style_georeferencing_and_nodata(model_path, scene, tmp_path):
    path, labels = scene
    out, conf = tmp_path / "classes.tif", tmp_path / "confidence.tif"
    result, reporter = run_command("classify", "--input", path, "--model", model_path,
                                   "--overlap", 16, "--batch-size", 3, "--output", out,
                                   "--output-confidence", conf)
    for key in ("output", "output_confidence", "classes", "seconds", "megapixels_per_second"):
        assert key in result
    classes = load_class_table(THREE_CLASSES)
    assert result["classes"] == classes.to_dict()

    ds = gdal.Open(str(out))
    band = ds.GetRasterBand(1)
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (150, 130, 1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == 255
    assert ds.GetGeoTransform() == GEOTRANSFORM and "32632" in ds.GetProjection()
    table = band.GetColorTable()
    assert [table.GetColorEntry(i)[:3] for i in range(3)] == list(classes.colors)
    assert band.GetCategoryNames()[:3] == list(classes.names)
    predicted = band.ReadAsArray()
    assert (predicted[:10, :20] == 255).all()
    valid = np.ones_like(predicted, bool)
    valid[:10, :20] = False
    assert set(np.unique(predicted[valid])) <= {0, 1, 2}
    # a briefly trained model already gets most pixels of this easy scene right
    assert (predicted[valid] == labels[valid]).mean() > 0.6

    qml = tmp_path / "classes.qml"
    assert result["style"] == str(qml) and load_class_table(str(qml)) == classes
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]

    cds = gdal.Open(str(conf))
    confidence = cds.ReadAsArray()
    assert cds.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert cds.GetGeoTransform() == GEOTRANSFORM
    assert (confidence[:10, :20] == -1).all() and cds.GetRasterBand(1).GetNoDataValue() == -1
    assert (confidence[valid] >= 1 / 3 - 1e-6).all() and (confidence[valid] <= 1 + 1e-6).all()


def test_windows_are_blended_and_reassembled_without_seams(model_path, tmp_path, monkeypatch):
    """With a per-pixel stand-in for the network, the windowed result must equal the per-pixel
    answer exactly: any offset, seam or wrongly blended overlap would show."""
    from models.storage.model_file import read_metadata
    from models.segmentation import predict

    def per_pixel(self, batch):
        return torch.softmax(torch.from_numpy(batch[:, :3] * 3.0), dim=1).numpy()

    monkeypatch.setattr(predict.Segmenter, "probabilities", per_pixel)
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (3, 230, 301)).astype(np.uint8)
    path = write_raster(tmp_path / "noise.tif", image)
    run_command("classify", "--input", path, "--model", model_path, "--overlap", 24,
                "--window", 64, "--batch-size", 5, "--output", tmp_path / "c.tif", "--output-confidence",
                tmp_path / "p.tif")
    scaling = read_metadata(model_path)["input_scaling"]
    scaled = (image - np.array(scaling["mean"])[:, None, None]) / np.array(scaling["std"])[:, None, None]
    expected = torch.softmax(torch.from_numpy(scaled * 3.0).float(), dim=0).numpy()
    classes = gdal.Open(str(tmp_path / "c.tif")).ReadAsArray()
    confidence = gdal.Open(str(tmp_path / "p.tif")).ReadAsArray()
    assert np.allclose(confidence, expected.max(0), atol=1e-5)
    clear = np.sort(expected, 0)[-1] - np.sort(expected, 0)[-2] > 1e-4  # no near-ties
    assert np.array_equal(classes[clear], expected.argmax(0)[clear])


def test_raster_smaller_than_a_window_and_overlap_too_large(model_path, tmp_path):
    rng = np.random.default_rng(3)
    path = write_raster(tmp_path / "tiny.tif", image_for(block_labels(64, 3, rng)[:40, :50], rng))
    result, reporter = run_command("classify", "--input", path, "--model", model_path,
                                   "--window", 64, "--overlap", 64, "--output", tmp_path / "t.tif")
    assert gdal.Open(str(tmp_path / "t.tif")).ReadAsArray().shape == (40, 50)
    assert result["overlap"] == 32 and "using 32" in reporter.warnings[0]


def test_default_window_is_the_fast_one_and_gives_the_same_map(model_path, tmp_path, monkeypatch):
    """The default window is 512 px, not the training patch size. Windowing itself changes
    nothing: with a per-pixel stand-in for the network both windows give the same map
    exactly. The real U-Net differs only near window borders (less context in small
    windows), so it scores the same against the labels."""
    from models.storage.model_file import read_metadata
    from models.segmentation import predict

    patch = int(read_metadata(model_path)["patch_size"])
    rng = np.random.default_rng(11)
    labels = block_labels(600, 3, rng)[:, :560]
    path = write_raster(tmp_path / "wide.tif", image_for(labels, rng))

    def both(tag):
        fast, _ = run_command("classify", "--input", path, "--model", model_path, "--overlap",
                              16, "--output", tmp_path / f"{tag}_fast.tif")
        small, _ = run_command("classify", "--input", path, "--model", model_path, "--overlap",
                               16, "--window", patch, "--output", tmp_path / f"{tag}_small.tif")
        assert patch < 512 and fast["window"] == 512 and small["window"] == patch
        return [gdal.Open(str(tmp_path / f"{tag}_{w}.tif")).ReadAsArray() for w in ("fast", "small")]

    fast, small = both("unet")
    assert abs((fast == labels).mean() - (small == labels).mean()) < 0.05
    monkeypatch.setattr(predict.Segmenter, "probabilities",
                        lambda self, batch: torch.softmax(torch.from_numpy(batch[:, :3] * 3.0), 1).numpy())
    fast, small = both("per_pixel")
    assert np.array_equal(fast, small)


def test_errors(model_path, tmp_path):
    one_band = write_raster(tmp_path / "one.tif", np.zeros((64, 64), np.uint8))
    with pytest.raises(LrmError, match="trained on bands"):
        run_command("classify", "--input", one_band, "--model", model_path,
                    "--output", tmp_path / "o.tif")
    rgb = write_raster(tmp_path / "rgb.tif", np.zeros((3, 64, 64), np.uint8))
    with pytest.raises(LrmError, match="OVERLAP must be 0 or more"):
        run_command("classify", "--input", rgb, "--model", model_path, "--overlap", -1,
                    "--output", tmp_path / "o.tif")
    with pytest.raises(LrmError, match="must be a GeoTIFF"):
        run_command("classify", "--input", rgb, "--model", model_path, "--output", tmp_path / "o.png")
    translator = tmp_path / "translator.safetensors"
    save_model(str(translator), {"w": torch.zeros(1)}, {"kind": "translator"})
    with pytest.raises(LrmError, match="is a translator model"):
        run_command("classify", "--input", rgb, "--model", translator, "--output", tmp_path / "o.tif")
    with pytest.raises(LrmError, match="Model file not found"):
        run_command("classify", "--input", rgb, "--model", tmp_path / "none.safetensors",
                    "--output", tmp_path / "o.tif")
    assert not (tmp_path / "o.tif").exists()


def test_worker_protocol_end_to_end(model_path, tmp_path):
    """The JSON-lines contract the Processing algorithm parses."""
    rng = np.random.default_rng(0)
    path = write_raster(tmp_path / "in.tif", image_for(block_labels(80, 3, rng), rng,
                                                       means=CLASS_MEANS))
    env = dict(os.environ, LRM_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-m", "models", "classify", "--jsonl", "--input", path,
                           "--model", model_path, "--output", str(tmp_path / "out.tif")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert events[-1]["type"] == "result"
    assert events[-1]["data"]["output"] == str(tmp_path / "out.tif")
    assert any(e["type"] == "progress" for e in events)
