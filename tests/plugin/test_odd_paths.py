"""Paths as users have them: spaces, accents, non-Latin scripts and long names, through
qgis_process and the real backend (train a translator, translate, train and classify),
outputs written where asked, with the input's grid."""

import os

import numpy as np
import pytest
from osgeo import gdal

from test_qgis_process import pytestmark, run_json  # noqa: F401  (same skip rule)

ODD_FOLDER = "Données d'été 夏の街 Ωμέγα/with spaces"
LONG_NAME = "orthophoto_" + "très_long_nom_" * 12 + "fin"  # 190 characters


def write(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds = gdal.GetDriverByName("GTiff").Create(path, array.shape[-1], array.shape[-2], len(array), gdal.GDT_Byte)
    ds.SetGeoTransform((500000.0, 0.5, 0.0, 5400000.0, 0.0, -0.5))
    ds.WriteArray(array)
    ds = None
    return path


def test_algorithms_take_and_write_paths_with_spaces_accents_and_other_scripts(tmp_path):
    folder = os.path.join(str(tmp_path), ODD_FOLDER)
    rng = np.random.default_rng(0)
    source = write(os.path.join(folder, f"{LONG_NAME} source.tif"), rng.integers(0, 255, (3, 64, 64), dtype=np.uint8))
    target = write(os.path.join(folder, "cible été.tif"), rng.integers(0, 255, (3, 64, 64), dtype=np.uint8))
    labels = write(os.path.join(folder, "étiquettes 標籤.tif"), (rng.random((1, 64, 64)) * 6).astype(np.uint8))
    model = os.path.join(folder, "modèle Ω.safetensors")
    trained = run_json("lrm:train_translator", SOURCE=source, TARGET=target, METHOD=1, PATCH_SIZE=32,
                       OUTPUT=model, OUTPUT_HTML=os.path.join(folder, "rapport é.html"))
    assert trained["results"]["OUTPUT"] == model and os.path.isfile(model)
    translated = os.path.join(folder, f"{LONG_NAME} traduit.tif")
    assert len(os.path.basename(translated)) > 190
    run_json("lrm:translate", INPUT=source, MODEL=model, OUTPUT=translated)
    ds = gdal.Open(translated)
    assert (ds.RasterXSize, ds.RasterYSize, ds.GetGeoTransform()) == (64, 64, (500000.0, 0.5, 0.0, 5400000.0, 0.0, -0.5))
    segmenter = os.path.join(folder, "segmenteur 夏.safetensors")
    run_json("lrm:train_segmenter", IMAGES=translated, LABELS=labels, ENCODER="resnet18", PATCH_SIZE=32,
             BATCH_SIZE=2, EPOCHS=1, MAX_ITERATIONS=1, OUTPUT=segmenter)
    classified = os.path.join(folder, "classes été.tif")
    run_json("lrm:classify", INPUT=target, MODEL=segmenter, OUTPUT=classified)
    assert gdal.Open(classified).RasterXSize == 64
    assert os.path.isfile(os.path.join(folder, "classes été.qml"))
    assert not [n for n in os.listdir(folder) if n.endswith(".partial")]
