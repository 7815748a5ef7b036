"""The patch geometry every trainer samples with (models/training/patches.py)."""

import numpy as np

from models.training.patches import grid_windows, held_out_count, jittered, random_position


def test_grid_windows_tile_each_raster_with_the_last_window_flush_with_the_edge():
    windows = grid_windows([(100, 64), (30, 20)], 32)
    first = [w for w in windows if w[0] == 0]
    assert {(x, y) for _, x, y, _, _ in first} == {(x, y) for y in (0, 32) for x in (0, 32, 64, 68)}
    assert all(x + w <= 100 and y + h <= 64 and (w, h) == (32, 32) for _, x, y, w, h in first)
    # a raster smaller than a patch: one window of its own size
    assert [w for w in windows if w[0] == 1] == [(1, 0, 0, 30, 20)]


def test_held_out_count_keeps_one_patch_to_train_on_and_honours_the_bounds():
    assert held_out_count(20, 0.15) == 3
    assert held_out_count(20, 0.0) == 0                 # the segmenter may validate on nothing...
    assert held_out_count(20, 0.0, minimum=1) == 1      # ...the translators always hold one out
    assert held_out_count(1000, 0.15, 1, maximum=32) == 32
    assert held_out_count(2, 0.9, 1) == 1               # never every patch
    assert held_out_count(1, 0.5, 1) == 0


def test_jitter_and_random_positions_stay_inside_the_raster():
    rng = np.random.default_rng(0)
    for _ in range(200):
        x, y = jittered(60, 0, 32, 100, 40, rng)
        assert 0 <= x <= 68 and 0 <= y <= 8 and abs(x - 60) <= 16
        x, y = random_position(100, 40, 32, rng)
        assert 0 <= x <= 68 and 0 <= y <= 8
