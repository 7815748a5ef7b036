"""Windowed translation of rasters (models.translation.apply) with LRM and a stand-in method."""

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from osgeo import gdal

from models.storage.model_file import load_model, save_model
from models.raster.io import partial_path, raster_info
from models.runtime.reporting import Reporter
from models.translation import apply as apply_module
from models.translation.apply import translate_raster
from models.translation.methods.lrm import method as lrm
from translation_rasters import (ROOT, RecordingReporter, one_torch_thread, read,  # noqa: F401
                                 source_and_target, texture, tiny_config, write_raster)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lrm_apply")
    source, target, source_array, target_array = source_and_target(str(folder))
    # the published loss family: these tests are about windowing, scaling and I/O, and the
    # weight-free family has its own translation tests (test_translator_losses.py)
    config = tiny_config(source, target, folder / "lrm.safetensors", max_iterations=16,
                         perceptual_loss="vgg19_random")
    lrm.train(config, Reporter())
    return {"folder": folder, "source": source, "target": target, "model": config.output,
            "source_array": source_array, "target_array": target_array}


def translate(path, model, out, **kw):
    kw.setdefault("overlap", 8)
    return translate_raster(str(path), str(model), str(out), device="cpu", reporter=Reporter(),
                            **kw)


def test_translation_moves_band_statistics_towards_the_target(trained):
    out = trained["folder"] / "translated.tif"
    translate(trained["source"], trained["model"], out)
    result = read(out).astype(float)
    src, tgt = trained["source_array"].astype(float), trained["target_array"].astype(float)
    before = np.abs(src.mean(axis=(1, 2)) - tgt.mean(axis=(1, 2)))
    after = np.abs(result.mean(axis=(1, 2)) - tgt.mean(axis=(1, 2)))
    assert (after < 0.7 * before).all(), (before, after)
    # it is the target's style half that does it: the model's own reconstruction of the
    # source (source content + source style) stays further from the target
    tensors, meta = load_model(trained["model"])
    gen = lrm.load(tensors, meta, torch.device("cpu")).gen
    with torch.no_grad():
        rec = gen.decode(gen.encode(torch.from_numpy(src[None].astype(np.float32))))[0].numpy()
    rec_distance = np.abs(rec.mean(axis=(1, 2)) - tgt.mean(axis=(1, 2)))
    assert after.mean() < rec_distance.mean(), (after, rec_distance)


def test_output_keeps_grid_georeferencing_dtype_and_nodata(trained):
    rng = np.random.default_rng(5)
    image = texture(rng, (70, 90, 60), (20,) * 3, (3, 70, 90))
    image[image == 0] = 1
    image[:, 10:30, 20:50] = 0  # nodata block
    gt = (431100.0, 0.25, 0.0, 5411000.0, 0.0, -0.25)
    path = write_raster(trained["folder"] / "with_nodata.tif", image, nodata=0, geotransform=gt)
    out = trained["folder"] / "with_nodata_out.tif"
    result = translate(path, trained["model"], out)
    assert (result["width"], result["height"]) == (90, 70)
    assert result["megapixels_per_second"] > 0 and result["seconds"] > 0
    info_in, info_out = raster_info(path), raster_info(str(out))
    assert info_out.geotransform == info_in.geotransform
    assert info_out.projection == info_in.projection
    assert info_out.dtype == np.uint8 and info_out.band_count == 3
    assert info_out.nodata == [0.0, 0.0, 0.0]
    translated = read(out)
    nodata = (image == 0).all(axis=0)
    assert (translated[:, nodata] == 0).all()
    assert (translated[:, ~nodata] != 0).any(axis=0).all()  # valid pixels stay valid
    assert not os.path.exists(partial_path(str(out)))


def test_tiled_translation_matches_a_single_window_in_the_interior(trained):
    """Windows of another size than the one-shot patch, tiles vs one window: the target's
    style half is anchored to the raster grid, so what differs is only what a window's
    border does to the pixels near it (zero padding inside a ~45-pixel receptive field),
    which the blending ramps down and larger windows make rarer."""
    single = trained["folder"] / "single.tif"
    translate(trained["source"], trained["model"], single, window=96, overlap=0)
    whole = read(single).astype(float)
    for window, overlap, mean_tolerance, p99_tolerance in ((32, 12, 1.5, 8), (64, 16, 0.5, 3)):
        tiled = trained["folder"] / f"tiled_{window}.tif"
        translate(trained["source"], trained["model"], tiled, window=window, overlap=overlap)
        difference = np.abs(read(tiled).astype(float) - whole)[:, 16:-16, 16:-16]
        assert difference.mean() < mean_tolerance, (window, difference.mean())
        assert np.percentile(difference, 99) <= p99_tolerance, (window, difference.max())


def test_uint16_and_float32_rasters_keep_their_type(trained, tmp_path):
    rng = np.random.default_rng(2)
    source = texture(rng, (700, 900, 600), (200,) * 3, (3, 64, 64), np.uint16, 65535)
    target = texture(rng, (1800, 1200, 1600), (250,) * 3, (3, 32, 32), np.uint16, 65535)
    src = write_raster(tmp_path / "s16.tif", source, gdal.GDT_UInt16)
    tgt = write_raster(tmp_path / "t16.tif", target, gdal.GDT_UInt16)
    config = tiny_config(src, tgt, tmp_path / "m16.safetensors", max_iterations=2)
    lrm.train(config, Reporter())
    meta = load_model(config.output)[1]
    assert meta["input_scaling"]["mode"] == "percentile"
    out = tmp_path / "o16.tif"
    translate(src, config.output, out)
    translated = read(out)
    assert translated.dtype == np.uint16 and translated.shape == source.shape
    # in the data's raw 16-bit units: around the source and target means (~730 and ~1530),
    # not left on a 0..255 model scale nor stretched to 0..65535
    assert 0.5 * min(source.mean(), target.mean()) < translated.mean() < 1.5 * max(source.mean(), target.mean())
    assert np.percentile(translated, 99) > 255 and np.percentile(translated, 1) < 4 * target.mean()

    floats = write_raster(tmp_path / "f32.tif", trained["source_array"].astype(np.float32) / 255,
                          gdal.GDT_Float32)
    out32 = tmp_path / "o32.tif"
    reporter = RecordingReporter()
    translate_raster(floats, trained["model"], str(out32), overlap=8, device="cpu",
                     reporter=reporter)
    assert read(out32).dtype == np.float32 and np.isfinite(read(out32)).all()
    assert any("trained on uint8" in e[1] for e in reporter.of("warning"))


class AddHundred:
    """Stand-in translator: adds 100 and records the windows it was given."""

    bands, window_multiple, preferred_window = [1, 2], 4, 24

    def __init__(self):
        self.calls = []

    def translate(self, batch, offsets=None):
        self.calls.append((batch.shape, list(offsets)))
        return batch + 100


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    translator = AddHundred()
    module = types.SimpleNamespace(load=lambda tensors, meta, device: translator)
    monkeypatch.setattr(apply_module, "get_method", lambda name: module)
    model = tmp_path / "stand_in.safetensors"
    save_model(str(model), {"nothing": torch.zeros(1)}, {"kind": "translator", "method": "x"})
    return translator, model


@pytest.mark.parametrize("dtype, gdal_type, expected", [
    (np.uint8, gdal.GDT_Byte, lambda a: np.minimum(a.astype(int) + 100, 255)),
    (np.uint16, gdal.GDT_UInt16, lambda a: a.astype(int) + 100),
    (np.float32, gdal.GDT_Float32, lambda a: a + 100),
])
def test_windows_are_aligned_blended_cast_and_clipped(stand_in, tmp_path, dtype, gdal_type,
                                                      expected):
    translator, model = stand_in
    rng = np.random.default_rng(0)
    image = (rng.random((3, 45, 53)) * 250).astype(dtype)  # odd sizes: unaligned last windows
    path = write_raster(tmp_path / "in.tif", image, gdal_type)
    out = tmp_path / "out.tif"
    result = translate(path, model, out, overlap=6, batch_size=3)
    assert result["window"] == 24
    translated = read(out)
    assert translated.dtype == dtype and translated.shape == (2, 45, 53)  # bands 1 and 2
    np.testing.assert_allclose(translated, expected(image[:2]), atol=1e-3)
    for shape, offsets in translator.calls:
        assert shape[2] % 4 == 0 and shape[3] % 4 == 0
        assert all(x % 4 == 0 and y % 4 == 0 for x, y in offsets)


def test_translate_cli_reports_its_result(trained, tmp_path):
    out = tmp_path / "cli.tif"
    proc = subprocess.run(
        [sys.executable, "-m", "models", "translate", "--jsonl", "--input", trained["source"],
         "--model", trained["model"], "--overlap", "8", "--batch-size", "2", "--device", "cpu",
         "--output", str(out)],
        cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True,
        timeout=240)
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stderr
    (result,) = [e["data"] for e in events if e["type"] == "result"]
    assert {"output", "width", "height", "seconds", "megapixels_per_second"} <= set(result)
    assert result["output"] == str(out) and (result["width"], result["height"]) == (96, 96)
    assert os.path.isfile(out)
