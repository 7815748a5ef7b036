"""Histogram matching and FDA: train on tiny georeferenced rasters, translate through the
real windowed path (models.translation.apply / python -m models), check the results."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from osgeo import gdal, osr
from scipy.stats import wasserstein_distance

from models.errors import LrmError
from models.translation.methods import fda
from models.translation.methods.histogram_matching import source_histograms
from models.storage.model_file import load_model
from models.raster.io import raster_info
from models.runtime.reporting import Reporter
from models.translation.apply import translate_raster
from models.translation.config import TranslatorConfig
from models.translation.registry import get_method, method_names
from translation_rasters import write_raster

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
def scene(rng, height, width, mean, spread, bands=3):
    """Smooth structure plus noise, different per band."""
    yy, xx = np.mgrid[0:height, 0:width]
    out = []
    for b in range(bands):
        wave = np.sin(xx / (7.0 + 3 * b)) * np.cos(yy / (11.0 + 2 * b))
        out.append(mean[b] + spread[b] * (0.6 * wave + 0.4 * rng.standard_normal((height, width))))
    return np.stack(out)


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("simple_methods")
    rng = np.random.default_rng(1)
    source = np.clip(scene(rng, 80, 96, (70, 90, 60), (15, 25, 10)), 0, 255).astype(np.uint8)
    target = np.clip(scene(rng, 64, 64, (170, 120, 150), (35, 20, 30)), 0, 255).astype(np.uint8)
    return {"source": write_raster(folder / "source.tif", source),
            "target": write_raster(folder / "target.tif", target),
            "source_array": source, "target_array": target, "folder": folder}


def config(rasters, method, name, **kw):
    values = dict(sources=[rasters["source"]], target=rasters["target"], patch_size=32,
                  batch_size=2, epochs=1, max_iterations=1, device="cpu", method=method,
                  output=str(rasters["folder"] / f"{name}.safetensors"),
                  one_shot_size=0)  # a PATCH_SIZE sample: the FDA checks compare on its grid
    values.update(kw)
    return TranslatorConfig(**values)


def translate(rasters, model, name, source=None, **kw):
    out = str(rasters["folder"] / f"{name}.tif")
    translate_raster(source or rasters["source"], model, out, device="cpu", reporter=Reporter(),
                     **kw)
    return out


def assert_same_grid(out_path, in_path):
    out, ref = raster_info(out_path), raster_info(in_path)
    assert (out.width, out.height, out.dtype) == (ref.width, ref.height, ref.dtype)
    assert out.geotransform == ref.geotransform
    assert osr.SpatialReference(out.projection).IsSame(osr.SpatialReference(ref.projection))
    assert out.nodata[:len(ref.nodata)] == ref.nodata[:out.band_count]


def target_patch(rasters, result):
    x, y, w, h = result["target_window"]
    return rasters["target_array"][:, y:y + h, x:x + w]


def test_registry_order_matches_the_processing_enum():
    assert method_names() == ["lrm", "histogram_matching", "fda", "cyclegan", "colormapgan",
                              "dualgan", "benjdira"]
    for name in method_names()[1:]:
        module = get_method(name)
        assert callable(module.train) and callable(module.load)


def test_histogram_matching_output_matches_the_target_histogram(rasters):
    cfg = config(rasters, "histogram_matching", "hm")
    result = get_method("histogram_matching").train(cfg, Reporter())
    assert result["parameters"] == 0 and result["seconds_per_iteration"] is None
    _, meta = load_model(cfg.output, "translator")
    assert meta["method"] == "histogram_matching" and meta["bands"] == [1, 2, 3]
    out_path = translate(rasters, cfg.output, "hm", overlap=8)
    assert_same_grid(out_path, rasters["source"])
    out = gdal.Open(out_path).ReadAsArray().astype(float)
    src = rasters["source_array"].astype(float)
    tgt = target_patch(rasters, result).astype(float)
    levels = np.linspace(5, 95, 19)
    for b in range(3):
        before = wasserstein_distance(src[b].ravel(), tgt[b].ravel())
        after = wasserstein_distance(out[b].ravel(), tgt[b].ravel())
        assert before > 20
        assert after < 1.5 and after < before / 20
        gap = np.abs(np.percentile(out[b], levels) - np.percentile(tgt[b], levels))
        assert gap.max() <= 3.0


def test_histogram_matching_does_not_depend_on_the_window(rasters):
    cfg = config(rasters, "histogram_matching", "hm_window")
    get_method("histogram_matching").train(cfg, Reporter())
    small = gdal.Open(translate(rasters, cfg.output, "hm_w32", window=32, overlap=8)).ReadAsArray()
    whole = gdal.Open(translate(rasters, cfg.output, "hm_w512", window=512,
                                overlap=0)).ReadAsArray()
    # Same values up to rounding: blending overlapping windows (weights summing to 1 in
    # float32) can move a value that lies exactly on .5 to the other integer.
    diff = np.abs(small.astype(int) - whole.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_histogram_matching_keeps_uint16_values_and_nodata(tmp_path):
    rng = np.random.default_rng(2)
    source = np.clip(scene(rng, 48, 48, (900, 1200, 700), (200, 300, 100)), 1, 4000)
    source = source.astype(np.uint16)
    source[:, :6, :6] = 0  # nodata corner
    target = np.clip(scene(rng, 40, 40, (2500, 1800, 3000), (400, 250, 500)), 1, 9000)
    paths = {"source": write_raster(tmp_path / "s.tif", source, gdal.GDT_UInt16, nodata=0),
             "target": write_raster(tmp_path / "t.tif", target.astype(np.uint16), gdal.GDT_UInt16),
             "folder": tmp_path}
    cfg = config(paths, "histogram_matching", "hm16")
    get_method("histogram_matching").train(cfg, Reporter())
    out_path = translate(paths, cfg.output, "hm16", overlap=8)
    assert_same_grid(out_path, paths["source"])
    out = gdal.Open(out_path).ReadAsArray()
    assert (out[:, :6, :6] == 0).all()                     # nodata stays nodata
    valid = out[:, 6:, :]
    assert valid.min() > 0 and abs(valid[0].mean() - target[0].mean()) < 0.1 * target[0].mean()


def test_float_histograms_give_the_quantiles_of_every_source_pixel(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.gamma(2.0, 0.05, (2, 30, 50)).astype(np.float32)
    b = (rng.gamma(3.0, 0.04, (2, 20, 20)) + 0.1).astype(np.float32)
    infos = [raster_info(write_raster(tmp_path / "a.tif", a, gdal.GDT_Float32)),
             raster_info(write_raster(tmp_path / "b.tif", b, gdal.GDT_Float32))]
    hists = source_histograms(infos, [1, 2])
    for band, (values, counts) in enumerate(hists):
        pixels = np.concatenate([a[band].ravel(), b[band].ravel()])
        assert counts.sum() == pixels.size
        cdf = np.cumsum(counts) / counts.sum()
        width = (pixels.max() - pixels.min()) / 65536
        for q in (0.1, 0.5, 0.9):
            exact = np.quantile(pixels.astype(np.float64), q, method="inverted_cdf")
            assert abs(values[np.searchsorted(cdf, q)] - exact) <= width


def test_fda_with_beta_zero_is_the_identity(rasters):
    cfg = config(rasters, "fda", "fda0", fda_beta=0.0)
    get_method("fda").train(cfg, Reporter())
    out_path = translate(rasters, cfg.output, "fda0", overlap=8)
    assert_same_grid(out_path, rasters["source"])
    np.testing.assert_array_equal(gdal.Open(out_path).ReadAsArray(), rasters["source_array"])
    tensors, meta = load_model(cfg.output, "translator")
    batch = np.random.default_rng(0).normal(100, 30, (2, 3, 40, 24)).astype(np.float32)
    assert np.array_equal(get_method("fda").load(tensors, meta, "cpu").translate(batch), batch)


def test_fda_gives_windows_the_target_low_frequency_amplitude(rasters):
    cfg = config(rasters, "fda", "fda", fda_beta=0.09)
    result = get_method("fda").train(cfg, Reporter())
    assert result["parameters"] == 0
    tensors, meta = load_model(cfg.output, "translator")
    translator = get_method("fda").load(tensors, meta, "cpu")
    tgt = target_patch(rasters, result).astype(np.float64)
    src = rasters["source_array"][None, :, :32, :32].astype(np.float32)
    out = translator.translate(src).astype(np.float64)
    b = fda.half_size(32, 32, 0.09)
    assert b == 2
    centre = slice(16 - b, 16 + b + 1)
    amp = lambda a: np.fft.fftshift(np.abs(np.fft.fft2(a, axes=(-2, -1))), axes=(-2, -1))  # noqa
    np.testing.assert_allclose(amp(out[0])[:, centre, centre], amp(tgt)[:, centre, centre],
                               rtol=1e-4, atol=1e-2)
    # the phase (the scene) is kept
    np.testing.assert_allclose(np.angle(np.fft.fft2(out[0]))[:, 0, 1:4],
                               np.angle(np.fft.fft2(src[0].astype(np.float64)))[:, 0, 1:4],
                               atol=1e-4)


def test_fda_handles_windows_of_another_size(rasters):
    # beta 0.01 swaps only the zero frequency (the band mean) of 32- and 64-pixel windows:
    # every window, whatever its size, must get the target patch's mean.
    cfg = config(rasters, "fda", "fda_any", fda_beta=0.01)
    result = get_method("fda").train(cfg, Reporter())
    tgt_mean = target_patch(rasters, result).reshape(3, -1).mean(axis=1)
    assert np.abs(rasters["source_array"].reshape(3, -1).mean(axis=1) - tgt_mean).min() > 20
    for window in (32, 64):  # the patch size, and twice it
        out = gdal.Open(translate(rasters, cfg.output, f"fda_{window}", window=window,
                                  overlap=8)).ReadAsArray().astype(float)
        assert np.abs(out.reshape(3, -1).mean(axis=1) - tgt_mean).max() < 1.0


def test_fda_resamples_the_target_spectrum_to_the_window_grid():
    rng = np.random.default_rng(5)
    amplitude = fda.normalised_amplitude(rng.normal(100, 20, (2, 32, 32)))
    same = fda.target_low_frequencies(amplitude, 2, 32, 32)
    np.testing.assert_allclose(same, amplitude[:, 14:19, 14:19] * 32 * 32)
    # A 64-pixel window's frequency k/64 is the patch's (k/2)/32: even k hit patch
    # frequencies, odd k lie halfway between two; amplitudes scale with the pixel count.
    double = fda.target_low_frequencies(amplitude, 2, 64, 64) / (64 * 64)
    np.testing.assert_allclose(double[:, ::2, ::2], amplitude[:, 15:18, 15:18])
    np.testing.assert_allclose(double[:, 1, 2], (amplitude[:, 15, 16] + amplitude[:, 16, 16]) / 2)
    assert fda.half_size(64, 64, 0.5) == 31  # capped so the square fits in the window


@pytest.mark.parametrize("method", ["histogram_matching", "fda"])
def test_different_band_counts_are_refused(tmp_path, method):
    rng = np.random.default_rng(4)
    paths = {"source": write_raster(tmp_path / "s4.tif", rng.integers(0, 255, (4, 40, 40))),
             "target": write_raster(tmp_path / "t3.tif", rng.integers(0, 255, (3, 40, 40))),
             "folder": tmp_path}
    with pytest.raises(LrmError, match="band"):
        get_method(method).train(config(paths, method, method), Reporter())
    assert not os.path.exists(tmp_path / f"{method}.safetensors")


@pytest.mark.slow
def test_command_line_round_trip(rasters):
    model = str(rasters["folder"] / "cli.safetensors")
    out = str(rasters["folder"] / "cli.tif")
    env = dict(os.environ, LRM_OFFLINE="1")

    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "models", *args, "--jsonl"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        assert proc.returncode == 0, (proc.stderr[-2000:], events[-1:])
        return next(e["data"] for e in events if e["type"] == "result")

    trained = run("train-translator", "--method", "histogram_matching", "--source",
                  rasters["source"], "--target", rasters["target"], "--patch-size", "32",
                  "--device", "cpu", "--output", model)
    assert trained["method"] == "histogram_matching" and trained["parameters"] == 0
    translated = run("translate", "--input", rasters["source"], "--model", model,
                     "--device", "cpu", "--output", out)
    assert translated["method"] == "histogram_matching"
    assert_same_grid(out, rasters["source"])
