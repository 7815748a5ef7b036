"""A label-free look at a one-shot sample: is what sets it apart from the source more than
its own content?

    .venv/bin/python benchmarks/one_shot_residual.py DATA [DATA ...] [--one-shot N]

DATA is a create-sample-data folder (source/images, target/images). For the source's
pooled pixels P and a reference image R, the affine colour map that matches P's mean and
covariance to R's (the linear Monge-Kantorovich map of colour_map_rows.py) is applied to P,
and what it leaves unexplained is measured: the sliced Wasserstein-1 distance over all
bands between the mapped P and R, divided by R's per-band standard deviation (so 8-bit,
16-bit and float data compare). Two references:

* each source tile in turn ("within-source"): a single tile differs from the pooled source
  only by its content (class proportions, layout); its residual is what content alone
  leaves after an affine map;
* the one-shot target tile (the demo's: the first target tile, or --one-shot N).

ratio = one-shot residual / mean within-source residual. Near 1, the one-shot sample's
colours differ from an affine image of the source no more than any source tile does:
what a full distribution match would move is then mostly content (class proportions),
which a translator should not transport. Well above 1, the shift itself is not affine
(class-dependent colour changes), which a full distribution match corrects. Used in
benchmarks/RESULTS_protocol.md (2026-12-04) to ask whether a translator could choose
its style statistic without labels; it is a screen, not a rule (as a rule it was refuted on
fresh data sets: the 2026-12-05 section there).
"""

import argparse
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from colour_map_rows import affine_mkl  # noqa: E402
from isprs_oneshot import colour_distance, read  # noqa: E402

MAX_PIXELS = 100_000


def _pixels(path):
    array = read(path)
    return array.reshape(array.shape[0] if array.ndim == 3 else 1, -1)


def affine_residual(pooled, reference, seed):
    """Sliced W1 between the affine image of ``pooled`` and ``reference`` ((C, N) each),
    in units of the reference's per-band standard deviation; the same projections for
    every call with one seed."""
    mapped = affine_mkl(pooled, reference)(pooled)
    spread = np.sqrt(np.trace(np.atleast_2d(np.cov(reference))) / reference.shape[0])
    return colour_distance(mapped, reference, seed=seed) / max(spread, 1e-12)


def residuals(data, one_shot=0, seed=0):
    rng = np.random.default_rng(seed)
    sources = [_pixels(p) for p in sorted(glob.glob(os.path.join(data, "source", "images", "tile_*.tif")))]
    targets = sorted(glob.glob(os.path.join(data, "target", "images", "tile_*.tif")))
    pooled = np.concatenate(sources, 1)
    if pooled.shape[1] > MAX_PIXELS:
        pooled = pooled[:, rng.choice(pooled.shape[1], MAX_PIXELS, replace=False)]
    within = [affine_residual(pooled, s, seed) for s in sources]
    target = affine_residual(pooled, _pixels(targets[one_shot]), seed)
    return {"data": data, "within_source": float(np.mean(within)),
            "within_source_max": float(np.max(within)), "one_shot": target,
            "ratio": target / float(np.mean(within))}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="+", help="create-sample-data folders")
    p.add_argument("--one-shot", type=int, default=0, help="index of the one-shot target tile (default 0)")
    p.add_argument("--seed", type=int, default=0, help="pixel subsample and projections (default 0)")
    args = p.parse_args(argv)
    print("| data | within-source residual (mean / max) | one-shot residual | ratio |")
    print("|---|---|---|---|")
    for data in args.data:
        r = residuals(data, args.one_shot, args.seed)
        print(f"| {data} | {r['within_source']:.3f} / {r['within_source_max']:.3f} | "
              f"{r['one_shot']:.3f} | {r['ratio']:.2f} |")


if __name__ == "__main__":
    main()
