"""Training data shared by every translation method.

* ``check_inputs``: SOURCE/TARGET band checks and sizes, with actionable errors.
* ``target_window``: the one-shot sample, a ONE_SHOT_SIZE square of TARGET (at least
  PATCH_SIZE), either inside TARGET_EXTENT or chosen automatically (rule below).
* ``SourcePatches``: random source patches from all SOURCE rasters, split into
  training and validation patches.

Rule for the automatic one-shot window (users should not need to know which patch is
good): read the whole TARGET at reduced resolution (at most ``OVERVIEW_SIDE`` pixels on
the long side, nearest neighbour, so the pixel distribution is kept), compute each
selected band's 1st..99th percentiles over all valid pixels, then score every
candidate window of the sample's size (stride half of it, or 1/64 of the layer's long side when
that is more; inside TARGET_EXTENT when given) by
the mean absolute difference between its percentiles and the layer's, in units of the
layer's standard deviation per band. Windows with nodata are skipped; the lowest score
wins (ties: the first in row order), and the winner is checked for nodata at full
resolution. The chosen window is reported as [x, y, w, h] in TARGET pixels.
"""

import math

import numpy as np
from osgeo import gdal

from ..errors import LrmError
from ..raster.io import nodata_mask, open_raster, parse_bands, raster_info, read_window
from ..raster.tiling import window_starts
from ..training.patches import grid_windows, held_out_count, jittered
from .config import MIN_PATCH_SIZE

OVERVIEW_SIDE = 1024
MAX_CANDIDATES_PER_SIDE = 64
QUANTILES = np.linspace(1, 99, 25)
MAX_SOURCE_NODATA = 0.5   # a source patch with more nodata than this is skipped
MAX_TARGET_NODATA = 0.05  # nodata a TARGET_EXTENT sample may have (filled, with a warning)


def largest_patch(width, height):
    size = min(width, height)
    return size - size % 2


def _too_small(what, width, height, patch_size):
    fit = largest_patch(width, height)
    advice = (f"set PATCH_SIZE to at most {fit}" if fit >= MIN_PATCH_SIZE
              else f"no PATCH_SIZE fits (the smallest is {MIN_PATCH_SIZE})")
    return LrmError(f"{what} is {width}x{height} pixels, smaller than PATCH_SIZE={patch_size}: "
                    f"{advice}, or use a larger {what.split(' ')[0]}.")


def check_inputs(sources, target, bands_spec, patch_size):
    """Open and check SOURCE and TARGET. Returns (bands, source_infos, target_info)."""
    target_info = raster_info(target)
    source_infos = [raster_info(path) for path in sources]
    explicit = bands_spec is not None and str(bands_spec).strip() != ""
    bands = parse_bands(bands_spec, target_info.band_count, path=f"TARGET {target}")
    for info in source_infos:
        if info.band_count != target_info.band_count and not explicit:
            raise LrmError(
                f"SOURCE {info.describe()} has {info.band_count} band(s) but TARGET "
                f"{target_info.describe()} has {target_info.band_count}: band numbers may not "
                f"mean the same thing. Give BANDS explicitly (e.g. 1,2,3) with bands that "
                f"exist in every raster and hold the same kind of data.")
        missing = [b for b in bands if b > info.band_count]
        if missing:
            raise LrmError(f"SOURCE {info.describe()} lacks the selected band(s) {missing} "
                           f"(BANDS={','.join(map(str, bands))}). Choose BANDS present in "
                           f"every SOURCE and in TARGET.")
        if info.width < patch_size or info.height < patch_size:
            raise _too_small(f"SOURCE {info.path}", info.width, info.height, patch_size)
    if target_info.width < patch_size or target_info.height < patch_size:
        raise _too_small(f"TARGET {target_info.path}", target_info.width, target_info.height,
                         patch_size)
    return bands, source_infos, target_info


def parse_extent(text):
    """'xmin,ymin,xmax,ymax' -> four floats (a trailing ' [CRS]' is ignored)."""
    try:
        values = [float(v) for v in str(text).split("[")[0].replace(" ", "").split(",") if v]
    except ValueError:
        values = []
    if len(values) != 4 or values[0] >= values[2] or values[1] >= values[3]:
        raise LrmError(f"TARGET_EXTENT must be 'xmin,ymin,xmax,ymax' with xmin<xmax and "
                       f"ymin<ymax in the TARGET layer's CRS, not {text!r}.")
    return values


def extent_to_window(info, extent, patch_size):
    """Pixel window (x, y, w, h) of TARGET covered by ``extent`` (clipped to the layer)."""
    xmin, ymin, xmax, ymax = parse_extent(extent) if isinstance(extent, str) else extent
    inverse = gdal.InvGeoTransform(info.geotransform)
    if inverse is None:
        raise LrmError(f"TARGET {info.path} has a geotransform that cannot be inverted.")
    cols, rows = [], []
    for gx, gy in ((xmin, ymin), (xmin, ymax), (xmax, ymin), (xmax, ymax)):
        col, row = gdal.ApplyGeoTransform(inverse, gx, gy)
        cols.append(col)
        rows.append(row)
    x0, x1 = math.floor(min(cols) + 1e-6), math.ceil(max(cols) - 1e-6)
    y0, y1 = math.floor(min(rows) + 1e-6), math.ceil(max(rows) - 1e-6)
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(info.width, x1), min(info.height, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        gt = info.geotransform
        lx = sorted((gt[0], gt[0] + gt[1] * info.width))
        ly = sorted((gt[3], gt[3] + gt[5] * info.height))
        raise LrmError(f"TARGET_EXTENT {xmin},{ymin},{xmax},{ymax} lies outside TARGET "
                       f"{info.path}, whose extent is {lx[0]},{ly[0]},{lx[1]},{ly[1]} (in its "
                       f"own CRS). Draw the extent on the target layer.")
    w, h = cx1 - cx0, cy1 - cy0
    if w < patch_size or h < patch_size:
        raise _too_small("TARGET_EXTENT (inside the layer)", w, h, patch_size)
    return cx0, cy0, w, h


def _overview(ds, bands, width, height):
    """The whole raster at reduced resolution (nearest neighbour): (C, h, w), factors."""
    factor = max(1.0, max(width, height) / OVERVIEW_SIDE)
    bw, bh = max(1, round(width / factor)), max(1, round(height / factor))
    data = np.stack([ds.GetRasterBand(b).ReadAsArray(0, 0, width, height, buf_xsize=bw,
                                                     buf_ysize=bh) for b in bands])
    return data.astype(np.float64), width / bw, height / bh


def _score(values, reference, scale):
    q = np.percentile(values, QUANTILES, axis=1)  # (Q, C)
    return float(np.mean(np.abs(q - reference) / scale))


def target_window(ds, info, bands, patch_size, region=None, reporter=None):
    """The one-shot window (x, y, patch, patch), chosen by the module's documented rule."""
    rx, ry, rw, rh = region or (0, 0, info.width, info.height)
    if rw < patch_size or rh < patch_size:
        raise _too_small("TARGET", rw, rh, patch_size)
    nodata = [info.nodata[b - 1] for b in bands]
    overview, fx, fy = _overview(ds, bands, info.width, info.height)
    valid = ~nodata_mask(overview, nodata)
    if not valid.any() or (region and not valid[int(ry / fy):math.ceil((ry + rh) / fy),
                                                int(rx / fx):math.ceil((rx + rw) / fx)].any()):
        where = "TARGET_EXTENT" if region else "TARGET"
        raise LrmError(f"The one-shot sample is all nodata: {where} of {info.path} holds no "
                       f"valid pixel in bands {bands}. Choose an area with image data.")
    values = overview[:, valid]
    reference = np.percentile(values, QUANTILES, axis=1)
    scale = np.maximum(values.std(axis=1), 1e-6)
    scored = []
    # stride PATCH_SIZE/2, coarser on huge layers so that at most ~64x64 windows are scored
    stride = max(patch_size // 2, math.ceil(max(rw, rh) / MAX_CANDIDATES_PER_SIDE))
    for y in window_starts(rh, patch_size, patch_size - stride):
        for x in window_starts(rw, patch_size, patch_size - stride):
            gx, gy = rx + x, ry + y
            sl = (slice(int(gy / fy), max(int(gy / fy) + 1, int((gy + patch_size) / fy))),
                  slice(int(gx / fx), max(int(gx / fx) + 1, int((gx + patch_size) / fx))))
            cand_valid = valid[sl]
            fraction = float(cand_valid.mean())
            if fraction == 0:
                continue
            score = _score(overview[(slice(None),) + sl][:, cand_valid], reference, scale)
            scored.append((fraction < 1.0, score, gy, gx))
    scored.sort()
    best_partial = None
    for partial, score, gy, gx in scored[:50]:
        patch = read_window(ds, bands, gx, gy, patch_size, patch_size)
        missing = float(nodata_mask(patch, nodata).mean())
        if missing == 0:
            return gx, gy, patch_size, patch_size
        if best_partial is None or missing < best_partial[0]:
            best_partial = (missing, gx, gy)
    if best_partial and best_partial[0] <= MAX_TARGET_NODATA:
        missing, gx, gy = best_partial
        if reporter:
            reporter.warning(f"No {patch_size}x{patch_size} window of TARGET without nodata was "
                             f"found; using ({gx}, {gy}) with {missing:.1%} nodata pixels, filled "
                             f"with the band means.")
        return gx, gy, patch_size, patch_size
    raise LrmError(f"No {patch_size}x{patch_size} window of TARGET {info.path} is (almost) free "
                   f"of nodata. Choose another TARGET_EXTENT or a smaller PATCH_SIZE.")


def fill_nodata(patch, mask):
    """Replace nodata pixels (mask True) with each band's mean over valid pixels, in place."""
    if mask.any() and not mask.all():
        for band in patch:
            band[mask] = band[~mask].mean()
    return patch


def read_patch(ds, info, bands, x, y, size):
    """(C, size, size) float32 raw values with nodata filled, and the nodata fraction."""
    patch = read_window(ds, bands, x, y, size, size).astype(np.float32)
    mask = nodata_mask(patch, [info.nodata[b - 1] for b in bands])
    return fill_nodata(patch, mask), float(mask.mean())


def one_shot_sample(config, target_info, bands, reporter=None):
    """Read the one-shot target sample: returns (raw (C,S,S) float32, [x, y, w, h]).

    S is ONE_SHOT_SIZE (``config.wanted_one_shot_size()``), or the largest even square
    that fits in TARGET (inside TARGET_EXTENT when given) when that is smaller; never
    less than PATCH_SIZE. Every method takes its sample from here, so comparisons between
    methods use the same pixels.
    """
    ds = open_raster(config.target)
    region = None
    if config.target_extent and str(config.target_extent).strip():
        region = extent_to_window(target_info, config.target_extent, config.patch_size)
    _, _, rw, rh = region or (0, 0, target_info.width, target_info.height)
    size = max(config.patch_size, min(config.wanted_one_shot_size(), largest_patch(rw, rh)))
    if size < config.wanted_one_shot_size() and reporter:
        reporter.info(f"One-shot sample: {size}x{size} pixels, the largest square that fits "
                      f"(ONE_SHOT_SIZE asked for {config.wanted_one_shot_size()}).")
    x, y, w, h = target_window(ds, target_info, bands, size, region, reporter)
    patch, missing = read_patch(ds, target_info, bands, x, y, size)
    if missing >= 1.0:
        raise LrmError(f"The one-shot sample at ({x}, {y}) of {target_info.path} is all nodata.")
    return patch, [int(x), int(y), int(w), int(h)]


class SourcePatches:
    """PATCH_SIZE windows of every SOURCE raster, split into training and validation.

    Windows form a grid (stride PATCH_SIZE, the last one flush with the edge) over each
    raster. A random share (VALIDATION_FRACTION, at least one, at most
    MAX_VALIDATION_PATCHES) is held out and kept in memory; the rest are the training
    windows. Each epoch visits every training window once in a random order, moved by
    a random offset of up to half a patch (so different pixels are seen each epoch).
    Patches more than half nodata are skipped; remaining nodata is filled with the
    band mean. With a single window in total, validation reuses it (with a warning).
    """

    def __init__(self, source_infos, bands, patch_size, rng, validation_fraction=0.15,
                 max_validation=32, reporter=None):
        self.infos, self.bands, self.size, self.rng = source_infos, bands, patch_size, rng
        self._ds = [open_raster(info.path) for info in source_infos]
        windows = [(i, x, y) for i, x, y, _, _ in
                   grid_windows([(info.width, info.height) for info in source_infos], patch_size)]
        order = rng.permutation(len(windows))
        windows = [windows[i] for i in order]
        if len(windows) < 2:
            self.train_windows = windows
            wanted = 1
            if reporter:
                reporter.warning("SOURCE holds a single patch: validation uses the training "
                                 "patch, so early stopping means little. Use larger SOURCE "
                                 "rasters or a smaller PATCH_SIZE.")
        else:
            wanted = held_out_count(len(windows), validation_fraction, 1, max_validation)
        self.validation, self.validation_windows, rest = [], [], []
        for window in windows:
            if len(self.validation) < wanted:
                patch, missing = self.read(window)
                if missing <= MAX_SOURCE_NODATA:
                    self.validation.append(patch)
                    self.validation_windows.append(window)
                    continue
            rest.append(window)
        if len(windows) >= 2:
            self.train_windows = rest
        if not self.validation or not self.train_windows:
            raise LrmError(f"Every {patch_size}x{patch_size} SOURCE patch is mostly nodata "
                           f"(bands {bands}). Check the SOURCE layers and their nodata value.")

    def read(self, window):
        i, x, y = window
        return read_patch(self._ds[i], self.infos[i], self.bands, x, y, self.size)

    def iterations_per_epoch(self, batch_size, ranks=1):
        """Batches in one epoch (of each rank's shard, in a data-parallel group)."""
        return math.ceil(len(self.train_windows) // ranks / batch_size)

    def _jitter(self, window, rng=None):
        i, x, y = window
        info = self.infos[i]
        return (i, *jittered(x, y, self.size, info.width, info.height, rng or self.rng))

    def epoch(self, batch_size):
        """Yield batches (N, C, P, P) of raw float32 training patches for one epoch."""
        batch = []
        for k in self.rng.permutation(len(self.train_windows)):
            patch, missing = self.read(self._jitter(self.train_windows[k]))
            if missing > MAX_SOURCE_NODATA:
                continue
            batch.append(patch)
            if len(batch) == batch_size:
                yield np.stack(batch)
                batch = []
        if batch:
            yield np.stack(batch)

    def shard_epoch(self, batch_size, epoch, rank, ranks, seed):
        """One rank's batches of an epoch in a data-parallel group.

        The ranks shuffle the training windows alike (a generator of (seed, epoch)) and each
        takes every ``ranks``-th of them (the tail dropped), so their shards are disjoint.
        Every rank yields exactly ``iterations_per_epoch(batch_size, ranks)`` batches, which
        the collectives of a group need: a patch skipped for nodata is made up for by going
        round the shard again with new offsets (a generator of (seed, epoch, rank))."""
        count = len(self.train_windows) // ranks
        order = np.random.default_rng([seed, epoch]).permutation(len(self.train_windows))
        shard = [self.train_windows[k] for k in order[:count * ranks][rank::ranks]]
        rng = np.random.default_rng([seed, epoch, rank])
        batch, taken, rounds = [], 0, 0
        while taken < count:
            found = 0
            for window in shard:
                patch, missing = self.read(self._jitter(window, rng))
                if missing > MAX_SOURCE_NODATA:
                    continue
                batch.append(patch)
                found, taken = found + 1, taken + 1
                if len(batch) == batch_size or taken == count:
                    yield np.stack(batch)
                    batch = []
                if taken == count:
                    return
            rounds += 1
            if not found and rounds > 3:
                raise LrmError(f"Rank {rank}'s share of the SOURCE patches is all nodata; use "
                               f"fewer devices or SOURCE rasters with more data.")

    def validation_batches(self, batch_size):
        for i in range(0, len(self.validation), batch_size):
            yield np.stack(self.validation[i:i + batch_size])

    def pixel_sample(self, per_patch=4096):
        """(C, N) raw values from the validation patches, for the input scaling."""
        picks = []
        for patch in self.validation:
            flat = patch.reshape(patch.shape[0], -1)
            idx = self.rng.choice(flat.shape[1], min(per_patch, flat.shape[1]), replace=False)
            picks.append(flat[:, idx])
        return np.concatenate(picks, axis=1)
