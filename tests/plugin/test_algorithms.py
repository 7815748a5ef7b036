"""The Processing algorithms run the real backend in a real QGIS, on tiny sample data.

Sizes are tiny (32-64 px patches, 2 iterations): these tests check wiring, outputs,
georeferencing, styling and error messages, not model quality.
"""

import json
import os
import struct

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (QgsPalettedRasterRenderer, QgsProcessingContext, QgsProcessingException,
                       QgsProject, QgsRasterLayer)

TINY = {"PATCH_SIZE": 32, "BATCH_SIZE": 2, "MAX_ITERATIONS": 2, "EPOCHS": 1, "DEVICE": "cpu"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory, plugin_package, qgis_processing):
    """Sample data made by lrm:create_sample_data itself."""
    import processing

    instance = plugin_package.classFactory(None)
    instance.initProcessing()
    folder = tmp_path_factory.mktemp("sample")
    result = processing.run("lrm:create_sample_data",
                            {"OUTPUT_FOLDER": str(folder), "TILES": 2, "SIZE": 96, "SEED": 3})
    instance.unload()
    return result


@pytest.fixture()
def run(plugin):
    import processing

    def _run(algorithm, params, **kwargs):
        return processing.run(algorithm, params, **kwargs)
    return _run


def model_metadata(path):
    """The LRM metadata of a .safetensors model file (read from its header, no torch)."""
    with open(path, "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    return json.loads(header["__metadata__"]["lrm"])


def georeferencing(path):
    ds = gdal.Open(path)
    return ds.RasterXSize, ds.RasterYSize, ds.GetGeoTransform(), ds.GetProjection()


def test_sample_data_outputs(sample):
    for key in ("SOURCE_IMAGES", "SOURCE_LABELS", "TARGET_IMAGES", "TARGET_LABELS"):
        assert len(sample[key]) == 2 and all(os.path.isfile(p) for p in sample[key])
    assert gdal.Open(sample["SOURCE_IMAGES"][0]).GetProjection()
    assert sample["SHIFT"] == "radiometric"  # the default


def test_sample_data_shift_sensor_season(run, tmp_path):
    result = run("lrm:create_sample_data", {"OUTPUT_FOLDER": str(tmp_path / "season"), "TILES": 1,
                                            "SIZE": 64, "SEED": 3, "SHIFT": 1})
    assert result["SHIFT"] == "sensor_season"
    assert gdal.Open(result["TARGET_IMAGES"][0]).GetGeoTransform()[1] == pytest.approx(0.05)


def train_once(plugin_package, tmp_path_factory, algorithm, name, params):
    """Train one tiny model with the plugin's provider loaded (for a module's tests)."""
    import processing

    instance = plugin_package.classFactory(None)
    instance.initProcessing()
    out = tmp_path_factory.mktemp("models") / name
    result = processing.run(algorithm, {**params, "OUTPUT": str(out), **TINY})
    instance.unload()
    return result


@pytest.fixture(scope="module")
def translator_model(sample, tmp_path_factory, plugin_package, qgis_processing):
    return train_once(plugin_package, tmp_path_factory, "lrm:train_translator", "translator.safetensors",
                      {"SOURCE": sample["SOURCE_IMAGES"], "TARGET": sample["TARGET_IMAGES"][0]})


def test_train_translator_outputs(translator_model):
    assert os.path.isfile(translator_model["OUTPUT"])
    assert translator_model["PARAMETERS"] == 114659
    assert translator_model["SECONDS_PER_ITERATION"] > 0
    assert len(translator_model["TARGET_WINDOW"].split(",")) == 4
    # defaults, offline (LRM_OFFLINE=1, no VGG19 cache): auto falls back to the weight-free
    # losses, and the one-shot sample is the largest square that fits (ONE_SHOT_SIZE 512)
    assert translator_model["PERCEPTUAL_LOSS_USED"] == "weight_free"
    assert translator_model["TARGET_WINDOW"].split(",")[2:] == ["96", "96"]


def test_train_translator_weight_free_global_one_shot_of_patch_size(run, sample, tmp_path, feedback):
    out = str(tmp_path / "wf.safetensors")
    result = run("lrm:train_translator", {
        "SOURCE": sample["SOURCE_IMAGES"], "TARGET": sample["TARGET_IMAGES"][0], "OUTPUT": out,
        "PERCEPTUAL_LOSS": 2, "STYLE_MIXING": 1, "ONE_SHOT_SIZE": 0, **TINY}, feedback=feedback)
    assert result["PERCEPTUAL_LOSS_USED"] == "weight_free"
    assert result["TARGET_WINDOW"].split(",")[2:] == ["32", "32"]  # 0 = PATCH_SIZE
    meta = model_metadata(out)
    assert (meta["perceptual_loss"], meta["style_mixing"], meta["one_shot_size"]) == ("weight_free", "global", 32)
    assert any("weight_free, style mixing global" in line for line in feedback.infos), feedback.infos


def test_vgg19_imagenet_without_weights_is_an_error_naming_vgg_weights(run, sample, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached VGG19 weights
    monkeypatch.setenv("LRM_OFFLINE", "1")  # and no download
    with pytest.raises(QgsProcessingException, match="VGG_WEIGHTS"):
        run("lrm:train_translator", {"SOURCE": sample["SOURCE_IMAGES"], "TARGET": sample["TARGET_IMAGES"][0],
                                     "PERCEPTUAL_LOSS": 1, "OUTPUT": str(tmp_path / "v.safetensors"), **TINY})
    assert not os.path.exists(tmp_path / "v.safetensors")


def test_translate_keeps_georeferencing(run, sample, translator_model, tmp_path):
    out = str(tmp_path / "translated.tif")
    result = run("lrm:translate", {"INPUT": sample["SOURCE_IMAGES"][0], "MODEL": translator_model["OUTPUT"],
                                   "OVERLAP": 8, "BATCH_SIZE": 2, "DEVICE": "cpu", "OUTPUT": out})
    assert result["OUTPUT"] == out
    assert georeferencing(out) == georeferencing(sample["SOURCE_IMAGES"][0])
    ds = gdal.Open(out)
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Byte


def test_translate_with_a_segmenter_model_is_a_clear_error(run, sample, segmenter_model, tmp_path):
    with pytest.raises(QgsProcessingException, match="segmenter"):
        run("lrm:translate", {"INPUT": sample["SOURCE_IMAGES"][0], "MODEL": segmenter_model["OUTPUT"],
                              "DEVICE": "cpu", "OUTPUT": str(tmp_path / "x.tif")})
    assert not os.path.exists(tmp_path / "x.tif")


@pytest.fixture(scope="module")
def segmenter_model(sample, tmp_path_factory, plugin_package, qgis_processing):
    return train_once(plugin_package, tmp_path_factory, "lrm:train_segmenter", "segmenter.safetensors",
                      {"IMAGES": sample["SOURCE_IMAGES"], "LABELS": sample["SOURCE_LABELS"],
                       "LABEL_FORMAT": 0, "ENCODER": "resnet18"})


def test_train_segmenter_outputs(segmenter_model):
    assert os.path.isfile(segmenter_model["OUTPUT"])
    assert 0 <= segmenter_model["BEST_VALIDATION_MIOU"] <= 100
    assert segmenter_model["EPOCHS_RUN"] >= 1


def test_train_segmenter_on_a_device_list_runs_two_ranks(run, sample, tmp_path, feedback):
    """DEVICE cpu:2 from Processing: the worker launches two gloo ranks through
    torch.distributed.run; progress and the outputs come back as for one device."""
    out = str(tmp_path / "s.safetensors")
    result = run("lrm:train_segmenter", {"IMAGES": sample["SOURCE_IMAGES"],
                                         "LABELS": sample["SOURCE_LABELS"], "LABEL_FORMAT": 0,
                                         "ENCODER": "resnet18", "OUTPUT": out,
                                         **{**TINY, "DEVICE": "cpu:2"}}, feedback=feedback)
    assert result["OUTPUT"] == out and os.path.isfile(out)
    assert model_metadata(out)["training"]["ranks"] == 2
    assert any("2 data-parallel ranks" in i for i in feedback.infos)
    assert feedback.progress_values and max(feedback.progress_values) >= 99


def test_train_segmenter_mismatched_pairs_is_an_error(run, sample, tmp_path):
    with pytest.raises(QgsProcessingException, match="label raster"):
        run("lrm:train_segmenter", {"IMAGES": sample["SOURCE_IMAGES"], "LABELS": sample["SOURCE_LABELS"][:1],
                                    "OUTPUT": str(tmp_path / "s.safetensors"), **TINY})


def test_classify_is_styled_with_the_class_table_when_loaded(run, sample, segmenter_model, tmp_path):
    out = str(tmp_path / "classified.tif")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    context.addLayerToLoadOnCompletion(out, QgsProcessingContext.LayerDetails("classified", QgsProject.instance(), "OUTPUT"))
    result = run("lrm:classify", {"INPUT": sample["TARGET_IMAGES"][0], "MODEL": segmenter_model["OUTPUT"],
                                  "OVERLAP": 8, "BATCH_SIZE": 2, "DEVICE": "cpu", "OUTPUT": out,
                                  "OUTPUT_CONFIDENCE": str(tmp_path / "confidence.tif")}, context=context)
    assert georeferencing(out) == georeferencing(sample["TARGET_IMAGES"][0])
    assert os.path.isfile(result["OUTPUT_CONFIDENCE"])
    assert os.path.isfile(os.path.splitext(out)[0] + ".qml")
    layer = QgsRasterLayer(out, "classified")
    post = context.layerToLoadOnCompletionDetails(out).postProcessor()
    assert post is not None
    post.postProcessLayer(layer, context, None)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    labels = [c.label for c in renderer.classes()]
    assert "building" in labels and "impervious surfaces" in labels


def test_export_segmenter_writes_an_onnx_model_for_deepness(run, segmenter_model, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    out = str(tmp_path / "segmenter.onnx")
    result = run("lrm:export_segmenter", {"MODEL": segmenter_model["OUTPUT"], "OUTPUT": out,
                                          "RESOLUTION_CM": 12.5, "OVERLAP_PERCENT": 10})
    assert result["OUTPUT"] == out and result["TILE_SIZE_USED"] == TINY["PATCH_SIZE"]
    meta = ort.InferenceSession(out, providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["model_type"] == '"Segmentor"' and meta["resolution"] == "12.5"
    assert meta["tiles_overlap"] == "10" and "building" in meta["class_names"]


def test_export_segmenter_refuses_a_non_onnx_output(run, segmenter_model, tmp_path):
    with pytest.raises(QgsProcessingException, match=r"\.onnx"):
        run("lrm:export_segmenter", {"MODEL": segmenter_model["OUTPUT"], "OUTPUT": str(tmp_path / "m.tif")})


def test_evaluate_reports_metrics(run, sample, segmenter_model, tmp_path):
    classified = str(tmp_path / "c.tif")
    run("lrm:classify", {"INPUT": sample["TARGET_IMAGES"][0], "MODEL": segmenter_model["OUTPUT"],
                         "OVERLAP": 8, "DEVICE": "cpu", "OUTPUT": classified})
    html, table = str(tmp_path / "eval.html"), str(tmp_path / "eval.csv")
    result = run("lrm:evaluate", {"PREDICTION": classified, "REFERENCE": sample["TARGET_LABELS"][0],
                                  "LABEL_FORMAT": 0, "OUTPUT_HTML": html, "OUTPUT_TABLE": table})
    # the same scores computed here from the two rasters (ISPRS classes 0..5, 255 ignored)
    from osgeo import gdal

    predicted = gdal.Open(classified).ReadAsArray().ravel().astype(int)
    reference = gdal.Open(sample["TARGET_LABELS"][0]).ReadAsArray().ravel().astype(int)
    keep = (reference != 255) & (predicted != 255)
    confusion = np.bincount(reference[keep] * 6 + predicted[keep], minlength=36).reshape(6, 6)
    tp, present = np.diag(confusion), confusion.sum(1) > 0
    iou = tp / np.maximum(confusion.sum(0) + confusion.sum(1) - tp, 1)
    assert result["OVERALL_ACCURACY"] == pytest.approx(100 * tp.sum() / confusion.sum(), abs=1e-6)
    assert result["MIOU"] == pytest.approx(100 * iou[present].mean(), abs=1e-6)
    assert os.path.getsize(html) > 500 and "building" in open(table).read()


def test_evaluate_identical_rasters_scores_100(run, sample, tmp_path):
    result = run("lrm:evaluate", {"PREDICTION": sample["TARGET_LABELS"][0], "REFERENCE": sample["TARGET_LABELS"][0],
                                  "LABEL_FORMAT": 0, "OUTPUT_HTML": str(tmp_path / "e.html"),
                                  "OUTPUT_TABLE": str(tmp_path / "e.csv")})
    assert result["MIOU"] == pytest.approx(100.0)
    assert result["OVERALL_ACCURACY"] == pytest.approx(100.0)


def test_convert_labels_round_trip(run, sample, tmp_path):
    rgb = str(tmp_path / "rgb.tif")
    back = str(tmp_path / "index.tif")
    run("lrm:convert_labels", {"INPUT": sample["SOURCE_LABELS"][0], "DIRECTION": 1, "OUTPUT": rgb})
    assert gdal.Open(rgb).RasterCount == 3
    run("lrm:convert_labels", {"INPUT": rgb, "DIRECTION": 0, "OUTPUT": back})
    a = gdal.Open(sample["SOURCE_LABELS"][0]).ReadAsArray()
    b = gdal.Open(back).ReadAsArray()
    assert (a == b).all()
    ds = gdal.Open(back)  # keep the dataset alive while its band is used
    band = ds.GetRasterBand(1)
    assert band.GetColorTable() is not None and "building" in band.GetCategoryNames()


def test_non_file_raster_is_a_clear_error(run, sample, translator_model, tmp_path):
    with pytest.raises(QgsProcessingException):
        run("lrm:translate", {"INPUT": str(tmp_path / "missing.tif"), "MODEL": translator_model["OUTPUT"],
                              "OUTPUT": str(tmp_path / "o.tif")})


def test_target_extent_in_another_crs_is_transformed(run, sample, tmp_path):
    """An extent in EPSG:4326 over the target tile's bottom-right quadrant picks a window there."""
    from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject,
                           QgsRectangle)

    target = sample["TARGET_IMAGES"][0]
    layer = QgsRasterLayer(target, "target")
    ext = layer.extent()
    quadrant = QgsRectangle(ext.center().x(), ext.yMinimum(), ext.xMaximum(), ext.center().y())
    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    to_wgs84 = QgsCoordinateTransform(layer.crs(), wgs84, QgsProject.instance())
    q = to_wgs84.transformBoundingBox(quadrant)
    extent = f"{q.xMinimum()!r},{q.xMaximum()!r},{q.yMinimum()!r},{q.yMaximum()!r} [EPSG:4326]"
    result = run("lrm:train_translator", {"SOURCE": sample["SOURCE_IMAGES"], "TARGET": target,
                                          "TARGET_EXTENT": extent, "METHOD": 1,  # histogram matching: fast
                                          "ONE_SHOT_SIZE": 0,  # a PATCH_SIZE window, not the whole extent
                                          "OUTPUT": str(tmp_path / "hm.safetensors"), **TINY})
    x, y, w, h = (int(v) for v in result["TARGET_WINDOW"].split(","))
    half = layer.width() // 2
    assert (w, h) == (32, 32)
    assert x >= half - 4 and y >= half - 4, f"window {x},{y} is not in the bottom-right quadrant"
