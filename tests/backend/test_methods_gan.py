"""CycleGAN and ColorMapGAN: parameter counts, one tiny training step each, translation
through the real windowed path, and their bad-input errors."""

import os

import numpy as np
import pytest
from osgeo import gdal, osr

from models.errors import LrmError
from models.translation.methods.colormapgan import ColourTable, colour_index
from models.translation.methods.common import count_parameters
from models.translation.methods.gan_networks import patch_discriminator, resnet_generator
from models.storage.model_file import load_model
from models.raster.io import raster_info
from translation_rasters import write_raster
from models.runtime.reporting import Reporter
from models.translation.apply import translate_raster
from models.translation.config import TranslatorConfig
from models.translation.registry import get_method



class Recorder(Reporter):
    def __init__(self):
        self.warnings, self.infos = [], []

    def warning(self, message):
        self.warnings.append(message)

    def info(self, message):
        self.infos.append(message)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread for these tests: on a shared 2-core machine, two OpenMP threads
    competing with other jobs spin at every barrier, which made one CycleGAN step
    10-20x slower (25-45 s instead of 2 s at 32x32) when measured here."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gan_methods")
    rng = np.random.default_rng(7)
    source = rng.normal((70, 90, 60), 15, (40, 48, 3)).transpose(2, 0, 1)
    target = rng.normal((170, 120, 150), 25, (64, 64, 3)).transpose(2, 0, 1)
    return {"source": write_raster(folder / "source.tif", np.clip(source, 0, 255).astype(np.uint8)),
            "target": write_raster(folder / "target.tif", np.clip(target, 0, 255).astype(np.uint8)),
            "folder": folder}


def config(paths, method, **kw):
    values = dict(sources=[paths["source"]], target=paths["target"], patch_size=32, batch_size=1,
                  epochs=1, max_iterations=1, device="cpu", method=method,
                  output=str(paths["folder"] / f"{method}.safetensors"))
    values.update(kw)
    return TranslatorConfig(**values)


def assert_same_grid(out_path, in_path):
    out, ref = raster_info(out_path), raster_info(in_path)
    assert (out.width, out.height, out.dtype, out.band_count) == (ref.width, ref.height,
                                                                  ref.dtype, 3)
    assert out.geotransform == ref.geotransform
    assert osr.SpatialReference(out.projection).IsSame(osr.SpatialReference(ref.projection))


def conv(cin, cout, k, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


def test_cyclegan_generator_has_the_published_parameter_count():
    # Counted from the architecture: conv 7x7, two stride-2 convs, 9 residual blocks of two
    # 3x3 convs at 256 channels, two transposed convs, conv 7x7; every conv has a bias
    # (instance norm without affine parameters).
    expected = (conv(3, 64, 7) + conv(64, 128, 3) + conv(128, 256, 3)
                + 9 * 2 * conv(256, 256, 3) + conv(256, 128, 3) + conv(128, 64, 3)
                + conv(64, 3, 7))
    generator = resnet_generator(3, 3)
    assert count_parameters(generator) == expected == 11_378_179
    assert round(expected / 1e6, 3) == 11.378  # Table I of the LRM paper
    disc = patch_discriminator(3)
    assert count_parameters(disc) == (conv(3, 64, 4) + conv(64, 128, 4) + conv(128, 256, 4)
                                      + conv(256, 512, 4) + conv(512, 1, 4))


@pytest.mark.slow
def test_cyclegan_trains_on_the_whole_target_layer_and_translates(rasters):
    # SOURCE of two 32-pixel windows (one for training, one for validation): one iteration
    # of four 11M-parameter networks is what costs here.
    rng = np.random.default_rng(10)
    source = np.clip(rng.normal(80, 20, (3, 32, 64)), 0, 255).astype(np.uint8)
    paths = dict(rasters, source=write_raster(rasters["folder"] / "small.tif", source))
    cfg = config(paths, "cyclegan")
    reporter = Recorder()
    result = get_method("cyclegan").train(cfg, reporter)
    assert result["parameters"] == 11_378_179 and result["iterations"] == 1
    assert result["seconds_per_iteration"] > 0
    assert result["target_window"] == [0, 0, 64, 64]
    assert any("whole TARGET layer" in w for w in reporter.warnings)
    tensors, meta = load_model(cfg.output, "translator")
    assert meta["method"] == "cyclegan" and meta["bands"] == [1, 2, 3]
    assert sum(v.numel() for k, v in tensors.items() if k.startswith("generator.")) == 11_378_179
    out = str(rasters["folder"] / "cyclegan.tif")
    summary = translate_raster(paths["source"], cfg.output, out, overlap=0, device="cpu",
                               reporter=Reporter())
    assert summary["window"] == 32  # the training patch size
    assert_same_grid(out, paths["source"])
    values = gdal.Open(out).ReadAsArray()
    assert values.std() > 0  # a real image came out, not a constant


def test_cyclegan_refuses_a_target_too_small_to_sample(tmp_path):
    rng = np.random.default_rng(8)
    paths = {"source": write_raster(tmp_path / "s.tif", rng.integers(0, 255, (3, 40, 40))),
             "target": write_raster(tmp_path / "t.tif", rng.integers(0, 255, (3, 24, 40))),
             "folder": tmp_path}
    with pytest.raises(LrmError, match="TARGET.*PATCH_SIZE"):
        get_method("cyclegan").train(config(paths, "cyclegan"), Reporter())
    assert not os.path.exists(tmp_path / "cyclegan.safetensors")


def test_colour_index_orders_colours_like_rgb_triplets():
    colours = np.array([[[[0]], [[0]], [[0]]], [[[255]], [[255]], [[255]]],
                        [[[1]], [[2]], [[3]]]])
    assert colour_index(colours).ravel().tolist() == [0, 256 ** 3 - 1, 65536 + 2 * 256 + 3]


@pytest.mark.slow
def test_colormapgan_has_the_published_size_trains_and_translates(rasters):
    cfg = config(rasters, "colormapgan", learning_rate=0.05)  # one visible step
    result = get_method("colormapgan").train(cfg, Reporter())
    assert result["parameters"] == 256 ** 3 * 3 * 2 == 100_663_296
    assert round(result["parameters"] / 1e6, 3) == 100.663  # Table I of the LRM paper
    assert result["iterations"] == 1 and result["changed_colours"] > 0
    tensors, meta = load_model(cfg.output, "translator")
    assert meta["method"] == "colormapgan" and meta["parameters"] == 100_663_296
    translator = get_method("colormapgan").load(tensors, meta, "cpu")
    out = str(rasters["folder"] / "colormapgan.tif")
    translate_raster(rasters["source"], cfg.output, out, overlap=8, device="cpu",
                     reporter=Reporter())
    assert_same_grid(out, rasters["source"])
    source = gdal.Open(rasters["source"]).ReadAsArray()
    values = gdal.Open(out).ReadAsArray()
    # A per-colour map: colours changed in training move, all others stay as they are.
    learned = np.isin(colour_index(source.astype(np.int64)[None])[0], translator.colours)
    assert learned.any() and (~learned).any()
    assert np.array_equal(values[:, ~learned], source[:, ~learned])
    assert (values[:, learned] != source[:, learned]).any()
    # It indexes 8-bit colours: values beyond 255 are refused when translating.
    wide = write_raster(rasters["folder"] / "wide.tif", source.astype(np.uint16) * 4,
                        gdal.GDT_UInt16)
    with pytest.raises(LrmError, match="8-bit"):
        translate_raster(wide, cfg.output, str(rasters["folder"] / "wide_out.tif"),
                         device="cpu", reporter=Reporter())


def test_colour_table_starts_as_the_identity():
    import torch

    table = ColourTable()
    assert count_parameters(table) == 100_663_296
    colours = torch.tensor([[[[0.0, 255.0]], [[17.0, 128.0]], [[200.0, 3.0]]]])
    torch.testing.assert_close(table(colours), colours / 127.5 - 1.0)


@pytest.mark.parametrize("dtype,bands,message", [(gdal.GDT_UInt16, 3, "8-bit"),
                                                 (gdal.GDT_Byte, 4, "exactly 3 bands")])
def test_colormapgan_refuses_what_it_cannot_index(tmp_path, dtype, bands, message):
    rng = np.random.default_rng(9)
    paths = {"source": write_raster(tmp_path / "s.tif", rng.integers(0, 255, (bands, 40, 40)),
                                    dtype),
             "target": write_raster(tmp_path / "t.tif", rng.integers(0, 255, (bands, 40, 40)),
                                    dtype),
             "folder": tmp_path}
    spec = ",".join(str(b + 1) for b in range(bands))
    with pytest.raises(LrmError, match=message):
        get_method("colormapgan").train(config(paths, "colormapgan", bands=spec), Reporter())
