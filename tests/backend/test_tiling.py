"""Sliding windows: full coverage, exact reassembly, bounded strip, overlap rule."""

import numpy as np
import pytest

from models.errors import LrmError
from models.runtime.reporting import Reporter
from models.raster.tiling import blend_windows, effective_overlap, pad_to_multiple, window_grid


@pytest.mark.parametrize("width,height,window,overlap", [(100, 70, 32, 8), (32, 32, 32, 0), (20, 50, 32, 16),
                                                          (257, 129, 64, 63)])
def test_grid_covers_the_raster_and_ends_at_the_edges(width, height, window, overlap):
    grid = window_grid(width, height, window, overlap)
    covered = np.zeros((height, width), int)
    for row in grid:
        for x, y, w, h in row:
            assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
            covered[y:y + h, x:x + w] += 1
    assert covered.min() >= 1
    assert grid[-1][-1][0] + grid[-1][-1][2] == width and grid[-1][-1][1] + grid[-1][-1][3] == height


def test_blending_an_identity_prediction_reassembles_the_raster_exactly():
    rng = np.random.default_rng(0)
    image = rng.random((3, 150, 110)).astype(np.float32)
    out = np.full_like(image, np.nan)
    calls = []

    def predict(windows):
        calls.append(len(windows))
        return np.stack([image[:, y:y + h, x:x + w] for x, y, w, h in windows])

    def write(y0, block):
        assert np.isnan(out[:, y0:y0 + block.shape[1]]).all(), "rows written twice"
        out[:, y0:y0 + block.shape[1]] = block

    fractions = []
    blend_windows(110, 150, 3, 48, 12, predict, write, batch_size=3, progress=fractions.append)
    np.testing.assert_allclose(out, image, rtol=1e-6)
    assert max(calls) <= 3 and fractions[-1] == pytest.approx(1.0)


def test_overlap_rule():
    warnings = []

    class Recorder(Reporter):
        def warning(self, message):
            warnings.append(message)

    assert effective_overlap(16, 64, Recorder()) == 16 and not warnings
    assert effective_overlap(64, 64, Recorder()) == 32 and "using 32" in warnings[0]
    with pytest.raises(LrmError, match="0 or more"):
        effective_overlap(-1, 64)


def test_pad_to_multiple_keeps_the_original_in_the_corner():
    a = np.arange(2 * 5 * 7, dtype=np.float32).reshape(2, 5, 7)
    p = pad_to_multiple(a, 4)
    assert p.shape == (2, 8, 8)
    np.testing.assert_array_equal(p[:, :5, :7], a)


def test_inference_window_is_fast_within_the_strip_budget():
    from models.raster.tiling import FAST_WINDOW, inference_window

    assert inference_window(128, 10000, 6) == FAST_WINDOW == 512
    assert inference_window(600, 10000, 6) == 600          # never below the patch size
    assert inference_window(128, 10000, 6, multiple=32) % 32 == 0
    # a raster so wide that a 512-row strip would pass the budget gets smaller windows
    wide = inference_window(64, 200000, 6, budget=512 * 2**20)
    assert 64 <= wide < 512 and wide * 200000 * 7 * 4 <= 512 * 2**20
    assert inference_window(300, 200000, 6, budget=1) == 300  # the patch size is the floor
