"""export-segmenter: an ONNX model that Deepness can run and that predicts as lrm:classify."""

import json

import numpy as np
import pytest
from osgeo import gdal

from models.labels.classes import load_class_table
from models.errors import LrmError
from segmenter_rasters import THREE_CLASSES, block_labels, image_for, run_command, train_tiny, write_raster

ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.slow  # a tiny model is trained once for the module


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export_model")
    result, _ = train_tiny(folder, "--epochs", 3, "--max-iterations", 6)
    return result["output"]


@pytest.fixture(scope="module")
def exported(model_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "segmenter.onnx"
    result, reporter = run_command("export-segmenter", "--model", model_path, "--output", out,
                                   "--overlap-percent", 20)
    return out, result, reporter


def deepness_input(image):
    """What Deepness feeds the model: (1, C, H, W) float32, 8-bit values / 255."""
    return (image.astype(np.float32) / 255.0)[None]


def test_onnx_classes_equal_lrm_classify_on_a_tile(exported, model_path, tmp_path):
    out, result, _ = exported
    tile = result["tile_size"]
    assert tile == 64  # the model's patch size
    rng = np.random.default_rng(7)
    image = image_for(block_labels(tile, 3, rng), rng)
    path = write_raster(tmp_path / "tile.tif", image)  # one window: no blending in classify
    classified = tmp_path / "classes.tif"
    run_command("classify", "--input", path, "--model", model_path, "--output", classified,
                "--overlap", 0)
    expected = gdal.Open(str(classified)).ReadAsArray()

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {"input": deepness_input(image)})[0]
    assert probabilities.shape == (1, 3, tile, tile)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)  # softmax, as Deepness reads
    predicted = probabilities[0].argmax(axis=0)
    # ties between two classes within float error may flip: allow a handful of pixels
    assert (predicted != expected).mean() < 0.002, (predicted != expected).sum()


def test_dynamic_batch(exported):
    out, result, _ = exported
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    tile = result["tile_size"]
    assert session.get_inputs()[0].shape[1:] == [3, tile, tile]
    batch = np.random.default_rng(0).random((3, 3, tile, tile), dtype=np.float32)
    probabilities = session.run(None, {"input": batch})[0]
    single = session.run(None, {"input": batch[1:2]})[0]
    assert probabilities.shape == (3, 3, tile, tile)
    np.testing.assert_allclose(probabilities[1:2], single, atol=1e-5)


def test_deepness_metadata_keys_and_values(exported):
    out, result, reporter = exported
    meta = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]) \
        .get_modelmeta().custom_metadata_map
    decoded = {key: json.loads(value) for key, value in meta.items()}  # Deepness json.loads each
    names = list(load_class_table(THREE_CLASSES).names)
    assert decoded["model_type"] == "Segmentor"
    assert decoded["class_names"] == {str(i): n for i, n in enumerate(names)}
    assert decoded["tile_size"] == 64 and decoded["tiles_overlap"] == 20
    assert decoded["resolution"] == pytest.approx(50.0)  # training rasters: 0.5 m pixels in UTM
    assert decoded["seg_thresh"] == 0.0
    assert decoded["lrm_bands"] == [1, 2, 3]
    assert result["classes"] == names and result["resolution_cm"] == pytest.approx(50.0)


def test_explicit_resolution_and_tile_size(model_path, tmp_path):
    out = tmp_path / "big.onnx"
    result, _ = run_command("export-segmenter", "--model", model_path, "--output", out,
                            "--tile-size", 96, "--resolution-cm", 9)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[2:] == [96, 96]
    assert json.loads(session.get_modelmeta().custom_metadata_map["resolution"]) == 9.0
    assert result["tile_size"] == 96


@pytest.mark.parametrize("argv, message", [
    (("--tile-size", 100), "multiple of 32"),
    (("--overlap-percent", 100), "OVERLAP_PERCENT"),
])
def test_bad_arguments_say_what_is_wrong(model_path, tmp_path, argv, message):
    out = tmp_path / "bad.onnx"
    with pytest.raises(LrmError, match=message):
        run_command("export-segmenter", "--model", model_path, "--output", out, *argv)
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_output_must_be_onnx_and_model_a_segmenter(model_path, tmp_path):
    with pytest.raises(LrmError, match=r"\.onnx"):
        run_command("export-segmenter", "--model", model_path, "--output", tmp_path / "m.tif")
    not_a_model = tmp_path / "x.safetensors"
    not_a_model.write_bytes(b"not a model")
    with pytest.raises(LrmError, match="not a readable"):
        run_command("export-segmenter", "--model", not_a_model, "--output", tmp_path / "m.onnx")
