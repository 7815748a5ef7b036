"""DualGAN and Benjdira et al.: parameter counts against Table I of the LRM paper, real
training steps on tiny rasters, the direction each model file translates, translation
through the windowed path, and their bad-input errors."""

import os

import numpy as np
import pytest
import torch
from osgeo import gdal

from models.errors import LrmError
from models.runtime.reporting import Reporter
from models.storage.model_file import load_model
from models.translation.apply import translate_raster
from models.translation.methods.common import count_parameters
from models.translation.methods.dualgan import CLIP, DualGan
from models.translation.methods.gan_networks import UNetGenerator
from models.translation.registry import get_method
from test_methods_gan import (Recorder, assert_same_grid, config, conv,  # noqa: F401
                              one_torch_thread, rasters, write_raster)


def test_dualgan_generator_has_the_published_parameter_count():
    # pix2pix's seven-level U-Net: 4x4 convs; no bias where batch norm (2 parameters per
    # channel) follows; the decoder's inputs are the previous level and the skip.
    normed_down = [(64, 128), (128, 256), (256, 512), (512, 512), (512, 512)]
    normed_up = [(512, 512), (1024, 512), (1024, 512), (1024, 256), (512, 128), (256, 64)]
    expected = (conv(3, 64, 4) + conv(512, 512, 4) + conv(128, 3, 4)  # no norm: a bias
                + sum(conv(a, b, 4, bias=False) + 2 * b for a, b in normed_down + normed_up))
    generator = UNetGenerator(3, 3)
    assert count_parameters(generator) == expected == 41_829_571
    # Table I of the LRM paper: 41.828M (0.004% less; same architecture up to rounding
    # or a layer counted differently there).
    assert abs(expected / 1e6 - 41.828) < 0.005
    assert generator.window_multiple == 128
    out = generator(torch.zeros(2, 3, 256, 128))
    assert out.shape == (2, 3, 256, 128)


def test_a_dualgan_step_clips_the_critics_and_moves_both_generators():
    torch.manual_seed(0)
    model = DualGan(3, torch.device("cpu"), 5e-5, np.random.default_rng(0))
    before = [p.detach().clone() for p in (next(model.g_st.parameters()),
                                           next(model.g_ts.parameters()))]
    s, t = torch.rand(1, 3, 128, 128) * 2 - 1, torch.rand(1, 3, 128, 128) * 2 - 1
    losses = model.step(s, t)
    assert all(np.isfinite(v) for v in losses.values())
    assert max(p.abs().max().item() for p in model.critic_parameters) <= CLIP + 1e-7
    after = [next(model.g_st.parameters()), next(model.g_ts.parameters())]
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
    assert all(p.requires_grad for p in model.critic_parameters)


def test_dualgan_refuses_a_patch_size_its_unet_cannot_halve(rasters):
    with pytest.raises(LrmError, match="multiple of 128"):
        get_method("dualgan").train(config(rasters, "dualgan"), Reporter())  # 32 px
    assert not os.path.exists(rasters["folder"] / "dualgan.safetensors")


@pytest.mark.slow
def test_dualgan_trains_and_translates_a_raster(tmp_path):
    rng = np.random.default_rng(11)
    source = np.clip(rng.normal((70, 90, 60), 15, (128, 256, 3)), 0, 255).astype(np.uint8)
    target = np.clip(rng.normal((170, 120, 150), 25, (256, 256, 3)), 0, 255).astype(np.uint8)
    paths = {"source": write_raster(tmp_path / "s.tif", source.transpose(2, 0, 1)),
             "target": write_raster(tmp_path / "t.tif", target.transpose(2, 0, 1)),
             "folder": tmp_path}
    cfg = config(paths, "dualgan", patch_size=128)
    reporter = Recorder()
    result = get_method("dualgan").train(cfg, reporter)
    assert result["parameters"] == 41_829_571 and result["iterations"] == 1
    assert result["direction"] == "source_to_target"
    assert result["parameters_total"] == 2 * 41_829_571 + 2 * 2_764_737
    assert any("whole TARGET layer" in w for w in reporter.warnings)
    tensors, meta = load_model(cfg.output, "translator")
    assert meta["method"] == "dualgan" and meta["direction"] == "source_to_target"
    out = str(tmp_path / "dualgan.tif")
    summary = translate_raster(paths["source"], cfg.output, out, overlap=0, device="cpu",
                               reporter=Reporter())
    assert summary["window"] % 128 == 0
    assert_same_grid(out, paths["source"])
    assert gdal.Open(out).ReadAsArray().std() > 0


@pytest.mark.slow
def test_benjdira_keeps_the_target_to_source_generator(rasters):
    # The same CycleGAN, same seed, one iteration: CycleGAN's file holds the SOURCE->TARGET
    # generator, Benjdira's the TARGET->SOURCE one (differently initialised, so different).
    rng = np.random.default_rng(10)
    source = np.clip(rng.normal(80, 20, (3, 32, 64)), 0, 255).astype(np.uint8)
    paths = dict(rasters, source=write_raster(rasters["folder"] / "small_b.tif", source))
    files = {}
    for method in ("cyclegan", "benjdira"):
        cfg = config(paths, method, output=str(rasters["folder"] / f"dir_{method}.safetensors"))
        result = get_method(method).train(cfg, Reporter())
        assert result["parameters"] == 11_378_179
        files[method] = load_model(cfg.output, "translator")
    (cycle_tensors, cycle_meta), (tensors, meta) = files["cyclegan"], files["benjdira"]
    assert (cycle_meta["direction"], meta["direction"]) == ("source_to_target",
                                                            "target_to_source")
    assert meta["method"] == "benjdira" and meta["parameters"] == 11_378_179
    assert any(not torch.equal(cycle_tensors[k], tensors[k]) for k in tensors)
    # Its model translates TARGET rasters towards the SOURCE look.
    out = str(rasters["folder"] / "benjdira_target.tif")
    translate_raster(paths["target"], str(rasters["folder"] / "dir_benjdira.safetensors"), out,
                     overlap=0, device="cpu", reporter=Reporter())
    assert_same_grid(out, paths["target"])
    assert gdal.Open(out).ReadAsArray().std() > 0
