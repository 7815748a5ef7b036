"""Input scaling of the segmenter: per-band standardisation with training statistics.

The model file stores, for each band used, the mean and standard deviation of the
training images' valid (non-nodata) pixels; every input is scaled as
``(value - mean) / std`` before the network, at training and at classification time.
This works the same for uint8, uint16 and float rasters (no assumed 0..255 range), and
gives inputs of the magnitude ImageNet-initialised encoders expect (ImageNet
normalisation is also a per-channel standardisation). Nodata pixels become 0, the
training mean. The statistics come from a sample of training patches (pixels
subsampled), so computing them costs one read of at most ``MAX_PATCHES`` patches.
"""

import numpy as np

MAX_PATCHES = 256
PIXEL_STEP = 4


class RunningStats:
    def __init__(self, channels):
        self.n = np.zeros(channels, np.float64)
        self.s = np.zeros(channels, np.float64)
        self.s2 = np.zeros(channels, np.float64)

    def add(self, array, valid):
        """array (C, H, W); valid (H, W) bool."""
        values = array[:, valid].astype(np.float64)
        self.n += values.shape[1]
        self.s += values.sum(axis=1)
        self.s2 += (values ** 2).sum(axis=1)

    def result(self, dtype):
        n = np.maximum(self.n, 1)
        mean = self.s / n
        std = np.sqrt(np.maximum(self.s2 / n - mean ** 2, 0))
        std = np.where(std > 1e-6 * np.maximum(np.abs(mean), 1), std, 1.0)  # constant band
        return {"method": "standardize", "mean": mean.tolist(), "std": std.tolist(),
                "dtype": str(np.dtype(dtype)), "pixels": int(self.n.min())}


def apply_scaling(array, scaling, invalid=None):
    """(C, H, W) raw values -> float32 network input; ``invalid`` pixels become 0."""
    mean = np.asarray(scaling["mean"], np.float32)[:, None, None]
    std = np.asarray(scaling["std"], np.float32)[:, None, None]
    with np.errstate(over="ignore", invalid="ignore"):  # e.g. nodata -3.4e38: set to 0 below
        out = (array.astype(np.float32) - mean) / std
    out[~np.isfinite(out)] = 0.0
    if invalid is not None and invalid.any():
        out[:, invalid] = 0.0
    return out
