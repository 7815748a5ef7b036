"""Tiny rasters and a tiny trained LRM translator for the translator/translation tests."""

import os

import numpy as np
import pytest
from osgeo import gdal, osr

from models.runtime.reporting import Reporter
from models.translation.config import TranslatorConfig

GEOTRANSFORM = (431000.0, 0.5, 0.0, 5412000.0, 0.0, -0.5)
SOURCE_MEAN, TARGET_MEAN = (70, 90, 60), (180, 120, 160)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ONESHOT = os.path.join(os.path.dirname(ROOT), "shared", "data", "isprs_oneshot")


def utm_wkt():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    return srs.ExportToWkt()


def write_raster(path, array, dtype=gdal.GDT_Byte, nodata=None, geotransform=GEOTRANSFORM):
    array = np.asarray(array)
    bands, height, width = array.shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), width, height, bands, dtype)
    if geotransform is not None:
        ds.SetGeoTransform(geotransform)
        ds.SetProjection(utm_wkt())
    for i in range(bands):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(array[i])
    ds = None
    return str(path)


def read(path):
    return gdal.Open(str(path)).ReadAsArray()


def texture(rng, mean, spread, shape, dtype=np.uint8, high=255):
    """Blocky structure plus noise around a per-band mean (an image a CNN can encode)."""
    bands, height, width = shape
    cells = rng.normal(0, 1, (height // 8 + 1, width // 8 + 1))
    blocks = np.kron(cells, np.ones((8, 8)))[:height, :width]
    out = (np.asarray(mean, float)[:, None, None] + np.asarray(spread, float)[:, None, None]
           * (0.7 * blocks + 0.3 * rng.normal(0, 1, shape)))
    return np.clip(out, 0, high).astype(dtype)


class RecordingReporter(Reporter):
    def __init__(self):
        self.events = []

    def progress(self, percent):
        self.events.append(("progress", percent))

    def info(self, message):
        self.events.append(("info", message))

    def warning(self, message):
        self.events.append(("warning", message))

    def metric(self, name, value, **context):
        self.events.append(("metric", name, value, context))

    def of(self, kind):
        return [e for e in self.events if e[0] == kind]


def source_and_target(folder, seed=1, size=96, target_size=64, bands=3):
    rng = np.random.default_rng(seed)
    source = texture(rng, SOURCE_MEAN[:bands] + (100,) * (bands - 3), (20,) * bands,
                     (bands, size, size))
    target = texture(rng, TARGET_MEAN[:bands] + (50,) * (bands - 3), (25,) * bands,
                     (bands, target_size, target_size))
    return (write_raster(os.path.join(folder, "source.tif"), source),
            write_raster(os.path.join(folder, "target.tif"), target), source, target)


def tiny_config(source, target, output, **kw):
    values = dict(sources=[source], target=target, patch_size=32, batch_size=4, epochs=100,
                  max_iterations=12, device="cpu", seed=0, output=str(output),
                  one_shot_size=0)  # a PATCH_SIZE sample unless a test asks for more
    values.update(kw)
    return TranslatorConfig(**values)


def write_vgg19_weights(folder):
    """A VGG19 weights file with torchvision's key names (random values, conv layers up
    to conv4_3: the part the losses use; the real file also has the classifier).
    Returns (path, state dict)."""
    import torch
    import torchvision

    from models.translation.methods.lrm import vgg as vgg_module

    torch.manual_seed(3)
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])
    state = {f"features.{k}": v for k, v in features.state_dict().items()
             if int(k.split(".")[0]) <= vgg_module.LAYERS["relu4_3"]}
    path = os.path.join(str(folder), vgg_module.VGG19_FILENAME)
    torch.save(state, path)
    return path, state


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine two OpenMP threads competing with
    other jobs spin at every barrier and make tiny steps many times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
