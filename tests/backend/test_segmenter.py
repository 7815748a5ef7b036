"""U-Net segmenter: network, encoder weights, training data checks, training, cancelling."""

import numpy as np
import pytest
import torch

from models.labels.classes import load_class_table
from models.errors import DeviceError, LrmError
from models.storage.model_file import load_model, read_metadata
from models.segmentation.encoder_weights import initialise_encoder
from models.segmentation.network import DECODER_CHANNELS, build_unet, count_parameters
from segmenter_rasters import (GEOTRANSFORM, THREE_CLASSES, RecordingReporter, block_labels,
                               image_for, make_pair, run_command, train_tiny, write_raster)


def test_resnet101_unet_has_the_papers_decoder_and_size():
    model = build_unet("resnet101", 3, 6)
    outs = [block.conv2[0].out_channels for block in model.decoder.blocks]
    assert tuple(outs) == DECODER_CHANNELS == (256, 128, 64, 32, 16)
    # environment facts: a U-Net with a ResNet-101 encoder has 51.5M parameters
    assert count_parameters(model) == pytest.approx(51.5e6, rel=0.005)


def test_input_channels_follow_bands():
    model = build_unet("resnet18", 5, 4)
    assert model.encoder.conv1.in_channels == 5
    assert model(torch.zeros(1, 5, 64, 64)).shape == (1, 4, 64, 64)


def test_unknown_encoder_lists_valid_names():
    with pytest.raises(LrmError) as err:
        build_unet("resnet1O1", 3, 6)
    message = str(err.value)
    assert "Unknown ENCODER 'resnet1O1'" in message
    assert "resnet101" in message and "mobilenet_v2" in message and "tu-" in message


def _torchvision_resnet18_state():
    import torchvision

    return torchvision.models.resnet18(weights=None, num_classes=1000).state_dict()


def test_encoder_weights_file_pth_with_classifier_head(tmp_path):
    state = _torchvision_resnet18_state()
    path = tmp_path / "resnet18-imagenet.pth"
    torch.save(state, path)
    model = build_unet("resnet18", 3, 2)
    info = initialise_encoder(model, "resnet18", 3, str(path), RecordingReporter())
    assert info["source"] == "file"
    assert torch.equal(model.encoder.conv1.weight, state["conv1.weight"])
    assert torch.equal(model.encoder.layer4[1].bn2.running_var, state["layer4.1.bn2.running_var"])


def test_encoder_weights_safetensors_with_prefix_and_four_bands(tmp_path):
    from safetensors.torch import save_file

    state = {f"encoder.{k}": v for k, v in _torchvision_resnet18_state().items()}
    path = tmp_path / "weights.safetensors"
    save_file(state, str(path))
    model = build_unet("resnet18", 4, 2)
    initialise_encoder(model, "resnet18", 4, str(path))
    rgb = state["encoder.conv1.weight"]
    conv = model.encoder.conv1.weight
    assert conv.shape[1] == 4
    # band 4 reuses the red filters; all scaled by 3/4 so the response keeps its size
    assert torch.allclose(conv[:, 0], rgb[:, 0] * 0.75) and torch.allclose(conv[:, 3], rgb[:, 0] * 0.75)
    assert torch.equal(model.encoder.layer1[0].conv1.weight, state["encoder.layer1.0.conv1.weight"])


def test_encoder_weights_of_other_architectures_are_rejected(tmp_path):
    import torchvision

    bigger = tmp_path / "resnet34.pth"
    torch.save(torchvision.models.resnet34(weights=None).state_dict(), bigger)
    with pytest.raises(LrmError, match="larger architecture"):
        initialise_encoder(build_unet("resnet18", 3, 2), "resnet18", 3, str(bigger))
    other = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3, 3, 3)}, other)
    with pytest.raises(LrmError, match="tensors are missing"):
        initialise_encoder(build_unet("resnet18", 3, 2), "resnet18", 3, str(other))
    with pytest.raises(LrmError, match="not found"):
        initialise_encoder(build_unet("resnet18", 3, 2), "resnet18", 3, str(tmp_path / "no.pth"))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(LrmError, match="Cannot read ENCODER_WEIGHTS"):
        initialise_encoder(build_unet("resnet18", 3, 2), "resnet18", 3, str(garbage))


def test_offline_without_weights_warns_how_to_provide_them(monkeypatch):
    monkeypatch.setenv("LRM_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", "/nonexistent-hf-cache")
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", "/nonexistent-hf-cache")
    reporter = RecordingReporter()
    info = initialise_encoder(build_unet("resnet18", 3, 2), "resnet18", 3, None, reporter)
    assert info["source"] == "random"
    assert any("random initialisation" in w and "ENCODER_WEIGHTS" in w for w in reporter.warnings)


# --- training data checks --------------------------------------------------------------

def _pair_args(pairs):
    args = []
    for image, labels in pairs:
        args += ["--images", image, "--labels", labels]
    return args


def _train(tmp_path, *args):
    return run_command("train-segmenter", *args, "--classes", THREE_CLASSES, "--encoder",
                       "resnet18", "--patch-size", 64, "--batch-size", 2, "--epochs", 1,
                       "--output", tmp_path / "m.safetensors")


def test_images_and_labels_must_pair_up(tmp_path):
    image, labels, _ = make_pair(tmp_path, "a", 64)
    with pytest.raises(LrmError, match="2 IMAGES but 1 LABELS"):
        _train(tmp_path, "--images", image, "--images", image, "--labels", labels)


def test_pair_of_different_sizes_is_named(tmp_path):
    a = make_pair(tmp_path, "a", 64)
    image_b, _, _ = make_pair(tmp_path, "b", 96)
    with pytest.raises(LrmError) as err:
        _train(tmp_path, *_pair_args([a[:2], (image_b, a[1])]))
    assert "pair 2" in str(err.value) and "b_image.tif" in str(err.value)
    assert "96x96 and 64x64" in str(err.value)


def test_pair_with_other_georeferencing_is_named(tmp_path):
    image, _, labels = make_pair(tmp_path, "a", 64)
    shifted = (GEOTRANSFORM[0] + 100,) + GEOTRANSFORM[1:]
    moved = write_raster(tmp_path / "moved_labels.tif", labels, geotransform=shifted)
    with pytest.raises(LrmError, match=r"pair 1 .*georeferencing differs"):
        _train(tmp_path, "--images", image, "--labels", moved)


def test_unknown_label_values_stop_training_with_counts(tmp_path):
    image, _, labels = make_pair(tmp_path, "a", 64)
    labels = labels.copy()
    labels[0, :10] = 9
    bad = write_raster(tmp_path / "bad.tif", labels)
    with pytest.raises(LrmError, match="9: 10 pixels"):
        _train(tmp_path, "--images", image, "--labels", bad)
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("flags, message", [
    (["--patch-size", 48], "multiple of 32"),
    (["--output", "model.pt"], "must be a .safetensors"),
    (["--validation-fraction", 1.0], "VALIDATION_FRACTION"),
    (["--encoder", "nonsense"], "Unknown ENCODER"),
    (["--bands", "1,2,5"], "do not exist"),
    (["--ignore-value", 1], "is a class index"),
    (["--device", "cuda:7"], "DEVICE"),
])
def test_bad_parameters(tmp_path, flags, message):
    image, labels, _ = make_pair(tmp_path, "a", 64)
    args = ["--images", image, "--labels", labels, "--classes", THREE_CLASSES, "--encoder",
            "resnet18", "--patch-size", 64, "--output", tmp_path / "m.safetensors"]
    for flag, value in zip(flags[::2], flags[1::2]):
        i = args.index(flag) if flag in args else None
        if i is None:
            args += [flag, value]
        else:
            args[i + 1] = value
    with pytest.raises(LrmError, match=message):
        run_command("train-segmenter", *args)


# --- training ----------------------------------------------------------------------------

@pytest.mark.slow
def test_short_training_beats_the_untrained_model(tmp_path):
    result, reporter = train_tiny(tmp_path, "--epochs", 3)
    for key in ("output", "best_validation_miou", "epochs_run", "iterations",
                "seconds_per_iteration", "device", "parameters"):
        assert key in result
    assert result["epochs_run"] == 3 and result["iterations"] == 9  # 6 patches / batch 2
    assert result["best_validation_miou"] > result["initial_validation_miou"] + 15
    metric_names = {name for name, _, _ in reporter.metrics}
    assert {"train_loss", "val_loss", "val_miou"} <= metric_names
    assert any(line.startswith("Epoch 3/3") for line in reporter.infos)
    assert reporter.percents == sorted(reporter.percents) and reporter.percents[-1] == 100

    tensors, meta = load_model(result["output"], expected_kind="segmenter")
    assert meta["encoder"] == "resnet18" and meta["decoder_channels"] == list(DECODER_CHANNELS)
    assert meta["bands"] == [1, 2, 3] and meta["patch_size"] == 64 and meta["ignore_value"] == 255
    assert meta["classes"] == load_class_table(THREE_CLASSES).to_dict()
    assert len(meta["history"]) == 4 and meta["history"][0]["epoch"] == 0
    scaling = meta["input_scaling"]
    assert scaling["method"] == "standardize" and scaling["dtype"] == "uint8"
    assert all(60 < m < 190 for m in scaling["mean"]) and all(s > 10 for s in scaling["std"])
    # the file holds the weights of the best epoch
    model = build_unet("resnet18", 3, 3)
    model.load_state_dict(tensors)


@pytest.mark.slow
def test_cancel_leaves_a_valid_model_uint16_four_bands_colour_labels(tmp_path):
    """Killing the job after the first step leaves the (untrained) model saved before training."""
    rng = np.random.default_rng(1)
    classes = load_class_table(THREE_CLASSES)
    args = []
    for i in range(2):
        labels = block_labels(64, 3, rng)
        image = image_for(labels, rng).astype(np.uint16) * 100
        image = np.concatenate([image, image[:1] // 2])  # a fourth band
        colours = np.moveaxis(np.array(classes.colors, np.uint8)[labels], -1, 0)
        args += ["--images", write_raster(tmp_path / f"i{i}.tif", image, dtype=2),  # GDT_UInt16
                 "--labels", write_raster(tmp_path / f"l{i}.tif", colours)]

    def cancel(percent):
        if percent > 5:  # the first training iteration is done
            raise KeyboardInterrupt

    out = tmp_path / "cancelled.safetensors"
    with pytest.raises(KeyboardInterrupt):
        run_command("train-segmenter", *args, "--label-format", "color", "--classes",
                    THREE_CLASSES, "--bands", "1,2,3,4", "--encoder", "resnet18",
                    "--patch-size", 32, "--batch-size", 2, "--output", out,
                    reporter=RecordingReporter(on_progress=cancel))
    meta = read_metadata(str(out), expected_kind="segmenter")
    assert meta["trained_iterations"] == 0 and meta["in_channels"] == 4
    assert meta["bands"] == [1, 2, 3, 4] and meta["label_format"] == "color"
    assert meta["input_scaling"]["dtype"] == "uint16" and meta["input_scaling"]["mean"][0] > 1000


def test_gpu_out_of_memory_becomes_a_helpful_error(tmp_path, monkeypatch):
    import models.segmentation.train as train

    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(train, "_train_step", oom)
    with pytest.raises(DeviceError) as err:
        train_tiny(tmp_path, "--epochs", 1, pairs=1, size=64)
    assert "ran out of memory" in str(err.value) and "BATCH_SIZE (now 2)" in str(err.value)
