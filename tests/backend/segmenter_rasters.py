"""Tiny synthetic labelled rasters for the segmenter, classification and evaluation tests.

Labels are random blocks of classes; the image shows each class in its own colour plus
noise, so a U-Net can learn the mapping in a few steps and an untrained one cannot.
"""

import numpy as np
from osgeo import gdal, osr

THREE_CLASSES = "0 red 255,0,0; 1 green 0,255,0; 2 blue 0,0,255"
CLASS_MEANS = np.array([[190, 60, 60], [60, 190, 60], [60, 60, 190]], np.float64)
GEOTRANSFORM = (500000.0, 0.5, 0.0, 5700000.0, 0.0, -0.5)


def utm_wkt():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    return srs.ExportToWkt()


def write_raster(path, array, dtype=gdal.GDT_Byte, geotransform=GEOTRANSFORM, wkt=None,
                 nodata=None):
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[None]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), array.shape[2], array.shape[1],
                                              array.shape[0], dtype)
    if geotransform is not None:
        ds.SetGeoTransform(geotransform)
        ds.SetProjection(wkt if wkt is not None else utm_wkt())
    for i, plane in enumerate(array):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(plane)
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
    return str(path)


def read_raster(path):
    ds = gdal.Open(str(path))
    return ds.ReadAsArray()


def block_labels(size, n_classes, rng, block=16):
    cells = rng.integers(0, n_classes, (size // block + 1, size // block + 1))
    return np.kron(cells, np.ones((block, block), np.int64))[:size, :size].astype(np.uint8)


def image_for(labels, rng, noise=25.0, means=CLASS_MEANS):
    image = means[labels].transpose(2, 0, 1) + rng.normal(0, noise, (3,) + labels.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_pair(folder, name, size=128, seed=0, n_classes=3):
    """Write <name>_image.tif and <name>_labels.tif (index); return (image, labels, array)."""
    rng = np.random.default_rng(seed)
    labels = block_labels(size, n_classes, rng)
    image = image_for(labels, rng)
    return (write_raster(f"{folder}/{name}_image.tif", image),
            write_raster(f"{folder}/{name}_labels.tif", labels), labels)


class RecordingReporter:
    """Collects what a command reports (a models.runtime.reporting.Reporter look-alike)."""

    def __init__(self, on_progress=None):
        self.infos, self.warnings, self.metrics, self.percents = [], [], [], []
        self._on_progress = on_progress

    def progress(self, percent):
        self.percents.append(percent)
        if self._on_progress:
            self._on_progress(percent)

    def info(self, message):
        self.infos.append(message)

    def warning(self, message):
        self.warnings.append(message)

    def metric(self, name, value, **context):
        self.metrics.append((name, value, context))

    def scaled(self, start, end):
        from models.runtime.reporting import ScaledReporter

        return ScaledReporter(self, start, end)


def run_command(name, *argv, reporter=None):
    """Parse ``argv`` with the real CLI parser and run the command in this process."""
    import importlib

    from models.cli.main import COMMANDS, build_parser

    module = importlib.import_module(f"models.cli.commands.{COMMANDS[name]}")
    args = build_parser({name: module}).parse_args([name, *[str(a) for a in argv]])
    reporter = reporter or RecordingReporter()
    return module.run(args, reporter), reporter


def train_tiny(folder, *extra, pairs=2, size=128, reporter=None):
    """A tiny resnet18 U-Net trained through the real command; returns (result, reporter)."""
    args = []
    for i in range(pairs):
        image, labels, _ = make_pair(folder, f"train{i}", size=size, seed=10 + i)
        args += ["--images", image, "--labels", labels]
    args += ["--classes", THREE_CLASSES, "--encoder", "resnet18", "--patch-size", 64,
             "--batch-size", 2, "--validation-fraction", 0.25, "--seed", 0,
             "--output", f"{folder}/model.safetensors", *extra]
    return run_command("train-segmenter", *args, reporter=reporter)
