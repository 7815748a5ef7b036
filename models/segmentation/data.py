"""Training data: image/label raster pairs cut into patches, read lazily from disk.

Pairs are matched by order (IMAGES[i] with LABELS[i]); each pair must have the same
size and, where both are georeferenced, the same grid. Every raster is cut into
``patch_size`` windows without overlap (the last row/column moved back to the edge,
so nothing is lost); a raster smaller than a patch gives one patch padded with
ignored pixels. Patches are read from disk when used, so memory does not grow with
the data set. The patches are split at random (seeded) into training and validation.
"""

import numpy as np
import torch

from ..errors import LrmError
from ..raster.grid_check import georeferenced_both, grid_difference
from ..labels.rasters import LabelReader
from ..raster.io import nodata_mask, open_raster, parse_bands, raster_info, read_window
from ..training.patches import grid_windows, held_out_count
from .scaling import MAX_PATCHES, PIXEL_STEP, RunningStats, apply_scaling


class Pair:
    def __init__(self, number, image, label, label_format, classes, ignore_value, bands):
        self.number, self.image, self.label = number, image, label
        self.info = raster_info(image)
        self.bands = parse_bands(bands, self.info.band_count, path=image)
        self.labels = LabelReader(label, label_format, classes, ignore_value)

    def name(self):
        return f"pair {self.number} ({self.image} with {self.label})"


def open_pairs(images, labels, label_format, classes, ignore_value, bands, reporter):
    images, labels = list(images or []), list(labels or [])
    if not images:
        raise LrmError("No training IMAGES given.")
    if len(images) != len(labels):
        raise LrmError(f"{len(images)} IMAGES but {len(labels)} LABELS were given; they are "
                       f"paired by order, so give one label raster per image.")
    pairs = [Pair(i + 1, im, lb, label_format, classes, ignore_value, bands)
             for i, (im, lb) in enumerate(zip(images, labels))]
    counts = {len(p.bands) for p in pairs}
    if len(counts) > 1:
        raise LrmError("The training images must all use the same number of BANDS.")
    for p in pairs:
        if p.labels.note:
            reporter.warning(p.labels.note)
        problem = grid_difference(p.info, p.labels.info)
        if problem:
            raise LrmError(f"Training {p.name()}: the image and its labels must cover the same "
                           f"pixels, but {problem}. Check that LABELS are in the same order as "
                           f"IMAGES, or resample the labels to the image grid.")
        if not georeferenced_both(p.info, p.labels.info):
            reporter.warning(f"Training {p.name()}: not both georeferenced; assuming they are "
                             f"aligned pixel for pixel.")
    return pairs


def patch_entries(pairs, patch_size):
    """List of (pair index, x, y, w, h) covering every pair without overlap."""
    return grid_windows([(p.info.width, p.info.height) for p in pairs], patch_size)


def split_entries(entries, validation_fraction, seed, reporter):
    """(train, validation) lists; validation is the training set when there is too little data."""
    order = np.random.default_rng(seed).permutation(len(entries))
    shuffled = [entries[i] for i in order]
    n_val = held_out_count(len(entries), validation_fraction, 1 if validation_fraction > 0 else 0)
    if n_val <= 0:
        reporter.warning(f"Only {len(entries)} patch(es) / VALIDATION_FRACTION "
                         f"{validation_fraction}: validating on the training patches, so "
                         f"validation scores are optimistic and early stopping is weak.")
        return shuffled, shuffled
    return shuffled[n_val:], shuffled[:n_val]


class PatchReader:
    """Reads one patch: scaled image (C, P, P) float32 and labels (P, P) int64."""

    def __init__(self, pairs, patch_size, ignore_value, scaling=None):
        self.paths = [(p.image, p.bands, p.label) for p in pairs]
        self.label_args = [(p.labels.format, p.labels.classes) for p in pairs]
        self.patch_size, self.ignore_value, self.scaling = patch_size, ignore_value, scaling
        self._open = {}

    def __getstate__(self):  # GDAL handles do not cross process boundaries (DataLoader workers)
        state = dict(self.__dict__)
        state["_open"] = {}
        return state

    def _handles(self, i):
        if i not in self._open:
            image, _, label = self.paths[i]
            fmt, classes = self.label_args[i]
            ds = open_raster(image)
            nodata = [ds.GetRasterBand(b).GetNoDataValue() for b in self.paths[i][1]]
            self._open[i] = (ds, nodata, LabelReader(label, fmt, classes, self.ignore_value))
        return self._open[i]

    def read_raw(self, entry):
        i, x, y, w, h = entry
        ds, nodata, labels = self._handles(i)
        image = read_window(ds, self.paths[i][1], x, y, w, h)
        invalid = nodata_mask(image, nodata)
        label = labels.read(x, y, w, h).astype(np.int64)
        label[invalid] = self.ignore_value
        return image, invalid, label

    def read(self, entry):
        image, invalid, label = self.read_raw(entry)
        image = apply_scaling(image, self.scaling, invalid)
        p = self.patch_size
        h, w = label.shape
        if (h, w) != (p, p):  # raster smaller than a patch: pad, pixels ignored
            image = np.pad(image, ((0, 0), (0, p - h), (0, p - w)))
            label = np.pad(label, ((0, p - h), (0, p - w)), constant_values=self.ignore_value)
        return image, label


def band_statistics(reader, entries, dtype, seed, progress=None):
    """Per-band mean/std over a sample of patches (see scaling.py)."""
    rng = np.random.default_rng(seed + 1)
    chosen = entries if len(entries) <= MAX_PATCHES else [
        entries[i] for i in rng.choice(len(entries), MAX_PATCHES, replace=False)]
    stats = None
    for n, entry in enumerate(chosen):
        image, invalid, _ = reader.read_raw(entry)
        image = image[:, ::PIXEL_STEP, ::PIXEL_STEP]
        valid = ~invalid[::PIXEL_STEP, ::PIXEL_STEP]
        stats = stats or RunningStats(image.shape[0])
        stats.add(image, valid)
        if progress:
            progress((n + 1) / len(chosen))
    return stats.result(dtype)


class PatchDataset(torch.utils.data.Dataset):
    def __init__(self, reader, entries):
        self.reader, self.entries = reader, entries

    def __len__(self):
        return len(self.entries)

    def __getitem__(self, index):
        image, label = self.reader.read(self.entries[index])
        return torch.from_numpy(image), torch.from_numpy(label)


def augment(images, labels, generator):
    """Random flips and 90-degree rotations, the same for an image and its labels."""
    out_i, out_l = [], []
    for image, label in zip(images, labels):
        k = int(torch.randint(0, 4, (1,), generator=generator))
        flip = bool(torch.randint(0, 2, (1,), generator=generator))
        image, label = torch.rot90(image, k, (1, 2)), torch.rot90(label, k, (0, 1))
        if flip:
            image, label = torch.flip(image, (2,)), torch.flip(label, (1,))
        out_i.append(image)
        out_l.append(label)
    return torch.stack(out_i), torch.stack(out_l)
