"""Frozen VGG19 features for the content and style losses, and where the weights come from.

Order (first that works): the VGG_WEIGHTS file; torchvision's cache
(``<torch hub dir>/checkpoints/vgg19-dcbb9e9d.pth``); torchvision's own download when
``download.pytorch.org`` answers within 2 s (``pretrained.host_reachable``, so an
offline machine does not wait on long time-outs); else a randomly initialised VGG19
and a warning at the start of training. Weight files are read with
``torch.load(weights_only=True)`` or safetensors: no code is executed.

Only the convolutional part up to relu4_3 is built (the 120M-parameter classifier is
never needed). The network is frozen (no parameter gradients, eval mode), but
gradients flow through it to the translated image.

Input: the generator's values in model units (about 0..255, see
``models/translation/scaling.py``), without ImageNet normalisation, as in the
published code whose loss weights assume it. With more than 3 bands, the first three
selected bands go to VGG (for ISPRS IR-R-G imagery that is IR, R, G, which is what the
published code fed it); with 1 or 2 bands they are repeated to make 3.
"""

import os

import torch
from torch import nn

from ....errors import LrmError
from ....runtime.pretrained import VGG19_FILENAME, VGG19_URL_HOST, find_vgg19_weights, host_reachable
from ....runtime.pretrained import torch_hub_checkpoint_dir

VGG19_URL = f"https://{VGG19_URL_HOST}/models/{VGG19_FILENAME}"
# VGG19 ("E") up to conv4_4's block: numbers are conv widths, "M" a max-pool.
_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512]
# Index of each ReLU output in torchvision's ``vgg19().features``.
LAYERS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 24}
CONTENT_LAYER = "relu2_2"
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")


def _features():
    layers, cin = [], 3
    for item in _LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, item, 3, padding=1), nn.ReLU(inplace=False)]
            cin = item
    return nn.Sequential(*layers[:LAYERS["relu4_3"] + 1])


def vgg_channels(channels):
    """Which model channels feed VGG's 3 inputs: the first three, or repeated."""
    return [i % channels for i in range(3)]


class VGGFeatures(nn.Module):
    """relu1_2, relu2_2, relu3_3, relu4_3 of a frozen VGG19."""

    def __init__(self, features):
        super().__init__()
        self.features = features
        self.requires_grad_(False)
        self.eval()

    def train(self, mode=True):  # always eval: frozen
        return super().train(False)

    def forward(self, x, layers=STYLE_LAYERS):
        wanted = {LAYERS[name]: name for name in layers}
        last = max(wanted)
        out = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in wanted:
                out[wanted[index]] = x
            if index == last:
                break
        return out


def _read_state_dict(path):
    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file

            state = load_file(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise LrmError(f"VGG_WEIGHTS {path} cannot be read as a weights file "
                       f"({type(exc).__name__}: {exc}). Give torchvision's "
                       f"{VGG19_FILENAME} ({VGG19_URL}).") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise LrmError(f"VGG_WEIGHTS {path} holds no state dict.")
    return state


def _load_into(features, state, path):
    """Copy VGG19 conv weights (``features.N.*`` or ``N.*`` keys) into ``features``."""
    own = features.state_dict()
    picked = {}
    for key in own:
        for candidate in (f"features.{key}", key):
            if candidate in state:
                picked[key] = state[candidate]
                break
    missing = [k for k in own if k not in picked]
    if missing:
        raise LrmError(f"{path} is not a VGG19 weights file: it lacks {missing[:3]}... "
                       f"Give torchvision's {VGG19_FILENAME} ({VGG19_URL}).")
    try:
        features.load_state_dict(picked)
    except RuntimeError as exc:
        raise LrmError(f"{path} does not hold VGG19 weights of the expected shapes: "
                       f"{str(exc).splitlines()[0]}") from None


def _random_init(features):
    for module in features.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)


def random_vgg19():
    """A randomly initialised VGG19 (the ``vgg19_random`` loss family)."""
    features = _features()
    _random_init(features)
    return VGGFeatures(features)


def find_imagenet_vgg19(weights_path=None, reporter=None, download=True):
    """(VGGFeatures, where the weights came from) or (None, why none was found).

    The VGG_WEIGHTS file when given (an unreadable or foreign file is an error), else
    torchvision's cache, else a download when the host answers quickly and ``download``.
    """
    features = _features()
    if weights_path:
        if not os.path.isfile(weights_path):
            raise LrmError(f"VGG_WEIGHTS file not found: {weights_path}. Give the path of "
                           f"{VGG19_FILENAME} ({VGG19_URL}) or leave VGG_WEIGHTS empty.")
        _load_into(features, _read_state_dict(weights_path), weights_path)
        return VGGFeatures(features), f"file {weights_path}"
    cached, searched = find_vgg19_weights()
    if cached:
        try:
            _load_into(features, _read_state_dict(cached), cached)
            return VGGFeatures(features), f"torchvision cache {cached}"
        except LrmError as exc:
            if reporter:
                reporter.warning(f"Ignoring the cached VGG19 weights: {exc}")
    online = download and host_reachable(VGG19_URL_HOST)
    if online:
        try:
            state = torch.hub.load_state_dict_from_url(VGG19_URL, progress=False,
                                                       map_location="cpu")
            _load_into(features, state, VGG19_URL)
            return VGGFeatures(features), f"downloaded {VGG19_URL}"
        except Exception as exc:  # network trouble or a bad download: the caller decides
            if reporter:
                reporter.warning(f"Downloading VGG19 weights failed ({exc}).")
    why = ("no ImageNet VGG19 weights found (looked in: " + "; ".join(searched)
           + ("" if online else "; offline or download not tried") + ")")
    return None, why


def load_vgg19(weights_path=None, reporter=None):
    """Return (VGGFeatures on CPU, description of where its weights came from): ImageNet
    weights when found, else a random VGG19 with a warning (the ``vgg19_random`` fallback)."""
    features, source = find_imagenet_vgg19(weights_path, reporter)
    if features is not None:
        return features, source
    if reporter:
        reporter.warning(
            f"{source[0].upper()}{source[1:]}. The content and style losses use a RANDOMLY "
            "INITIALISED VGG19, so translations will be worse. To fix it, download "
            + VGG19_URL + " (548 MB) on a machine with internet and give the file as "
            "VGG_WEIGHTS, or copy it to " + torch_hub_checkpoint_dir() + ".")
    return random_vgg19(), RANDOM_SOURCE


RANDOM_SOURCE = "random initialisation (no pretrained weights)"
