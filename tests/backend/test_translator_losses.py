"""The LRM translator's loss families (PERCEPTUAL_LOSS), the weight-free losses' properties,
STYLE_MIXING and ONE_SHOT_SIZE: real training steps on tiny rasters."""

import os

import numpy as np
import pytest
import torch

from models.errors import LrmError
from models.storage.model_file import load_model, read_metadata
from models.translation.apply import translate_raster
from models.translation.scaling import InputScaling
from models.translation.methods.lrm import method as lrm
from models.translation.methods.lrm import perceptual
from models.translation.methods.lrm import weight_free as wf
from models.translation.methods.lrm.network import Generator
from translation_rasters import (RecordingReporter, one_torch_thread, read,  # noqa: F401
                                 source_and_target, texture, tiny_config, write_raster,
                                 write_vgg19_weights)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lrm_losses")
    source, target, _, _ = source_and_target(str(folder), size=96, target_size=80)
    return folder, source, target


@pytest.fixture()
def no_vgg_anywhere(tmp_path, monkeypatch):
    """Offline, with an empty torch hub cache: no ImageNet VGG19 can be found."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty_hub"))
    monkeypatch.setenv("LRM_OFFLINE", "1")


@pytest.fixture(scope="module")
def vgg_weights(tmp_path_factory):
    """A test-made VGG19 weights file with torchvision's key names (conv layers only)."""
    return write_vgg19_weights(tmp_path_factory.mktemp("vgg"))[0]


# -- the enum options, trained for real -------------------------------------------------

@pytest.mark.parametrize("choice, weights, used", [
    ("auto", False, "weight_free"),
    ("auto", True, "vgg19_imagenet"),
    ("vgg19_imagenet", True, "vgg19_imagenet"),
    ("weight_free", False, "weight_free"),
    ("vgg19_random", False, "vgg19_random"),
])
def test_each_loss_family_trains_and_is_recorded(rasters, vgg_weights, no_vgg_anywhere, choice,
                                                weights, used):
    folder, source, target = rasters
    output = folder / f"{choice}_{weights}.safetensors"
    config = tiny_config(source, target, output, max_iterations=3, perceptual_loss=choice,
                         vgg_weights=vgg_weights if weights else None)
    result = lrm.train(config, RecordingReporter())
    assert result["perceptual_loss_used"] == used
    meta = read_metadata(str(output), "translator")
    assert meta["perceptual_loss"] == used
    assert meta["training"]["perceptual_loss"] == choice
    history = meta["loss_history"][-1]["train"]
    if used == "weight_free":
        assert {"style", "structure", "adv"} <= set(history) and "content" not in history
        assert meta["style_mixing"] == "global"
    else:
        assert {"style", "content", "adv"} <= set(history)
        assert meta["style_mixing"] == "spatial"
    assert all(np.isfinite(v) for v in history.values())


def test_vgg19_imagenet_without_weights_is_an_error_naming_vgg_weights(rasters, no_vgg_anywhere):
    folder, source, target = rasters
    output = folder / "must_not_exist.safetensors"
    config = tiny_config(source, target, output, perceptual_loss="vgg19_imagenet")
    with pytest.raises(LrmError, match="VGG_WEIGHTS") as caught:
        lrm.train(config, RecordingReporter())
    assert "auto or weight_free" in str(caught.value)
    assert not os.path.exists(output)


def test_auto_never_uses_a_random_vgg_silently(rasters, no_vgg_anywhere):
    folder, source, target = rasters
    reporter = RecordingReporter()
    config = tiny_config(source, target, folder / "auto.safetensors", max_iterations=2)
    assert lrm.train(config, reporter)["perceptual_loss_used"] == "weight_free"
    infos = " ".join(e[1] for e in reporter.of("info"))
    assert "weight-free" in infos and "VGG_WEIGHTS" in infos
    assert not any("RANDOMLY" in e[1] for e in reporter.of("warning"))


def test_describe_auto_choice_follows_the_cache(tmp_path, monkeypatch, vgg_weights):
    monkeypatch.setenv("LRM_OFFLINE", "1")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    offline = perceptual.describe_auto_choice()
    assert offline["choice"] == "weight_free" and "offline" in offline["reason"]
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / os.path.basename(vgg_weights)).symlink_to(vgg_weights)
    cached = perceptual.describe_auto_choice()
    assert cached["choice"] == "vgg19_imagenet" and str(checkpoints) in cached["reason"]


# -- properties of the weight-free losses ------------------------------------------------

def _smooth_image(seed, size=64):
    rng = np.random.default_rng(seed)
    image = texture(rng, (90, 120, 100), (30, 25, 35), (3, size, size))
    return image.astype(np.float32)


def _standardised(raw, dtype):
    """Through the real input scaling and the generator's standardisation, as in training."""
    scaling = InputScaling.from_samples([raw.reshape(3, -1)], [dtype])
    model = scaling.to_model(raw)
    gen = Generator(3)
    gen.set_standardization(model.reshape(3, -1).mean(1), model.reshape(3, -1).std(1))
    return gen.standardize(torch.from_numpy(model)[None])


def test_weight_free_losses_do_not_depend_on_the_value_range():
    a, b = _smooth_image(1), _smooth_image(2)
    both = np.concatenate([a, b], axis=2)
    eight_bit = _standardised(both, np.uint8)
    as_float = _standardised(both.astype(np.float64) * 257.0, np.float32)
    torch.testing.assert_close(eight_bit, as_float, rtol=1e-4, atol=1e-4)
    for x in (eight_bit, as_float):
        left, right = x[..., :64], x[..., 64:]
        values = (wf.structure_loss(left, right).item(),
                  wf.style_loss(left, right, torch.Generator().manual_seed(0)).item())
        if x is eight_bit:
            reference = values
    np.testing.assert_allclose(values, reference, rtol=1e-3)


def test_structure_loss_ignores_colour_changes_but_not_shuffles():
    x = torch.from_numpy(_smooth_image(4, 96))[None]
    x = (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True)
    mixing = torch.tensor([[0.8, 0.3, -0.2], [0.1, 1.2, 0.4], [-0.3, 0.2, 0.9]])
    recoloured = torch.einsum("ij,njhw->nihw", mixing, x) * 1.7 + 0.5
    shuffled = x.reshape(1, 3, -1)[:, :, torch.randperm(96 * 96, generator=torch.Generator().manual_seed(0))]
    shuffled = shuffled.reshape(x.shape)
    assert wf.structure_loss(recoloured, x).item() < 0.05
    assert wf.structure_loss(shuffled, x).item() > 0.7
    assert wf.structure_loss(torch.zeros_like(x), x).item() > 0.4  # a flat output loses structure


def test_style_loss_sees_cross_band_changes_that_marginals_miss():
    """Swapping which pixels carry which value of band 1 keeps every per-band histogram
    but changes the joint colour distribution: the sliced Wasserstein term sees it."""
    x = torch.from_numpy(_smooth_image(5, 64))[None]
    x = (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True)
    y = x.clone()
    y[:, 1] = -x[:, 1] + 2 * x[:, 1].mean()  # band 1 reflected: marginals of symmetric data ~kept
    gen = torch.Generator().manual_seed(0)
    same = wf.style_loss(x, x.flip(-1), gen).item()
    changed = wf.style_loss(y, x, torch.Generator().manual_seed(0)).item()
    assert changed > 5 * max(same, 1e-3)


def test_augment_gives_crops_of_the_requested_size_and_differs_between_draws():
    images = torch.arange(2 * 3 * 40 * 40, dtype=torch.float32).reshape(2, 3, 40, 40)
    gen = torch.Generator().manual_seed(0)
    first, second = wf.augment(images, 32, gen), wf.augment(images, 32, gen)
    assert first.shape == (2, 3, 32, 32)
    assert not torch.equal(first, second)


# -- STYLE_MIXING and ONE_SHOT_SIZE -------------------------------------------------------

@pytest.mark.parametrize("mixing", ["spatial", "global"])
def test_style_mixing_is_saved_and_translation_follows_it(rasters, no_vgg_anywhere, mixing):
    folder, source, target = rasters
    model = folder / f"mix_{mixing}.safetensors"
    config = tiny_config(source, target, model, max_iterations=3, perceptual_loss="weight_free",
                         style_mixing=mixing, one_shot_size=0)
    lrm.train(config, RecordingReporter())
    tensors, meta = load_model(str(model), expected_kind="translator")
    assert meta["style_mixing"] == mixing
    expected = (32, 1, 1) if mixing == "global" else (32, 16, 16)
    assert tuple(tensors["target_style"].shape) == expected
    out = folder / f"translated_{mixing}.tif"
    translate_raster(source, str(model), str(out), overlap=8, device="cpu")
    translated = read(out)
    assert translated.shape == read(source).shape and np.isfinite(translated).all()


def test_one_shot_sample_is_one_shot_size_or_the_largest_square_that_fits(rasters, no_vgg_anywhere):
    folder, source, target = rasters  # target is 80x80
    for asked, expected in ((0, 32), (48, 48), (47, 46), (512, 80), (16, 32)):
        model = folder / f"one_shot_{asked}.safetensors"
        config = tiny_config(source, target, model, max_iterations=1, one_shot_size=asked,
                             perceptual_loss="weight_free", style_mixing="spatial")
        result = lrm.train(config, RecordingReporter())
        assert result["one_shot_size"] == expected
        x, y, w, h = result["target_window"]
        assert (w, h) == (expected, expected) and x + w <= 80 and y + h <= 80
        tensors, meta = load_model(str(model), expected_kind="translator")
        assert tuple(tensors["target_image"].shape) == (3, expected, expected)
        assert tuple(tensors["target_style"].shape) == (32, expected // 2, expected // 2)


def test_one_shot_size_is_shared_by_the_other_methods(rasters):
    from models.translation.methods import histogram_matching

    folder, source, target = rasters
    config = tiny_config(source, target, folder / "hm.safetensors", method="histogram_matching",
                         one_shot_size=64)
    assert histogram_matching.train(config, RecordingReporter())["target_window"][2:] == [64, 64]


def test_weight_free_training_moves_colours_towards_the_target(tmp_path, no_vgg_anywhere):
    """A few dozen steps already pull the source's joint colour distribution towards the
    one-shot target while the layout stays correlated with the source."""
    rng = np.random.default_rng(0)
    src = texture(rng, (70, 90, 60), (20,) * 3, (3, 96, 96))
    tgt = texture(rng, (170, 110, 150), (25,) * 3, (3, 96, 96))
    source = write_raster(tmp_path / "s.tif", src)
    target = write_raster(tmp_path / "t.tif", tgt)
    model = tmp_path / "m.safetensors"
    config = tiny_config(source, target, model, max_iterations=40, patch_size=48,
                         perceptual_loss="weight_free", learning_rate=3e-3)
    reporter = RecordingReporter()
    diagnostics = lrm.train(config, reporter)["diagnostics"]
    # the label-free check agrees: closer to the target's look, layout kept
    assert diagnostics["style_translated"] < diagnostics["style_source"]
    assert diagnostics["style_moved"] > 0.3 and diagnostics["structure"] < 0.5
    assert any("closer to the one-shot sample" in e[1] for e in reporter.of("info"))
    assert read_metadata(str(model), "translator")["diagnostics"] == diagnostics
    translate_raster(source, str(model), str(tmp_path / "out.tif"), overlap=8, device="cpu")
    out = read(tmp_path / "out.tif").astype(float)
    before = np.abs(src.reshape(3, -1).mean(1) - tgt.reshape(3, -1).mean(1)).mean()
    after = np.abs(out.reshape(3, -1).mean(1) - tgt.reshape(3, -1).mean(1)).mean()
    assert after < 0.5 * before
    corr = np.corrcoef(out.mean(0).ravel(), src.astype(float).mean(0).ravel())[0, 1]
    assert corr > 0.5


# -- the anchor: least-displacement colour maps ---------------------------------------------

def test_anchor_weight_starts_full_and_is_released_by_its_share_of_the_run():
    total = 300
    assert wf.anchor_weight(1, total) == pytest.approx(wf.WEIGHTS["anchor"] * (1 - 1 / 210))
    assert 0 < wf.anchor_weight(100, total) < wf.anchor_weight(50, total)
    release = int(wf.ANCHOR_RELEASE * total)
    assert wf.anchor_weight(release, total) == 0 and wf.anchor_weight(total, total) == 0


def _two_materials(rng, first, second, share_first):
    """(3, 96, 96) uint8: 12-px blocks of two textured colours, ``share_first`` of them the
    first, and the mask of the first."""
    cells = rng.random((8, 8)) < share_first
    mask = np.kron(cells, np.ones((12, 12), bool))
    image = np.where(mask[None], np.asarray(first, float)[:, None, None],
                     np.asarray(second, float)[:, None, None])
    image = image + rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), mask


def test_anchored_translator_keeps_each_material_on_its_own_target_colour(tmp_path, no_vgg_anywhere):
    """When the one-shot sample's proportions differ from the source's (here 60% vs 35% of
    the first material), every colour map that moves some of the second material's pixels
    to the first one's colour matches the sample equally well, and one that swaps them
    matches it too. The anchor selects the least-displacement one: each material ends
    nearer its own (recoloured) target colour than the other material's."""
    rng = np.random.default_rng(3)
    src, mask = _two_materials(rng, (70, 120, 70), (160, 90, 150), 0.35)
    tgt, _ = _two_materials(rng, (85, 130, 60), (175, 100, 135), 0.6)
    source = write_raster(tmp_path / "s.tif", src)
    target = write_raster(tmp_path / "t.tif", tgt)
    model = tmp_path / "m.safetensors"
    config = tiny_config(source, target, model, max_iterations=40, patch_size=48,
                         perceptual_loss="weight_free", learning_rate=3e-3)
    lrm.train(config, RecordingReporter())
    meta = read_metadata(str(model), "translator")
    assert meta["weight_free_losses"]["anchor_release"] == wf.ANCHOR_RELEASE
    translate_raster(source, str(model), str(tmp_path / "out.tif"), overlap=8, device="cpu")
    out = read(tmp_path / "out.tif").astype(float)
    first, second = np.array([85, 130, 60.0]), np.array([175, 100, 135.0])
    for region, own, other in ((mask, first, second), (~mask, second, first)):
        colour = out[:, region].mean(1)
        assert np.abs(colour - own).sum() < np.abs(colour - other).sum()


def _weight_free_trainer(total_steps):
    from models.translation.config import TranslatorConfig
    from models.translation.methods.lrm.network import Discriminator
    from models.translation.methods.lrm.trainer import Trainer

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    source = torch.from_numpy(np.stack([texture(rng, (70, 90, 60), (20,) * 3, (3, 48, 48))
                                        for _ in range(2)]).astype(np.float32))
    target = torch.from_numpy(texture(rng, (150, 110, 130), (25,) * 3, (3, 48, 48))
                              .astype(np.float32))[None]
    gen = Generator(3)
    both = torch.cat([source, target]).transpose(0, 1).reshape(3, -1)
    gen.set_standardization(both.mean(1), both.std(1))
    trainer = Trainer(gen, Discriminator(3), None, target,
                      TranslatorConfig(batch_size=2, patch_size=48, learning_rate=3e-3),
                      torch.device("cpu"), total_steps=total_steps, mixing="global")
    return trainer, source


def _displacement(trainer, source):
    """Standardised L1 distance of the translation from the source, as training sees it."""
    with torch.no_grad():
        _, translated, _ = trainer._forward(source, trainer.target_view(training=False))
        std = trainer.gen.standardize
        return float(wf.anchor_loss(std(translated.float()), std(source)))


def _displacement_after(steps, anchor_weight, monkeypatch):
    monkeypatch.setitem(wf.WEIGHTS, "anchor", anchor_weight)
    trainer, source = _weight_free_trainer(total_steps=400)
    for _ in range(steps):
        trainer.step(source)
    assert trainer.anchor_released == (anchor_weight == 0)
    return _displacement(trainer, source)


def test_the_anchor_holds_every_pixel_back_by_its_own_displacement(monkeypatch):
    """Same seed, same data, same steps: while the anchor weighs (early in the run) the
    translation moves towards the target by less than without it, so the map it settles
    on is chosen among the least-displacement ones; the style still pulls it away from
    the source (the anchor is not a copy of the input)."""
    anchored = _displacement_after(25, 1.0, monkeypatch)
    free = _displacement_after(25, 0.0, monkeypatch)
    assert anchored < 0.85 * free, (anchored, free)
