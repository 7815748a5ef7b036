"""Training data shared by the translation methods: the one-shot window rule, extents,
source patches, input scaling; and the real ISPRS one-shot patches translated."""

import os

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from models.raster.io import open_raster, raster_info
from models.runtime.reporting import Reporter
from models.raster.tiling import window_starts
from models.translation.apply import translate_raster
from models.translation.sampling import SourcePatches, extent_to_window, target_window
from models.translation.scaling import InputScaling
from models.translation.methods.lrm import method as lrm
from translation_rasters import (GEOTRANSFORM, ONESHOT, one_torch_thread, read,  # noqa: F401
                                 texture, tiny_config, write_raster)


def quadrants(rng, size=192):
    """Four regions of different brightness and texture: no single quadrant represents
    the layer, a window that straddles all four does."""
    half = size // 2
    image = np.zeros((3, size, size), np.uint8)
    for (y, x), mean in zip(((0, 0), (0, half), (half, 0), (half, half)), (40, 100, 160, 220)):
        image[:, y:y + half, x:x + half] = texture(rng, (mean,) * 3, (12,) * 3, (3, half, half))
    image[image == 0] = 1
    return image


def layer_distance(image, x, y, size):
    patch = image[:, y:y + size, x:x + size]
    return sum(wasserstein_distance(patch[b].ravel(), image[b].ravel()) for b in range(3))


def test_automatic_target_window_is_representative_and_free_of_nodata(tmp_path):
    image = quadrants(np.random.default_rng(0))
    image[:, :, 176:] = 0  # a nodata strip
    path = write_raster(tmp_path / "quadrants.tif", image, nodata=0)
    x, y, w, h = target_window(open_raster(path), raster_info(path), [1, 2, 3], 64)
    assert (w, h) == (64, 64)
    assert not (image[:, y:y + 64, x:x + 64] == 0).all(axis=0).any()
    assert x < 96 < x + 64 and y < 96 < y + 64  # straddles the four quadrants
    valid = image[:, :, :176]
    distances = [layer_distance(valid, cx, cy, 64)
                 for cy in window_starts(192, 64, 32) for cx in window_starts(176, 64, 32)]
    assert layer_distance(valid, x, y, 64) <= np.percentile(distances, 10)


def test_automatic_target_window_goes_around_nodata(tmp_path):
    image = quadrants(np.random.default_rng(1))
    image[:, 70:130, 70:130] = 0
    path = write_raster(tmp_path / "hole.tif", image, nodata=0)
    x, y, _, _ = target_window(open_raster(path), raster_info(path), [1, 2, 3], 64)
    assert not (image[:, y:y + 64, x:x + 64] == 0).all(axis=0).any()


def test_target_extent_becomes_a_pixel_window_and_bounds_the_choice(tmp_path):
    image = quadrants(np.random.default_rng(2))
    path = write_raster(tmp_path / "extent.tif", image)
    info = raster_info(path)
    ox, px, _, oy, _, py = GEOTRANSFORM
    extent = (ox + 20 * px, oy + 150 * py, ox + 120 * px, oy + 10 * py)  # x 20..120, y 10..150
    assert extent_to_window(info, extent, 64) == (20, 10, 100, 140)
    # an extent reaching beyond the layer is clipped to it
    assert extent_to_window(info, (ox - 50, oy - 40, ox + 30, oy + 5), 32) == (0, 0, 60, 80)
    x, y, w, h = target_window(open_raster(path), info, [1, 2, 3], 64, (20, 10, 100, 140))
    assert 20 <= x and x + w <= 120 and 10 <= y and y + h <= 150


def test_source_patches_split_and_epochs(tmp_path):
    rng = np.random.default_rng(3)
    first = texture(rng, (80,) * 3, (20,) * 3, (3, 128, 96))
    first[first == 0] = 1
    first[:, :64, :] = 0  # the top half is nodata: those patches are never used
    second = texture(rng, (90,) * 3, (20,) * 3, (3, 64, 64))
    second[second == 0] = 1
    paths = [write_raster(tmp_path / "a.tif", first, nodata=0),
             write_raster(tmp_path / "b.tif", second, nodata=0)]
    patches = SourcePatches([raster_info(p) for p in paths], [1, 2, 3], 32,
                            np.random.default_rng(0), validation_fraction=0.25)
    windows = patches.train_windows + patches.validation_windows
    assert len(windows) == 12 + 4 and len(set(windows)) == 16
    assert len(patches.validation) == 4  # a quarter, all with valid data
    assert all((p != 0).any() for p in patches.validation)
    batches = list(patches.epoch(batch_size=3))
    assert all(b.shape[1:] == (3, 32, 32) for b in batches)
    # the nodata-only training windows (and jittered ones mostly in nodata) are skipped
    seen = sum(len(b) for b in batches)
    assert 0 < seen <= len(patches.train_windows)
    assert all((b > 0).mean() > 0.5 for b in batches)


def test_input_scaling_identity_for_8_bit_and_a_stretch_otherwise():
    rng = np.random.default_rng(4)
    values = rng.uniform(1000, 3000, (3, 5000))
    assert InputScaling.from_samples([values], [np.uint8, np.uint8]).mode == "identity"
    scaling = InputScaling.from_samples([values], [np.uint16, np.uint8])
    assert scaling.mode == "percentile"
    model = scaling.to_model(values[:, :, None])
    assert np.percentile(model, 0.5) == pytest.approx(0, abs=1)
    assert np.percentile(model, 99.5) == pytest.approx(255, abs=1)
    np.testing.assert_allclose(scaling.to_raw(model)[:, :, 0], values, rtol=1e-5)
    again = InputScaling.from_meta(scaling.to_meta())
    np.testing.assert_allclose(again.to_model(values[:, :, None]), model)


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.skipif(not os.path.isdir(ONESHOT), reason="ISPRS one-shot patches not available")
def test_real_potsdam_patch_translated_towards_the_vaihingen_sample(tmp_path):
    """The published one-shot samples (read from ../shared, never copied): a crop of
    the Potsdam patch is the source, a crop of the Vaihingen patch the one-shot target."""
    from osgeo import gdal

    potsdam = gdal.Open(os.path.join(ONESHOT, "P_Style_Image1.jpg")).ReadAsArray(0, 0, 128, 128)
    vaihingen = gdal.Open(os.path.join(ONESHOT, "V_Style_Image1.png")).ReadAsArray(200, 200, 64, 64)
    source = write_raster(tmp_path / "potsdam.tif", potsdam, geotransform=None)
    target = write_raster(tmp_path / "vaihingen.tif", vaihingen, geotransform=None)
    config = tiny_config(source, target, tmp_path / "p2v.safetensors", patch_size=64,
                         batch_size=2, max_iterations=2)
    result = lrm.train(config, Reporter())
    assert result["parameters"] == 114659 and result["target_window"] == [0, 0, 64, 64]
    out = tmp_path / "p2v.tif"
    translate_raster(source, config.output, str(out), overlap=16, device="cpu")
    translated = read(out).astype(float)
    assert translated.shape == potsdam.shape
    p, v, t = (a.reshape(3, -1).mean(axis=1) for a in (potsdam.astype(float),
                                                        vaihingen.astype(float), translated))
    # the IR-R-G bands move towards Vaihingen's (its red and green are much darker)
    assert np.abs(t - v).sum() < np.abs(p - v).sum(), (p, v, t)
