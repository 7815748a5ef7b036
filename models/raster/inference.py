"""One windowed-inference engine for translate and classify.

Both read a raster window by window, let a model predict a batch of windows at a time,
blend the overlaps (``tiling.blend_windows``) and write finished rows through
``RasterWriter`` (a hidden ``.partial`` file until complete). What they share is here,
once: the input opened with GDAL's block cache capped, the nodata of the bands used, the
window (the fast one within the memory budget, unless the model's output depends on the
window), the batch-size and overlap checks, the run with its progress and out-of-memory
hint, and the throughput. A caller supplies only ``predict(windows)`` and
``write(y0, block)``.
"""

import time
from dataclasses import dataclass

from osgeo import gdal

from ..errors import LrmError
from ..runtime.devices import out_of_memory_hint
from .io import open_raster, raster_info, read_window
from .tiling import blend_windows, effective_overlap, inference_window

# GDAL's block cache defaults to 5% of the RAM; every window is read and every row written
# once, so a small cache (a strip of input and output blocks fits) keeps memory bounded on
# big rasters at no cost.
GDAL_CACHE_BYTES = 64 * 2**20


class WindowedRaster:
    """An input raster opened for windowed inference."""

    def __init__(self, path):
        gdal.SetCacheMax(min(gdal.GetCacheMax(), GDAL_CACHE_BYTES))
        self.ds = open_raster(path)
        self.info = raster_info(self.ds)

    def nodata(self, bands):
        return [self.info.nodata[b - 1] for b in bands]

    def read(self, bands, x, y, width, height):
        return read_window(self.ds, bands, x, y, width, height)


@dataclass(frozen=True)
class WindowPlan:
    window: int
    overlap: int
    batch_size: int


def plan_windows(info, channels, overlap, batch_size, window=None, preferred=None, minimum=1,
                 multiple=1, round_explicit=True, least=1, too_small="", reporter=None):
    """The windows of a run: ``window`` if given, else the model's ``preferred`` one (its
    output depends on the window), else the fast window for a raster this wide
    (``inference_window``: never below ``minimum``, a multiple of ``multiple``). An
    explicit window is rounded up to ``multiple`` when ``round_explicit``; one below
    ``least`` is raised to it with the warning ``WINDOW <w> <too_small>; using <least>``."""
    if batch_size < 1:
        raise LrmError(f"BATCH_SIZE must be at least 1, not {batch_size}.")
    window = int(window or preferred or inference_window(minimum, info.width, channels,
                                                         multiple=multiple))
    if round_explicit:
        window = -(-window // multiple) * multiple
    if window < least:
        if reporter is not None:
            reporter.warning(f"WINDOW {window} {too_small}; using {least}.")
        window = least
    return WindowPlan(window, effective_overlap(overlap, window, reporter), int(batch_size))


def run_windows(info, channels, plan, predict, write, device, reporter=None):
    """Predict, blend and write every window; return the run's throughput figures."""
    started = time.perf_counter()
    with out_of_memory_hint(device, plan.batch_size, plan.window):
        blend_windows(info.width, info.height, channels, plan.window, plan.overlap, predict, write,
                      batch_size=plan.batch_size,
                      progress=(lambda f: reporter.progress(100 * f)) if reporter else None)
    seconds = time.perf_counter() - started
    return {"window": plan.window, "overlap": plan.overlap, "seconds": round(seconds, 3),
            "megapixels_per_second": round(info.width * info.height / 1e6 / max(seconds, 1e-9), 4)}
