"""The fuzz's kinds of case: each runs one command of ``python -m models`` (in this
process, through the real argument parser) on random rasters and checks the outcome.

``build_models`` trains the tiny models once: an identity translator (FDA with beta 0:
the output must equal the input, which checks data types and value ranges exactly),
histogram matching, FDA, LRM (2 iterations) and a resnet18 U-Net (1 iteration).
"""

import os

import numpy as np
from osgeo import gdal

from raster_fuzz import DTYPES, Spec, choose, random_spec, write_spec
from raster_fuzz_checks import attempt, check_grid, check_nodata_kept, expect, read_bands
from segmenter_rasters import THREE_CLASSES, block_labels, image_for, run_command
from segmenter_rasters import write_raster as write_plain

TRANSLATORS = ("identity", "histogram_matching", "fda", "lrm", "bands_2_4")
GANS = {"cyclegan": 32, "colormapgan": 32, "dualgan": 128, "benjdira": 128}  # patch sizes
PATCH = 32
WINDOWS = (0, 0, 0, 1, 2, 5, 16, 30, 33, 64)  # 0: the default window


def _train_translator(folder, name, method, source, target, *extra):
    output = os.path.join(folder, f"{name}.safetensors")
    run_command("train-translator", "--source", source, "--target", target, "--method", method,
                "--patch-size", PATCH, "--batch-size", 2, "--epochs", 1, "--max-iterations", 2,
                "--one-shot-size", 0, "--device", "cpu", "--seed", 0, "--output", output,
                *extra)
    return output


def build_models(folder, gans=()):
    """Train every model the cases use (uint8, 3 bands, 64x64 rasters) and the named
    ``gans`` (GANS; 128x128 rasters for those with 128-pixel patches). Returns paths."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    source = write_spec(os.path.join(folder, "model_source.tif"), Spec(seed=1))[0]
    target = write_spec(os.path.join(folder, "model_target.tif"), Spec(seed=2))[0]
    models = {
        "identity": _train_translator(folder, "identity", "fda", source, target, "--fda-beta", 0),
        "histogram_matching": _train_translator(folder, "hm", "histogram_matching", source,
                                                target),
        "fda": _train_translator(folder, "fda", "fda", source, target),
        "lrm": _train_translator(folder, "lrm", "lrm", source, target,
                                 "--perceptual-loss", "weight_free"),
    }
    five = write_spec(os.path.join(folder, "model_five.tif"), Spec(bands=5, seed=3))[0]
    models["bands_2_4"] = _train_translator(folder, "bands_2_4", "histogram_matching", five,
                                            five, "--bands", "2,4")
    for name in gans:
        size = max(64, GANS[name])
        gan_source = write_spec(os.path.join(folder, f"{name}_source.tif"),
                                Spec(seed=1, width=size, height=size))[0]
        gan_target = write_spec(os.path.join(folder, f"{name}_target.tif"),
                                Spec(seed=2, width=size, height=size))[0]
        models[name] = _train_translator(folder, name, name, gan_source, gan_target,
                                         "--patch-size", GANS[name])
    labels = block_labels(64, 3, rng)
    image = write_plain(os.path.join(folder, "seg_image.tif"), image_for(labels, rng))
    label = write_plain(os.path.join(folder, "seg_labels.tif"), labels)
    models["segmenter"] = os.path.join(folder, "segmenter.safetensors")
    run_command("train-segmenter", "--images", image, "--labels", label, "--classes",
                THREE_CLASSES, "--encoder", "resnet18", "--patch-size", PATCH, "--batch-size", 2,
                "--epochs", 1, "--max-iterations", 1, "--validation-fraction", 0.25,
                "--device", "cpu", "--output", models["segmenter"])
    return models


def input_nodata(path):
    ds = gdal.Open(path)  # kept alive while its band is used
    return ds.GetRasterBand(1).GetNoDataValue()


def case_folder(folder, kind, index):
    path = os.path.join(str(folder), f"{kind}_{index}")
    os.makedirs(path, exist_ok=True)
    return path


# ---------------------------------------------------------------- translate


def translate_case(folder, models, rng, index, cover=None):
    """Translate a random raster with a random translator."""
    method = choose(rng, cover, "translator", [m for m in TRANSLATORS + tuple(GANS)
                                               if m in models])
    spec = random_spec(rng, cover)
    case_dir = case_folder(folder, "translate", index)
    path, values, mask = write_spec(os.path.join(case_dir, "input.tif"), spec)
    output = os.path.join(case_dir, "output.tif")
    bands = [2, 4] if method == "bands_2_4" else [1, 2, 3]
    expected = "work" if spec.readable and spec.bands >= max(bands) else "refuse"
    if expected == "work" and method == "colormapgan" and spec.dtype != "Byte":
        expected = None  # it refuses values outside 0..255 (documented)
    window = int(choose(rng, cover, "window", WINDOWS))
    args = ["--input", path, "--model", models[method], "--overlap", choose(rng, cover, "overlap",
                                                                            [0, 8, 64]),
            "--batch-size", int(rng.integers(1, 4)), "--window", window, "--device", "cpu",
            "--output", output]

    def check(_):
        data = check_translated(output, path, bands, mask, spec)
        if method == "identity":
            valid = ~mask
            want, got = values[[b - 1 for b in bands]][:, valid], data[:, valid]
            if np.issubdtype(want.dtype, np.integer):
                diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
                expect(not diff.any(), f"identity translation changed {int((diff > 0).sum())} "
                                       f"value(s) by up to {diff.max(initial=0)}")
            else:
                expect(np.allclose(got, want, rtol=1e-6, atol=1e-6),
                       "identity translation changed float values")

    return attempt("translate", f"{method} window={window}: {spec.label()}",
                   lambda: run_command("translate", *args), check, [output], expected)


def check_translated(output, path, bands, mask, spec):
    """The translation of ``path`` (a raster written from ``spec``) keeps its grid, CRS,
    nodata and data type; returns the output's values."""
    out = check_grid(output, path)
    expect(out.RasterCount == len(bands), f"{out.RasterCount} bands, the model has {len(bands)}")
    return check_nodata_kept(out, input_nodata(path), mask, DTYPES[spec.dtype][1])


# ---------------------------------------------------------------- classify


def classify_case(folder, models, rng, index, cover=None):
    """Classify a random raster with the tiny U-Net."""
    spec = random_spec(rng, cover)
    case_dir = case_folder(folder, "classify", index)
    path, _, mask = write_spec(os.path.join(case_dir, "input.tif"), spec)
    output = os.path.join(case_dir, "classes.tif")
    confidence = os.path.join(case_dir, "confidence.tif")
    expected = "work" if spec.readable and spec.bands >= 3 else "refuse"
    window = int(choose(rng, cover, "window", WINDOWS))
    args = ["--input", path, "--model", models["segmenter"], "--overlap",
            choose(rng, cover, "overlap", [0, 16, 64]), "--batch-size", int(rng.integers(1, 3)),
            "--window", window, "--device", "cpu", "--output", output, "--output-confidence", confidence]

    return attempt("classify", f"window={window}: {spec.label()}",
                   lambda: run_command("classify", *args),
                   lambda _: check_classified(output, confidence, path, mask), [output, confidence],
                   expected)


def check_classified(output, confidence, path, mask, n_classes=3):
    """A class raster (and confidence raster) of ``path``, nodata where ``mask``."""
    out = check_grid(output, path)
    classes = read_bands(out)[0]
    expect(classes.dtype == np.uint8, f"class raster is {classes.dtype}")
    expect(out.GetRasterBand(1).GetNoDataValue() == 255, "class nodata is not 255")
    expect((classes[mask] == 255).all(), "input nodata pixels are not nodata (255)")
    expect((classes[~mask] < n_classes).all(), f"valid pixels without a class 0..{n_classes - 1}")
    if confidence:
        values = read_bands(check_grid(confidence, path))[0]
        expect((values[mask] == -1).all(), "input nodata pixels are not confidence nodata (-1)")
        valid = values[~mask]
        expect(np.isfinite(valid).all() and (valid >= 0).all() and (valid <= 1).all(),
               "confidence outside 0..1")
