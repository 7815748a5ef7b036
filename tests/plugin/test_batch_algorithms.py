"""lrm:classify with several inputs in a real QGIS: INPUTS -> OUTPUT_FOLDER, the mosaic
loaded and styled, the checks before the worker starts, one raster still as before."""

import os

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProject

pytestmark = pytest.mark.qgis


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    import torch

    from models.labels.classes import load_class_table
    from models.segmentation.network import build_unet
    from models.storage.model_file import save_model

    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp("batch_model") / "segmenter.safetensors")
    save_model(path, build_unet("resnet18", 3, 3, (32, 16, 16, 8, 8)).state_dict(), {
        "kind": "segmenter", "architecture": "unet", "encoder": "resnet18", "encoder_depth": 5,
        "decoder_channels": [32, 16, 16, 8, 8], "in_channels": 3, "bands": [1, 2, 3],
        "input_scaling": {"mean": [128.0] * 3, "std": [60.0] * 3, "dtype": "uint8"},
        "classes": load_class_table("0 red 255,0,0; 1 green 0,255,0; 2 blue 0,0,255").to_dict(),
        "patch_size": 32})
    return path


def rasters(folder, count=2):
    from segmenter_rasters import write_raster  # tests/backend helpers

    rng = np.random.default_rng(0)
    return [write_raster(os.path.join(folder, f"r{i}.tif"), rng.integers(0, 255, (3, 40, 64)),
                         geotransform=(500000.0 + 32 * i, 0.5, 0, 5700000.0, 0, -0.5))
            for i in range(count)]


def test_classify_inputs_to_an_output_folder_loads_the_styled_mosaic(plugin, model, tmp_path):
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "backend"))
    import processing

    inputs, out = rasters(str(tmp_path)), str(tmp_path / "out")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    result = processing.run("lrm:classify", {"INPUTS": inputs, "MODEL": model, "DEVICE": "cpu",
                                             "OVERLAP": 8, "OUTPUT_FOLDER": out}, context=context)
    assert result["OUTPUT_MOSAIC"] == os.path.join(out, "mosaic.vrt")
    assert {"mosaic.qml", "mosaic.vrt", "r0.qml", "r0.tif", "r1.qml", "r1.tif"} <= set(os.listdir(out))
    assert not [name for name in os.listdir(out) if name.startswith(".")]
    assert gdal.Open(result["OUTPUT_MOSAIC"]).RasterXSize == 128  # side by side
    assert context.willLoadLayerOnCompletion(result["OUTPUT_MOSAIC"])
    assert context.layerToLoadOnCompletionDetails(result["OUTPUT_MOSAIC"]).postProcessor() is not None
    with pytest.raises(QgsProcessingException, match="OUTPUT_FOLDER: several inputs"):
        processing.run("lrm:classify", {"INPUTS": inputs, "MODEL": model, "DEVICE": "cpu"})
    with pytest.raises(QgsProcessingException, match="INPUT: give the raster to classify"):
        processing.run("lrm:classify", {"MODEL": model, "OUTPUT": str(tmp_path / "o.tif")})
