"""Where training patches lie, for every trainer: one sampler geometry.

The translators and the segmenter all learn from square patches of rasters: the
translators from SOURCE patches on a grid (moved by up to half a patch each epoch) and,
for the GANs that learn the whole TARGET layer, from TARGET patches at random positions;
the segmenter from image/label pairs on a grid. The windows, the share held out for
validation, the per-epoch jitter and the random positions are computed here, once; the
trainers only read the pixels (``translation/sampling.py``, ``segmentation/data.py``,
``translation/methods/common.py``).
"""

from ..raster.tiling import window_grid


def grid_windows(rasters, patch_size):
    """``(raster index, x, y, w, h)`` windows tiling each raster without overlap.

    ``rasters``: (width, height) of each raster. Row by row; the last window of a row or
    column is moved back to end flush with the raster's edge; a raster smaller than a
    patch gives one window of its own size.
    """
    return [(i, x, y, w, h) for i, (width, height) in enumerate(rasters)
            for row in window_grid(width, height, patch_size, 0) for x, y, w, h in row]


def held_out_count(total, fraction, minimum=0, maximum=None):
    """How many of ``total`` patches are held out for validation: ``fraction`` of them,
    rounded, at least ``minimum`` and at most ``maximum``, always leaving one to train on."""
    upper = total - 1 if maximum is None else min(maximum, total - 1)
    return min(max(int(round(fraction * total)), minimum), upper)


def jittered(x, y, size, width, height, rng):
    """(x, y) moved by up to half a patch in each direction, kept inside the raster."""
    half = size // 2
    x = int(min(max(x + rng.integers(-half, half + 1), 0), width - size))
    y = int(min(max(y + rng.integers(-half, half + 1), 0), height - size))
    return x, y


def random_position(width, height, size, rng):
    """The top-left corner of a uniformly random ``size`` window inside the raster."""
    x = int(rng.integers(0, width - size + 1))
    y = int(rng.integers(0, height - size + 1))
    return x, y
