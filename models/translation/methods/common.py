"""What the comparison methods share: result fields, [-1, 1] units, learning rates
and random patches from the whole TARGET layer (the GANs). Iteration budget and timing:
models/training/engine.py.
"""

import math

import numpy as np

from ...errors import LrmError
from ...storage.model_checks import require_keys, whole_number
from ...raster.io import open_raster
from ..config import TranslatorConfig
from ..sampling import MAX_SOURCE_NODATA, read_patch
from ...training.patches import random_position

LRM_DEFAULT_LEARNING_RATE = TranslatorConfig().learning_rate
MAX_PATCH_SIZE = 2**16  # a model file's patch size (its preferred window) above this is damage
HALF_RANGE = 127.5  # model units 0..255 <-> [-1, 1] (the tanh range of the GAN generators)


def to_unit(model_values):
    """Model units (about 0..255) -> about [-1, 1]."""
    return model_values / HALF_RANGE - 1.0


def from_unit(unit_values):
    return (unit_values + 1.0) * HALF_RANGE


def count_parameters(*modules):
    return int(sum(p.numel() for m in modules for p in m.parameters()))


def method_learning_rate(config, published, name, reporter):
    """The method's published learning rate unless LEARNING_RATE was changed.

    LEARNING_RATE defaults to LRM's 1e-3; GANs such as CycleGAN diverge at that rate,
    so a value left at that default means "use the method's own" (and says so).
    """
    if math.isclose(config.learning_rate, LRM_DEFAULT_LEARNING_RATE):
        reporter.info(f"{name}: learning rate {published:g} (the method's published value; "
                      f"set LEARNING_RATE to anything but {LRM_DEFAULT_LEARNING_RATE:g} to "
                      f"override it).")
        return published
    return config.learning_rate


def result(config, parameters, target_window, device, seconds_per_iteration=None,
           epochs_run=0, iterations=0, best_validation_loss=None, **extra):
    """The result fields every method returns (see the registry's contract)."""
    data = {
        "output": config.output,
        "method": config.method,
        "parameters": int(parameters),
        "seconds_per_iteration": seconds_per_iteration,
        "best_validation_loss": best_validation_loss,
        "target_window": [int(v) for v in target_window],
        "device": str(device),
        "epochs_run": int(epochs_run),
        "iterations": int(iterations),
    }
    data.update(extra)
    return data


def provenance(config, bands, target_info, source_infos, window):
    """Metadata every translator file carries (same keys as the LRM translator's)."""
    return {
        "bands": [int(b) for b in bands],
        "channels": len(bands),
        "patch_size": config.patch_size,
        "target": {"path": config.target, "window": [int(v) for v in window],
                   "dtype": str(target_info.dtype), "band_count": target_info.band_count},
        "sources": [{"path": i.path, "dtype": str(i.dtype), "band_count": i.band_count}
                    for i in source_infos],
        "training": config.to_dict(),
    }


class Translator:
    """Base of the methods' translators (attributes of the registry's contract)."""

    def __init__(self, bands, window_multiple=1, preferred_window=None):
        self.bands = [int(b) for b in bands]
        self.window_multiple = int(window_multiple)
        self.preferred_window = int(preferred_window) if preferred_window else None

    def translate(self, batch, offsets=None):  # pragma: no cover - overridden
        raise NotImplementedError


def require_meta(meta, keys, method):
    require_keys(meta, keys, method, f"Train it again with METHOD={method}.")


def model_patch_size(meta):
    """The training patch size of a model file (its preferred translation window)."""
    return whole_number(meta.get("patch_size"), "patch_size", 1, MAX_PATCH_SIZE)


def require_tensors(tensors, keys, method):
    missing = [k for k in keys if k not in tensors]
    if missing:
        raise LrmError(f"This {method} model file lacks the tensor(s) {', '.join(missing)} "
                       f"(corrupted, or written by another version). Train it again.")


class TargetPatches:
    """Random PATCH_SIZE windows anywhere in the whole TARGET layer.

    CycleGAN learns the target domain's distribution, which one patch cannot show, so
    it draws a fresh random window for every sample (uniform positions, windows more
    than half nodata skipped, remaining nodata filled with the band mean).
    """

    MAX_TRIES = 50  # per patch, before giving up on a layer that is mostly nodata

    def __init__(self, info, bands, patch_size, rng):
        if info.width < patch_size or info.height < patch_size:
            raise LrmError(f"TARGET {info.describe()} is too small to sample "
                           f"{patch_size}x{patch_size} patches from: set PATCH_SIZE to at most "
                           f"{min(info.width, info.height) // 2 * 2}, or use a larger TARGET.")
        self.info, self.bands, self.size, self.rng = info, bands, patch_size, rng
        self._ds = open_raster(info.path)

    def distinct_patches(self):
        """How many non-overlapping patches the layer holds."""
        return (self.info.width // self.size) * (self.info.height // self.size)

    def sample(self, count):
        """(count, C, P, P) float32 raw patches."""
        patches = []
        for _ in range(count):
            for _ in range(self.MAX_TRIES):
                x, y = random_position(self.info.width, self.info.height, self.size, self.rng)
                patch, missing = read_patch(self._ds, self.info, self.bands, x, y, self.size)
                if missing <= MAX_SOURCE_NODATA:
                    patches.append(patch)
                    break
            else:
                raise LrmError(f"{self.MAX_TRIES} random {self.size}x{self.size} windows of TARGET "
                               f"{self.info.path} were all mostly nodata. Check its nodata value "
                               f"or use a smaller PATCH_SIZE.")
        return np.stack(patches)
