"""Raw raster values <-> the value range the networks work in ("model units").

Decision (see docs/translator.md): the networks see values in about 0..255, the
range the published code feeds to both the generator and VGG19 (no ImageNet
normalisation), because the paper's loss weights (30, 1000, 1, 5) are tuned for it:
VGG features of 0..1 inputs are ~255x smaller, content terms ~6.5e4x and Gram terms
~4e9x smaller, and the published weights would then let reconstruction dominate.

* When every training raster is 8-bit, raw values are used as they are (identity).
* Otherwise (uint16, int16, float reflectance, ...) each band gets one affine map,
  shared by SOURCE and TARGET, that sends its 0.5th..99.5th percentile (pooled over
  the source patches sampled for validation and the one-shot target patch) to 0..255.
  Values outside that range are not clipped. The inverse map turns the translation
  back into raw units, so the output has the input's value range (and dtype).

One shared map (not one per domain) keeps the translation a pure change of
appearance: the network learns the radiometric difference between the domains.
"""

import numpy as np

MODEL_RANGE = 255.0
LOW_PERCENTILE, HIGH_PERCENTILE = 0.5, 99.5


class InputScaling:
    """Per-band ``model = (raw - offset) * scale`` and its inverse."""

    def __init__(self, offset, scale, mode):
        self.offset = np.asarray(offset, np.float32)
        self.scale = np.asarray(scale, np.float32)
        self.mode = mode

    @classmethod
    def identity(cls, channels):
        return cls(np.zeros(channels), np.ones(channels), "identity")

    @classmethod
    def from_samples(cls, samples, dtypes):
        """``samples``: list of (C, N) float arrays of valid raw values; ``dtypes`` of
        every training raster. Identity when all are uint8, else percentile stretch."""
        channels = samples[0].shape[0]
        if all(np.dtype(d) == np.uint8 for d in dtypes):
            return cls.identity(channels)
        values = np.concatenate([np.asarray(s, np.float64) for s in samples], axis=1)
        low = np.percentile(values, LOW_PERCENTILE, axis=1)
        high = np.percentile(values, HIGH_PERCENTILE, axis=1)
        span = np.where(high - low > 1e-12, high - low, 1.0)
        return cls(low, MODEL_RANGE / span, "percentile")

    def to_model(self, raw):
        """(…, C, H, W) raw -> model units, float32."""
        shape = (-1,) + (1,) * 2
        return ((np.asarray(raw, np.float32) - self.offset.reshape(shape))
                * self.scale.reshape(shape)).astype(np.float32, copy=False)

    def to_raw(self, model):
        shape = (-1,) + (1,) * 2
        return (np.asarray(model, np.float32) / self.scale.reshape(shape)
                + self.offset.reshape(shape)).astype(np.float32, copy=False)

    def to_meta(self):
        return {"mode": self.mode, "offset": [float(v) for v in self.offset],
                "scale": [float(v) for v in self.scale],
                "model_range": [0.0, MODEL_RANGE]}

    @classmethod
    def from_meta(cls, meta, channels=None):
        """The scaling a model file's ``input_scaling`` metadata describes for ``channels``
        bands (default: as many as it has offsets); LrmError unless it holds one finite
        offset and one finite, non-zero scale per band."""
        from ..storage.model_checks import mapping, numbers

        meta = mapping({"input_scaling": meta}, "input_scaling")
        if channels is None:
            offset = meta.get("offset")
            channels = len(offset) if isinstance(offset, list) else 0
        return cls(numbers(meta.get("offset"), "input_scaling.offset", channels),
                   numbers(meta.get("scale"), "input_scaling.scale", channels, nonzero=True),
                   str(meta.get("mode", "percentile"))[:40])
