"""Per-class colour means of translated sources against the target, and where each target
class goes in a row's classification (confusion, % of the reference class).

    .venv/bin/python benchmarks/class_statistics.py DATA ROW [ROW ...]

DATA: a create-sample-data folder; ROW: a folder with ``translated/*.tif`` (one per source
tile, in order) and/or ``classified/*.tif`` (named after target tiles), as written by
scripts/demo.py and benchmarks/lrm_row.py. Uses the labels of both domains: a diagnostic
for developers, not something a user without target labels can run.
"""

import glob
import os
import sys

import numpy as np
from osgeo import gdal

NAMES = ["clutter", "building", "low veg", "tree", "car", "impervious"]


def load(paths):
    return [gdal.Open(p).ReadAsArray().astype(np.float64) for p in paths]


def class_means(images, labels):
    means = {}
    for c in range(len(NAMES)):
        pixels = [im[:, lab == c] for im, lab in zip(images, labels)]
        pixels = np.concatenate(pixels, axis=1) if pixels else np.zeros((3, 0))
        if pixels.shape[1] > 50:
            means[c] = pixels.mean(axis=1)
    return means


def class_gradients(images, labels):
    """Mean Sobel gradient magnitude (band mean) inside each class, 2 px from its edges."""
    from scipy import ndimage

    out = {}
    for c in range(len(NAMES)):
        values = []
        for im, lab in zip(images, labels):
            grad = np.mean([np.hypot(ndimage.sobel(b, 0), ndimage.sobel(b, 1)) for b in im], axis=0)
            values.append(grad[ndimage.binary_erosion(lab == c, iterations=2)])
        values = np.concatenate(values)
        if values.size > 50:
            out[NAMES[c]] = round(float(values.mean()), 1)
    return out


def main(data, rows):
    src_labels = load(sorted(glob.glob(f"{data}/source/labels/*.tif")))
    target = class_means(load(sorted(glob.glob(f"{data}/target/images/*.tif"))),
                         load(sorted(glob.glob(f"{data}/target/labels/*.tif"))))
    tgt_images = load(sorted(glob.glob(f"{data}/target/images/*.tif")))
    tgt_labels = load(sorted(glob.glob(f"{data}/target/labels/*.tif")))
    print("class gradients  target:", class_gradients(tgt_images, tgt_labels))
    print("class means (band values)  target:", {NAMES[c]: np.round(m).astype(int).tolist() for c, m in target.items()})
    for row in ["<source>"] + rows:
        paths = (sorted(glob.glob(f"{data}/source/images/*.tif")) if row == "<source>"
                 else sorted(glob.glob(f"{row}/translated/*.tif")))
        if paths:
            means = class_means(load(paths), src_labels)
            errors = {NAMES[c]: round(float(np.abs(means[c] - target[c]).mean()), 1)
                      for c in means if c in target}
            print(f"{row}: mean |class mean - target class mean| {np.mean(list(errors.values())):.1f}", errors)
            print(f"{row}: class gradients", class_gradients(load(paths), src_labels))
        confusion = np.zeros((len(NAMES), len(NAMES)), np.int64)
        for path in sorted(glob.glob(f"{row}/classified/*.tif")):
            base = os.path.basename(path)
            refs = [t for t in sorted(glob.glob(f"{data}/target/labels/*.tif"))
                    if os.path.splitext(os.path.basename(t))[0] in base]
            if refs:
                ref = gdal.Open(refs[0]).ReadAsArray().ravel()
                pred = gdal.Open(path).ReadAsArray().ravel()
                keep = (ref < len(NAMES)) & (pred < len(NAMES))
                confusion += np.bincount(ref[keep] * len(NAMES) + pred[keep],
                                         minlength=len(NAMES) ** 2).reshape(len(NAMES), len(NAMES))
        if confusion.any():
            print(f"{row}: rows = reference, columns = prediction, % of the reference class")
            for i, name in enumerate(NAMES):
                total = max(1, confusion[i].sum())
                print(f"  {name:>10}", " ".join(f"{100 * v / total:5.1f}" for v in confusion[i]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
