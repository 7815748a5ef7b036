"""Fuzz cases for the training inputs: train-translator (SOURCE/TARGET of any type, CRS,
grid, size, bands; TARGET_EXTENT on rotated and south-up layers) and train-segmenter
(image/label pairs on the same grid or not)."""

import dataclasses
import os

import numpy as np

from models.storage.model_file import read_metadata
from raster_fuzz import GEOTRANSFORMS, Spec, choose, random_spec, write_spec
from raster_fuzz_checks import attempt, expect
from raster_fuzz_kinds import PATCH, case_folder, check_classified, check_translated
from segmenter_rasters import THREE_CLASSES, block_labels, run_command

TRAIN_SIZES = [(1, 1), (7, 5), (40, 3), (31, 33), (32, 32), (33, 47), (47, 65), (64, 64),
               (97, 70)]
TRAIN_WEIGHTS = [1, 1, 1, 1, 2, 2, 3, 3, 3]  # mostly large enough for a 32-pixel patch
TRAIN_COVERAGES = (3, 4, 2, 1)
METHODS = ("histogram_matching", "histogram_matching", "fda", "lrm")
LABEL_TYPES = ("Byte", "UInt16", "Int16", "SignedByte", "Float32", "Float64", "UInt32", "CInt16")
# how a label raster lies relative to its image (``label_spec``; ``grids_match`` says
# which are accepted: same, no-crs and plain)
RELATIONS = ("same", "size", "shift", "crs", "no-crs", "plain", "rotated")


def training_spec(rng, cover=None):
    """A Spec for training input: mostly 3..8 bands, readable, large enough."""
    bands = choose(rng, cover, "band range", [(3, 8), (1, 2)], [4, 1])
    return random_spec(rng, cover, sizes=TRAIN_SIZES, size_weights=TRAIN_WEIGHTS, bands=bands,
                       unreadable_share=0.05, coverages=TRAIN_COVERAGES)


def _bands_spec(rng, band_count, cover=None):
    """None (the default, the first three) or explicit band numbers, sometimes absent ones."""
    kind = choose(rng, cover, "BANDS", ["default", "present", "absent"], [5, 4, 1])
    if kind == "default":
        return None
    count = int(rng.integers(1, 4))
    high = band_count + 1 if kind == "present" else band_count + 3
    return [int(b) for b in rng.integers(1, high, count)]


def target_extent(spec, rng):
    """'xmin,ymin,xmax,ymax' around a random pixel rectangle of the TARGET layer."""
    gt = GEOTRANSFORMS[spec.geotransform] or (0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    x0 = int(rng.integers(0, max(1, spec.width // 3)))
    y0 = int(rng.integers(0, max(1, spec.height // 3)))
    x1, y1 = spec.width, spec.height
    xs, ys = [], []
    for px, py in ((x0, y0), (x1, y0), (x0, y1), (x1, y1)):
        xs.append(gt[0] + px * gt[1] + py * gt[2])
        ys.append(gt[3] + px * gt[4] + py * gt[5])
    return f"{min(xs)},{min(ys)},{max(xs)},{max(ys)}"


def all_nodata(spec):
    """Is every pixel of ``spec`` nodata (``raster_fuzz.nodata_pixels``)?"""
    return spec.has_nodata_pixels() and (spec.coverage == "all"
                                         or spec.width * spec.height == 1)


def train_translator_case(folder, models, rng, index, cover=None):
    """Train a translator on a random SOURCE and TARGET (each with its own CRS and grid)."""
    method = choose(rng, cover, "method", METHODS)
    source_spec, target_spec = training_spec(rng, cover), training_spec(rng, cover)
    if rng.random() < 0.5:  # often the same type and band count, as in real use
        target_spec = dataclasses.replace(target_spec, dtype=source_spec.dtype,
                                          bands=source_spec.bands)
    case_dir = case_folder(folder, "train-translator", index)
    source, _, source_mask = write_spec(os.path.join(case_dir, "source.tif"), source_spec)
    target = write_spec(os.path.join(case_dir, "target.tif"), target_spec)[0]
    bands = _bands_spec(rng, target_spec.bands, cover)
    extent = target_extent(target_spec, rng) if choose(rng, cover, "extent", [1, 0], [3, 7]) \
        else None
    output = os.path.join(case_dir, "model.safetensors")
    args = ["--source", source, "--target", target, "--method", method, "--patch-size", PATCH,
            "--batch-size", 2, "--epochs", 1, "--max-iterations", 2, "--one-shot-size", 0,
            "--device", "cpu", "--output", output]
    if method == "lrm":
        args += ["--perceptual-loss", "weight_free"]
    if bands:
        args += ["--bands", ",".join(map(str, bands))]
    if extent:
        args += ["--target-extent", extent]

    wanted = bands or [1, 2, 3]
    refuse = (not (source_spec.readable and target_spec.readable)
              or max(wanted) > min(source_spec.bands, target_spec.bands)
              or (bands is None and source_spec.bands != target_spec.bands)
              or min(source_spec.width, source_spec.height, target_spec.width,
                     target_spec.height) < PATCH
              or all_nodata(target_spec)
              or (all_nodata(source_spec) and method != "fda"))  # FDA reads no SOURCE pixel
    # nodata pixels, an extent (on a rotated layer its pixel window is smaller than asked)
    # and a plain image's extent may leave no patch free enough of nodata: either outcome
    unsure = (extent is not None or source_spec.has_nodata_pixels()
              or target_spec.has_nodata_pixels())
    expected = "refuse" if refuse else (None if unsure else "work")

    def check(_):
        meta = read_metadata(output, expected_kind="translator")
        expect(meta["bands"] == wanted, f"model bands {meta['bands']}, asked for {wanted}")
        expect(meta["method"] == method, f"model method {meta['method']}")
        translated = os.path.join(case_dir, "translated.tif")  # the model translates its SOURCE
        run_command("translate", "--input", source, "--model", output, "--device", "cpu",
                    "--output", translated)
        check_translated(translated, source, wanted, source_mask, source_spec)

    label = (f"{method} bands={bands} extent={bool(extent)} SOURCE {source_spec.label()} | "
             f"TARGET {target_spec.label()}")
    return attempt("train-translator", label, lambda: run_command("train-translator", *args),
                   check, [output], expected)


def label_spec(image, relation, rng, cover=None):
    """The Spec of a label raster lying in ``relation`` to the image's Spec."""
    dtype = choose(rng, cover, "label dtype", LABEL_TYPES, [8, 2, 2, 2, 2, 2, 2, 1])
    nodata = choose(rng, cover, "label nodata", ["none", "value", "nan", "nan-pixels"])
    spec = Spec(dtype=dtype, nodata=nodata,
                coverage=choose(rng, cover, "label coverage", ["none", "block", "some", "all"],
                                [4, 6, 9, 1]),
                bands=1, width=image.width, height=image.height,
                geotransform=image.geotransform, crs=image.crs, seed=image.seed + 1)
    if relation == "size":
        spec.width += 1
    elif relation == "shift":
        spec.geotransform = "south-up" if image.geotransform != "south-up" else "north-up"
    elif relation == "crs":
        spec.crs = "utm33" if image.crs != "utm33" else "utm32"
    elif relation == "no-crs":
        spec.crs = "none"
    elif relation == "plain":
        spec.geotransform = "none"
    elif relation == "rotated":
        spec.geotransform = "rotated" if image.geotransform != "rotated" else "north-up"
    return spec


def label_values(spec, rng):
    """(1, H, W) class indices 0..2 in blocks, a few pixels at the ignore value 255."""
    labels = block_labels(max(spec.width, spec.height), 3, rng, block=4)[:spec.height, :spec.width]
    labels = labels.astype(np.int64)
    if spec.dtype != "SignedByte":  # int8 cannot hold 255
        labels[rng.random(labels.shape) < 0.03] = 255
    return labels[None]


def _georeferenced(spec):
    return GEOTRANSFORMS[spec.geotransform] is not None


def grids_match(a, b):
    """Do two Specs lie on one grid, by the backend's documented rule?"""
    if (a.width, a.height) != (b.width, b.height):
        return False
    if not (_georeferenced(a) and _georeferenced(b)):
        return True
    if a.geotransform != b.geotransform:
        return False
    return a.crs == b.crs or "none" in (a.crs, b.crs)


def train_segmenter_case(folder, models, rng, index, cover=None):
    """Train a U-Net for one iteration on a random image/label pair."""
    image_spec = training_spec(rng, cover)
    relation = choose(rng, cover, "relation", RELATIONS)
    labels_spec = label_spec(image_spec, relation, rng, cover)
    case_dir = case_folder(folder, "train-segmenter", index)
    image, _, image_mask = write_spec(os.path.join(case_dir, "image.tif"), image_spec)
    label, values, label_mask = write_spec(os.path.join(case_dir, "labels.tif"), labels_spec,
                                           label_values(labels_spec, rng))
    output = os.path.join(case_dir, "model.safetensors")
    args = ["--images", image, "--labels", label, "--classes", THREE_CLASSES, "--encoder",
            "resnet18", "--patch-size", 64, "--batch-size", 2, "--epochs", 1,
            "--max-iterations", 1, "--validation-fraction", 0, "--device", "cpu",
            "--output", output]
    bands = _bands_spec(rng, image_spec.bands, cover)
    if bands:
        args += ["--bands", ",".join(map(str, bands))]
    wanted = bands or [1, 2, 3]
    labelled = ~label_mask & (values[0] != 255)
    refuse = (not (image_spec.readable and labels_spec.readable) or max(wanted) > image_spec.bands
              or not grids_match(image_spec, labels_spec) or not labelled.any())
    refuse = refuse or image_mask.all()  # nothing to learn from
    on_data = labelled.shape != image_mask.shape or (labelled & ~image_mask).any()
    expected = "refuse" if refuse else ("work" if on_data else None)

    def check(_):
        meta = read_metadata(output, expected_kind="segmenter")
        expect(meta["bands"] == wanted, f"model bands {meta['bands']}, asked for {wanted}")
        scaling = meta["input_scaling"]
        expect(np.isfinite(scaling["mean"]).all() and np.isfinite(scaling["std"]).all(),
               f"input scaling not finite: {scaling}")
        classes = os.path.join(case_dir, "classes.tif")  # the model classifies its image
        run_command("classify", "--input", image, "--model", output, "--device", "cpu",
                    "--output", classes)
        check_classified(classes, None, image, image_mask)

    label_text = (f"bands={bands} labels {relation} {labels_spec.label()} | image "
                  f"{image_spec.label()}")
    return attempt("train-segmenter", label_text, lambda: run_command("train-segmenter", *args),
                   check, [output], expected)
