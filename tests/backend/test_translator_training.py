"""LRM translator training: losses go down, model file contents, early stopping,
repeatability, and a killed (cancelled) worker leaves a loadable model."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal
import pytest
import torch

from models.storage.model_file import load_model
from models.translation.config import TranslatorConfig
from models.translation.methods.lrm import method as lrm
from models.translation.methods.lrm import vgg as vgg_module
from models.translation.methods.lrm.network import Discriminator, Generator
from models.translation.methods.lrm.trainer import Trainer
from translation_rasters import (ROOT, RecordingReporter, one_torch_thread,  # noqa: F401
                                 source_and_target, texture, tiny_config)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lrm_training")
    source, target, _, _ = source_and_target(str(folder))
    return folder, source, target


def test_a_few_training_steps_lower_the_loss():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    source = torch.from_numpy(np.stack([texture(rng, (70, 90, 60), (20,) * 3, (3, 32, 32))
                                        for _ in range(2)]).astype(np.float32))
    target = torch.from_numpy(texture(rng, (180, 120, 160), (25,) * 3, (3, 32, 32))
                              .astype(np.float32))[None]
    gen = Generator(3)
    both = torch.cat([source, target]).transpose(0, 1).reshape(3, -1)
    gen.set_standardization(both.mean(1), both.std(1))
    features = vgg_module.VGGFeatures(vgg_module._features())
    trainer = Trainer(gen, Discriminator(3), features, target, TranslatorConfig(batch_size=2),
                      torch.device("cpu"), total_steps=10)
    before = trainer.validate([source])
    for _ in range(10):
        trainer.step(source)
    after = trainer.validate([source])
    assert after["total"] < before["total"]
    assert after["rec"] < before["rec"]


def test_training_writes_a_self_contained_model_file(rasters):
    folder, source, target = rasters
    reporter = RecordingReporter()
    config = tiny_config(source, target, folder / "model.safetensors", max_iterations=6)
    result = lrm.train(config, reporter)

    assert result["output"] == str(folder / "model.safetensors")
    assert result["parameters"] == 114659
    assert result["iterations"] == 6 and result["epochs_run"] == 3  # 8 train patches, batch 4
    assert result["seconds_per_iteration"] > 0
    assert np.isfinite(result["best_validation_loss"])
    x, y, w, h = result["target_window"]
    assert (w, h) == (32, 32) and 0 <= x <= 32 and 0 <= y <= 32
    assert result["device"].startswith("cpu")

    tensors, meta = load_model(result["output"], expected_kind="translator")
    # the one-shot patch stored in the file is the target's pixels at the reported window
    # (8-bit: identity scaling, so model units are the raw values)
    pixels = gdal.Open(target).ReadAsArray(x, y, w, h).astype(np.float32)
    np.testing.assert_array_equal(tensors["target_image"].numpy(), pixels)
    assert meta["method"] == "lrm" and meta["architecture_version"] == 1
    assert meta["bands"] == [1, 2, 3] and meta["patch_size"] == 32
    assert meta["input_scaling"]["mode"] == "identity"  # all rasters are 8-bit
    assert meta["target"]["window"] == result["target_window"]
    assert meta["training"]["lambda_adv"] == 1000 and meta["training"]["seed"] == 0
    assert [e["epoch"] for e in meta["loss_history"]] == [1, 2, 3]
    assert meta["perceptual_loss"] == "weight_free"  # offline, no VGG19 weights: auto's choice
    assert {"rec", "structure", "style", "total"} <= set(meta["loss_history"][0]["validation"])
    assert tensors["target_style"].shape == (32, 1, 1)  # weight_free mixes the style globally
    assert tensors["target_image"].shape == (3, 32, 32)

    progress = [e[1] for e in reporter.of("progress")]
    assert len(progress) >= 6 and progress == sorted(progress)
    epochs = [e for e in reporter.of("info") if e[1].startswith("epoch ")]
    assert len(epochs) == 3 and "validation" in epochs[0][1]
    assert [e[3]["epoch"] for e in reporter.of("metric") if e[1] == "val_loss"] == [1, 2, 3]
    # offline without VGG19 weights, auto says so and trains weight-free (no random VGG19)
    assert not any("RANDOMLY INITIALISED" in e[1] for e in reporter.of("warning"))
    assert any("weight-free losses" in e[1] for e in reporter.of("info"))


def test_same_seed_gives_the_same_model_on_cpu(rasters):
    folder, source, target = rasters
    weights = []
    for name in ("a", "b"):
        config = tiny_config(source, target, folder / f"seed_{name}.safetensors",
                             max_iterations=2, seed=7)
        lrm.train(config, RecordingReporter())
        weights.append(load_model(config.output)[0])
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key])


def test_early_stopping_after_patience_epochs_without_improvement(rasters):
    folder, source, target = rasters
    # with only the adversarial weight, the validation loss (rec, content, style) is 0
    # from the first epoch on and never improves again
    # (the VGG19 family: the LAMBDA_* weights are its own)
    config = tiny_config(source, target, folder / "early.safetensors", max_iterations=0,
                         patience=2, lambda_rec=0, lambda_content=0, lambda_style=0,
                         perceptual_loss="vgg19_random")
    result = lrm.train(config, RecordingReporter())
    assert result["stopped_by"] == "early_stopping"
    assert result["epochs_run"] == 3 and result["best_epoch"] == 1
    assert os.path.isfile(config.output)


def test_weight_free_early_stopping_waits_for_the_anchor_to_be_released(rasters):
    """The validation loss cannot settle while the anchor still holds the translation
    back, so epochs without improvement count only after its release (70% of the run)."""
    folder, source, target = rasters
    config = tiny_config(source, target, folder / "early_wf.safetensors", max_iterations=0,
                         epochs=10, patience=1, perceptual_loss="weight_free")
    result = lrm.train(config, RecordingReporter())
    assert result["epochs_run"] >= 8, result["epochs_run"]
    assert result["stopped_by"] in ("early_stopping", "epochs")


def test_killed_training_leaves_the_best_model_so_far(rasters, tmp_path):
    """Cancel in QGIS kills the worker; the model saved before must load and translate."""
    folder, source, target = rasters
    model = tmp_path / "cancelled.safetensors"
    cmd = [sys.executable, "-m", "models", "train-translator", "--jsonl", "--source", source,
           "--target", target, "--patch-size", "32", "--batch-size", "4", "--epochs", "1000",
           "--patience", "0", "--device", "cpu", "--output", str(model)]
    env = dict(os.environ, LRM_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    events = []
    try:
        deadline = time.monotonic() + 240
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["type"] == "info" and "saved" in events[-1]["message"]:
                break
            assert time.monotonic() < deadline, "no model saved in time"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert not any(e["type"] in ("result", "error") for e in events)
    assert any(e["type"] == "progress" for e in events)

    tensors, meta = load_model(str(model), expected_kind="translator")
    translator = lrm.load(tensors, meta, torch.device("cpu"))
    out = translator.translate(np.full((1, 3, 32, 32), 80, np.float32))
    assert out.shape == (1, 3, 32, 32) and np.isfinite(out).all()
