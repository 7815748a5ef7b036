"""Can label-free weights give the one-shot tile the source's class proportions?

    .venv/bin/python benchmarks/label_shift_weights.py DATA [DATA ...] [--clusters K] [--clip C]

The demo's gap (benchmarks/RESULTS_protocol.md) comes from the one-shot tile's class
proportions: a full transport must move the source's surplus classes onto other classes'
colours. A label-shift correction would weight the tile's pixels so that their class
proportions become the source's, and transport towards the weighted tile. This checks the
simplest label-free estimate of such weights before anyone builds it into the style term:

1. standardise the pooled source and one-shot pixels per band;
2. map the source onto the tile with the affine map between their colour Gaussians
   (mean and covariance, the linear Monge-Kantorovich map);
3. cluster the tile's pixels (k-means, K clusters) and give cluster k the weight
   share of mapped source pixels in k / share of tile pixels in k, clipped to [1/C, C].

Labels are used only to score the estimate: the total variation distance between the
source's class proportions and the tile's, before and after weighting (0 = the same
proportions). Split as in the demo: the one-shot tile is the first target tile.
numpy and GDAL (the affine map is colour_map_rows.affine_mkl); seconds per data set.
"""

import argparse
import glob
import os
import sys

import numpy as np
from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from colour_map_rows import affine_mkl  # noqa: E402


def _read(path):
    return gdal.Open(path).ReadAsArray().astype(np.float64)


def _tiles(data, domain, kind):
    return sorted(glob.glob(f"{data}/{domain}/{kind}/tile_*.tif"))


def _nearest(x, centres):
    return ((x[:, None] - centres[None]) ** 2).sum(-1).argmin(1)


def kmeans(x, k, rng, iterations=25):
    centres = x[rng.choice(len(x), k, replace=False)]
    for _ in range(iterations):
        assigned = _nearest(x, centres)
        for j in range(k):
            if (assigned == j).any():
                centres[j] = x[assigned == j].mean(0)
    return centres


def proportions(labels, classes, weights=None):
    counts = np.bincount(labels, weights=weights, minlength=classes)
    return counts / counts.sum()


def check(data, clusters, clip, seed=0, classes=6):
    rng = np.random.default_rng(seed)
    source = np.concatenate([_read(p).reshape(3, -1).T for p in _tiles(data, "source", "images")])
    source_labels = np.concatenate([_read(p).ravel() for p in _tiles(data, "source", "labels")])
    tile = _read(_tiles(data, "target", "images")[0]).reshape(3, -1).T
    tile_labels = _read(_tiles(data, "target", "labels")[0]).ravel().astype(int)
    pooled = np.concatenate([source, tile])
    mean, std = pooled.mean(0), pooled.std(0)
    source, tile = (source - mean) / std, (tile - mean) / std
    mapped = affine_mkl(source.T, tile.T)(source.T).T[rng.choice(len(source), 100000, replace=False)]
    centres = kmeans(tile[rng.choice(len(tile), 20000, replace=False)], clusters, rng)
    in_tile, in_mapped = _nearest(tile, centres), _nearest(mapped, centres)
    share_tile = np.bincount(in_tile, minlength=clusters) / len(in_tile)
    share_mapped = np.bincount(in_mapped, minlength=clusters) / len(in_mapped)
    weights = np.clip(share_mapped / np.maximum(share_tile, 1e-9), 1 / clip, clip)[in_tile]
    wanted = proportions(source_labels.astype(int), classes)
    before = proportions(tile_labels, classes)
    after = proportions(tile_labels, classes, weights)
    return {"data": data, "tv_before": 0.5 * np.abs(before - wanted).sum(),
            "tv_after": 0.5 * np.abs(after - wanted).sum()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="+")
    p.add_argument("--clusters", type=int, default=12)
    p.add_argument("--clip", type=float, default=4.0)
    args = p.parse_args()
    print(f"clusters {args.clusters}, clip {args.clip}: total variation to the source's "
          f"class proportions, one-shot tile before -> after weighting")
    for data in args.data:
        r = check(data, args.clusters, args.clip)
        print(f"{r['data']}: {r['tv_before']:.3f} -> {r['tv_after']:.3f}")


if __name__ == "__main__":
    main()
