"""Can label-free weights give the one-shot tile the source's class proportions?

    .venv/bin/python benchmarks/label_shift_weights.py DATA [DATA ...] [--clusters K] [--clip C]

One explanation of the demo's gap (benchmarks/RESULTS_protocol.md, tested there with an
oracle and refuted) was the one-shot tile's class proportions: a full transport must move
the source's surplus classes onto other classes' colours. A label-shift correction would
weight the tile's pixels so that their class proportions become the source's, and transport
towards the weighted tile. This checks the simplest label-free estimate of such weights:

1. standardise the pooled source and one-shot pixels per band;
2. map the source onto the tile with the affine map between their colour Gaussians
   (mean and covariance, the linear Monge-Kantorovich map);
3. cluster the tile's pixels (k-means, K clusters) and give cluster k the weight
   share of mapped source pixels in k / share of tile pixels in k, clipped to [1/C, C].

Labels are used only to score the estimate: the total variation distance between the
source's class proportions and the tile's, before and after weighting (0 = the same
proportions). Split as in the demo: the one-shot tile is the first target tile.
numpy, scipy (k-means) and GDAL; the affine map is colour_map_rows.affine_mkl, the tile
readers translation_qda_proxy's. Seconds per data set.
"""

import argparse
import os
import sys

import numpy as np
from scipy.cluster.vq import kmeans2, vq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from colour_map_rows import affine_mkl  # noqa: E402
from translation_qda_proxy import read, tiles  # noqa: E402


def _pixels(paths):
    """(N, C) float64 pixels of all images in ``paths``."""
    return np.concatenate([read(p).astype(np.float64).reshape(3, -1).T for p in paths])


def _labels(paths):
    return np.concatenate([read(p).ravel() for p in paths]).astype(np.int64)


def proportions(labels, classes, weights=None):
    counts = np.bincount(labels, weights=weights, minlength=classes)
    return counts / counts.sum()


def check(data, clusters, clip, seed=0, classes=6):
    rng = np.random.default_rng(seed)
    source = _pixels(tiles(data, "source", "images"))
    source_labels = _labels(tiles(data, "source", "labels"))
    tile = _pixels(tiles(data, "target", "images")[:1])
    tile_labels = _labels(tiles(data, "target", "labels")[:1])
    pooled = np.concatenate([source, tile])
    mean, std = pooled.mean(0), pooled.std(0)
    source, tile = (source - mean) / std, (tile - mean) / std
    mapped = affine_mkl(source.T, tile.T)(source.T).T[rng.choice(len(source), 100000, replace=False)]
    centres, _ = kmeans2(tile[rng.choice(len(tile), 20000, replace=False)], clusters,
                         iter=25, minit="++", seed=rng)
    in_tile, in_mapped = vq(tile, centres)[0], vq(mapped, centres)[0]
    share_tile = np.bincount(in_tile, minlength=clusters) / len(in_tile)
    share_mapped = np.bincount(in_mapped, minlength=clusters) / len(in_mapped)
    weights = np.clip(share_mapped / np.maximum(share_tile, 1e-9), 1 / clip, clip)[in_tile]
    wanted = proportions(source_labels, classes)
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
