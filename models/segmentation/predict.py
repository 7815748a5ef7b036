"""Classifying a raster with a trained segmenter, window by window.

Windows (512 pixels unless the raster is very wide: ``inference_window``) slide over the raster with ``overlap`` pixels of
overlap; the softmax probabilities of overlapping windows are blended with linear
ramps (``models.raster.tiling.blend_windows``), so no seam shows; finished rows are turned
into classes (argmax) and written at once. Memory is bounded by one strip of
window rows x raster width x classes (float32) plus the batch, whatever the raster's
height.

Outputs: a uint8 class raster with the class table as GDAL colour table and category
names, nodata 255 where the input is nodata, a ``.qml`` sidecar (paletted renderer),
and optionally a float32 confidence raster (probability of the chosen class, nodata -1).
"""

import os

import numpy as np
import torch

from ..runtime import devices
from ..labels.qml_style import write_paletted_qml
from ..errors import LrmError
from ..raster.inference import WindowedRaster, plan_windows, run_windows
from ..raster.io import RasterWriter, check_output_path, nodata_mask
from ..raster.tiling import pad_to_multiple
from ..storage.model_file import short
from .model_file import read_segmenter
from .network import OUTPUT_STRIDE
from .scaling import apply_scaling

CLASS_NODATA = 255
CONFIDENCE_NODATA = -1.0


class Segmenter:
    """A trained U-Net loaded from a model file (no code executed), ready to predict."""

    def __init__(self, path, device):
        loaded = read_segmenter(path)
        self.meta, self.classes, self.bands = loaded.meta, loaded.classes, loaded.bands
        self.scaling, self.patch_size = loaded.scaling, loaded.patch_size
        self.device = device
        self.model = loaded.model.to(device)

    def probabilities(self, batch):
        """(N, C, H, W) scaled float32 -> (N, classes, H, W) float32 softmax probabilities.

        On the CPU the windows go through one at a time: a 512x512 window already keeps
        every core busy, and the activations of a batch of 4 would add ~0.4 GB.
        """
        h, w = batch.shape[-2:]
        batch = pad_to_multiple(batch, OUTPUT_STRIDE)
        step = len(batch) if self.device.type == "cuda" else 1
        out = []
        with torch.inference_mode(), devices.autocast(self.device):
            for i in range(0, len(batch), step):
                chunk = torch.from_numpy(np.ascontiguousarray(batch[i:i + step])).to(self.device)
                logits = self.model(chunk)
                out.append(torch.softmax(logits.float(), dim=1)[..., :h, :w].cpu().numpy())
        return np.concatenate(out)


def classify_raster(input_path, model_path, output, output_confidence=None, overlap=64,
                    batch_size=4, device="auto", reporter=None, window=None):
    check_output_path(output)
    if output_confidence:
        check_output_path(output_confidence)
    if batch_size < 1:
        raise LrmError(f"BATCH_SIZE must be at least 1, not {batch_size}.")
    device = devices.resolve_device(device)
    seg = Segmenter(model_path, device)
    raster = WindowedRaster(input_path)
    info = raster.info
    if max(seg.bands) > info.band_count:
        raise LrmError(f"The model {model_path} was trained on bands {short(seg.bands, 100)}, "
                       f"but {input_path} has "
                       f"{info.band_count} band(s). Classify a raster with the same bands as "
                       f"the training images.")
    # A U-Net's prediction does not depend on the window (up to the blended borders), so
    # the fast window is used, not the training patch size (tests/backend/test_classify.py).
    # Every window is padded to the stride: a smaller one only repeats the network's work
    # (1-pixel windows: ~1000x slower).
    plan = plan_windows(info, len(seg.classes), overlap, batch_size, window, minimum=seg.patch_size,
                        multiple=OUTPUT_STRIDE, round_explicit=False, least=OUTPUT_STRIDE,
                        too_small=f"is smaller than the U-Net's {OUTPUT_STRIDE}-pixel stride",
                        reporter=reporter)
    if str(info.dtype) != seg.scaling.get("dtype", str(info.dtype)) and reporter:
        reporter.warning(f"The model was trained on {seg.scaling['dtype']} images but "
                         f"{input_path} is {info.dtype}; inputs are standardised with the "
                         f"training statistics, so the value ranges should match.")
    if reporter:
        reporter.info(f"Classifying {info.describe()} with a {seg.meta['encoder']} U-Net on "
                      f"{devices.describe_device(device)}: {plan.window}x{plan.window} windows, "
                      f"overlap {plan.overlap}.")
    nodata = raster.nodata(seg.bands)

    def predict(windows):
        batch = []
        for x, y, w, h in windows:
            raw = raster.read(seg.bands, x, y, w, h)
            batch.append(apply_scaling(raw, seg.scaling, nodata_mask(raw, nodata)))
        return seg.probabilities(np.stack(batch))

    writers = _ClassWriters(output, output_confidence, info, seg.classes)
    try:
        def write(y0, probs):
            invalid = nodata_mask(raster.read(seg.bands, 0, y0, info.width, probs.shape[1]), nodata)
            writers.write(y0, probs, invalid)

        figures = run_windows(info, len(seg.classes), plan, predict, write, device, reporter)
        qml = write_paletted_qml(output, seg.classes)  # before the raster appears
    except BaseException:
        writers.abort()
        raise
    writers.close(qml)
    return {
        "output": output, "output_confidence": output_confidence or None, "style": qml,
        "classes": seg.classes.to_dict(), "width": info.width, "height": info.height,
        "device": devices.describe_device(device), "encoder": seg.meta["encoder"], **figures,
    }


class _ClassWriters:
    """The class raster and the optional confidence raster, written row block by row block."""

    def __init__(self, output, output_confidence, info, classes):
        self.classes = RasterWriter(output, info.width, info.height, 1, np.uint8, info.geotransform,
                                    info.projection, nodata=CLASS_NODATA,
                                    color_table=classes.color_table, category_names=list(classes.names),
                                    band_descriptions=["class"])
        self.confidence = None
        try:
            if output_confidence:
                self.confidence = RasterWriter(output_confidence, info.width, info.height, 1,
                                               np.float32, info.geotransform, info.projection,
                                               nodata=CONFIDENCE_NODATA,
                                               band_descriptions=["confidence"])
        except BaseException:
            self.classes.abort()
            raise

    def write(self, y0, probs, invalid):
        classes = probs.argmax(0).astype(np.uint8)
        classes[invalid] = CLASS_NODATA
        self.classes.write(classes, 0, y0)
        if self.confidence is not None:
            confidence = probs.max(0)
            confidence[invalid] = CONFIDENCE_NODATA
            self.confidence.write(confidence, 0, y0)

    def abort(self):
        self.classes.abort()
        if self.confidence is not None:
            self.confidence.abort()

    def close(self, qml):
        try:
            self.classes.close()
            if self.confidence is not None:
                self.confidence.close()
        except BaseException:  # no style file for a raster that never appeared
            if os.path.exists(qml):
                os.remove(qml)
            raise
