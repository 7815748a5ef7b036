"""LRM translator networks, VGG19 loading and losses (no training loop)."""

import pathlib
import socket

import numpy as np
import pytest
import torch

from models.errors import LrmError
from models.runtime.reporting import Reporter
from models.translation.methods.lrm import vgg as vgg_module
from models.translation.methods.lrm.losses import gram
from models.translation.methods.lrm.method import mirror_index, tile_style
from models.translation.methods.lrm.network import (BatchInstanceNorm2d, Discriminator, Generator,
                                       count_parameters)
from translation_rasters import RecordingReporter, one_torch_thread, write_vgg19_weights  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_three_band_translator_has_the_published_114659_parameters():
    gen = Generator(3)
    assert count_parameters(gen.encoder) == 57408
    assert count_parameters(gen.decoder) == 57251
    assert count_parameters(gen) == 114659
    assert count_parameters(Discriminator(3)) == 2764737


def test_four_band_model_translates_four_bands():
    gen, dis = Generator(4), Discriminator(4)
    # only the first and last layers grow: 32*4*4 more input weights, 32*4*4 + 1 more outputs
    assert count_parameters(gen) == 114659 + 512 + 513
    x = torch.rand(2, 4, 64, 64) * 255
    latent = gen.encode(x)
    assert latent.shape == (2, 64, 32, 32)
    assert gen.decode_mixed(latent, latent.flip(0)).shape == (2, 4, 64, 64)
    assert dis(x).shape == (2, 1, 2, 2)


def test_bin_gate_is_clamped_to_a_convex_mix():
    norm = BatchInstanceNorm2d(3)
    with torch.no_grad():
        norm.gate.copy_(torch.tensor([1.7, 0.4, -0.3]))
    norm.clamp_gate_()
    assert norm.gate.tolist() == pytest.approx([1.0, 0.4, 0.0])


def test_bin_in_eval_mode_does_not_depend_on_the_batch():
    """Translation uses running statistics: a window's result must not depend on which
    other windows share its batch (else tiles would not match)."""
    torch.manual_seed(0)
    gen = Generator(3)
    gen.train()
    for _ in range(3):  # give BN some running statistics
        gen.encode(torch.rand(4, 3, 32, 32) * 255)
    gen.eval()
    a, b = torch.rand(1, 3, 32, 32) * 255, torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        alone = gen.decode(gen.encode(a))
        together = gen.decode(gen.encode(torch.cat([a, b])))[:1]
    torch.testing.assert_close(alone, together, rtol=1e-4, atol=1e-3)


def test_training_batch_of_one_still_gives_batch_norm_two_images():
    """BATCH_SIZE 1: the source is encoded together with the one-shot target, so the BN
    branch sees batch statistics of two images, not a degenerate single-image batch."""
    from models.translation.config import TranslatorConfig
    from models.translation.methods.lrm.trainer import Trainer

    gen, dis = Generator(3), Discriminator(3)
    features = vgg_module.VGGFeatures(vgg_module._features())
    target = torch.rand(1, 3, 32, 32) * 255
    trainer = Trainer(gen, dis, features, target, TranslatorConfig(batch_size=1),
                      torch.device("cpu"), total_steps=4)
    seen = []
    first_bin = gen.encoder.layers[1]
    handle = first_bin.bn.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape[0]))
    trainer.step(torch.rand(1, 3, 32, 32) * 255)
    handle.remove()
    assert seen and seen[0] == 2
    gates = [m.gate for m in gen.modules() if isinstance(m, BatchInstanceNorm2d)]
    assert all(0 <= float(g.min()) and float(g.max()) <= 1 for g in (g.detach() for g in gates))


def test_target_style_is_mirror_tiled_and_anchored_to_the_raster():
    style = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4)
    # a window the size of the patch at the origin sees the style map itself
    torch.testing.assert_close(tile_style(style, [(0, 0)], 4, 4)[0], style)
    # a larger window continues it by mirror reflection (no jump at the seam)
    big = tile_style(style, [(0, 0)], 10, 9)[0]
    assert big.shape == (2, 10, 9)
    torch.testing.assert_close(big[:, 4:8, :4], style.flip(1))
    assert mirror_index(0, 10, 4).tolist() == [0, 1, 2, 3, 3, 2, 1, 0, 0, 1]
    # two overlapping windows of different sizes agree where they overlap
    whole = tile_style(style, [(0, 0)], 20, 20)[0]
    part = tile_style(style, [(3, 5)], 6, 7)[0]
    torch.testing.assert_close(part, whole[:, 5:11, 3:10])


def test_gram_is_float32_and_does_not_overflow_half_precision():
    features = torch.full((1, 4, 16, 16), 300.0, dtype=torch.float16)
    g = gram(features)
    assert g.dtype == torch.float32
    assert torch.isfinite(g).all()
    assert float(g[0, 0, 0]) == pytest.approx(300.0 ** 2 / 4, rel=1e-3)


def test_vgg_is_frozen_but_passes_gradients_to_the_image():
    features = vgg_module.VGGFeatures(vgg_module._features())
    features.train()  # stays in eval mode
    assert not features.training
    x = (torch.rand(1, 3, 32, 32) * 255).requires_grad_()
    out = features(x)
    assert set(out) == {"relu1_2", "relu2_2", "relu3_3", "relu4_3"}
    sum(v.sum() for v in out.values()).backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert all(p.grad is None and not p.requires_grad for p in features.parameters())


@pytest.fixture(scope="module")
def vgg_file(tmp_path_factory):
    path, state = write_vgg19_weights(tmp_path_factory.mktemp("vgg"))
    return pathlib.Path(path), state


def test_vgg_weights_load_from_the_vgg_weights_file(vgg_file):
    path, state = vgg_file
    features, source = vgg_module.load_vgg19(str(path), Reporter())
    assert source.startswith("file")
    torch.testing.assert_close(features.features[0].weight, state["features.0.weight"])
    torch.testing.assert_close(features.features[23].bias, state["features.23.bias"])


def test_vgg_weights_load_from_torchvisions_cache(vgg_file, tmp_path, monkeypatch):
    path, state = vgg_file
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / vgg_module.VGG19_FILENAME).symlink_to(path)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    features, source = vgg_module.load_vgg19(None, Reporter())
    assert "cache" in source
    torch.testing.assert_close(features.features[2].weight, state["features.2.weight"])


def test_offline_without_weights_falls_back_at_once_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty"))
    monkeypatch.setenv("LRM_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("no network probe may happen offline")

    monkeypatch.setattr(socket, "create_connection", no_network)
    reporter = RecordingReporter()
    features, source = vgg_module.load_vgg19(None, reporter)
    assert "random" in source
    (warning,) = [e[1] for e in reporter.of("warning")]
    assert "RANDOMLY INITIALISED" in warning and "worse" in warning
    assert "VGG_WEIGHTS" in warning and vgg_module.VGG19_URL in warning


@pytest.mark.parametrize("content, message", [
    (b"not a weights file", "cannot be read"),
    ({"something.else": torch.zeros(3)}, "not a VGG19 weights file"),
    ({"features.0.weight": torch.zeros(2, 2)}, "not a VGG19 weights file"),
])
def test_bad_vgg_weights_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "weights.pth"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(LrmError, match=message):
        vgg_module.load_vgg19(str(path), Reporter())


def test_missing_vgg_weights_file_is_an_error(tmp_path):
    with pytest.raises(LrmError, match="not found"):
        vgg_module.load_vgg19(str(tmp_path / "nope.pth"), Reporter())


def test_vgg_inputs_for_other_band_counts():
    assert vgg_module.vgg_channels(4) == [0, 1, 2]
    assert vgg_module.vgg_channels(1) == [0, 0, 0]
    assert np.array_equal(vgg_module.vgg_channels(2), [0, 1, 0])
