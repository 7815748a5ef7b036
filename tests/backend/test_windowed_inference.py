"""The windowed-inference engine translate and classify share (models/raster/inference.py)."""

import pytest

from models.errors import LrmError
from models.raster.inference import plan_windows
from models.raster.io import RasterInfo
from models.raster.tiling import FAST_WINDOW


class Warnings:
    def __init__(self):
        self.seen = []

    def warning(self, text):
        self.seen.append(text)


def info(width, height=100):
    return RasterInfo(path="r.tif", width=width, height=height, band_count=3, dtype=None,
                      geotransform=(0, 1, 0, 0, 0, -1), projection="", nodata=[None] * 3)


def test_the_window_is_the_models_own_or_else_the_fast_one_within_the_memory_budget():
    assert plan_windows(info(1000), 3, 64, 4).window == FAST_WINDOW
    assert plan_windows(info(1000), 3, 16, 4, preferred=128).window == 128   # output depends on it
    assert plan_windows(info(1000), 3, 16, 4, window=100, preferred=128).window == 100
    wide = plan_windows(info(200000), 6, 16, 4, minimum=64)                # the strip would not fit
    assert 64 <= wide.window < FAST_WINDOW


def test_explicit_windows_are_rounded_or_raised_to_what_the_network_needs():
    assert plan_windows(info(1000), 3, 8, 1, window=100, multiple=32).window == 128
    assert plan_windows(info(1000), 3, 8, 1, window=100, multiple=32, round_explicit=False).window == 100
    warnings = Warnings()
    plan = plan_windows(info(1000), 3, 64, 1, window=2, multiple=4, least=8,
                        too_small="is too small for this model", reporter=warnings)
    assert plan.window == 8 and plan.overlap == 4                  # overlap halved to fit
    assert warnings.seen[0] == "WINDOW 4 is too small for this model; using 8."


def test_a_batch_below_one_window_is_refused():
    with pytest.raises(LrmError, match="BATCH_SIZE must be at least 1"):
        plan_windows(info(100), 3, 8, 0)
