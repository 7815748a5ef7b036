"""How far apart a translation keeps the classes the source keeps apart.

    .venv/bin/python benchmarks/class_separation.py DATA ROW [ROW ...]

DATA: a create-sample-data folder; ROW: a folder with ``translated/*.tif`` (one per source
tile, in order), as written by scripts/demo.py. Prints, for the source, the target and each
row, the Mahalanobis distance between class colour distributions (pooled covariance) for
low vegetation vs tree, building vs impervious, low vegetation vs impervious and tree vs
impervious, and for each row the Pearson correlation between the colour distances of
200,000 random pixel pairs in the source and in its translation (1 = distances kept up to
scale, as a global affine colour map does). Uses the labels: a developer's diagnostic.
"""

import glob
import sys

import numpy as np
from osgeo import gdal

PAIRS = [(2, 3), (1, 5), (2, 5), (3, 5)]  # ISPRS indices: low veg, tree; building, impervious


def pixels(paths):
    images = [gdal.Open(p).ReadAsArray().astype(np.float64) for p in paths]
    images = [im[None] if im.ndim == 2 else im for im in images]
    return np.concatenate([im.reshape(im.shape[0], -1) for im in images], axis=1).T


def separations(x, y):
    out = []
    for a, b in PAIRS:
        pa, pb = x[y == a], x[y == b]
        if len(pa) < 50 or len(pb) < 50:
            out.append(None)
            continue
        d = pa.mean(0) - pb.mean(0)
        pooled = (np.cov(pa.T) + np.cov(pb.T)) / 2
        out.append(round(float(np.sqrt(d @ np.linalg.solve(pooled, d))), 2))
    return out


def standardised(x):
    return (x - x.mean(0)) / x.std(0)


def main(data, rows):
    source = pixels(sorted(glob.glob(f"{data}/source/images/*.tif")))
    labels = pixels(sorted(glob.glob(f"{data}/source/labels/*.tif")))[:, 0]
    target = pixels(sorted(glob.glob(f"{data}/target/images/*.tif")))
    target_labels = pixels(sorted(glob.glob(f"{data}/target/labels/*.tif")))[:, 0]
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(source), (2, 200000))
    source_distances = np.linalg.norm(standardised(source)[i] - standardised(source)[j], axis=1)
    print("Mahalanobis: low veg-tree, building-impervious, low veg-impervious, tree-impervious")
    print(f"{'source':>20}", separations(source, labels))
    print(f"{'target':>20}", separations(target, target_labels))
    for row in rows:
        translated = pixels(sorted(glob.glob(f"{row}/translated/*.tif")))
        distances = np.linalg.norm(standardised(translated)[i] - standardised(translated)[j], axis=1)
        corr = np.corrcoef(source_distances, distances)[0, 1]
        print(f"{row[-20:]:>20}", separations(translated, labels), f"pair-distance correlation {corr:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
