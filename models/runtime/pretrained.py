"""Where pretrained ImageNet weights are looked for, and whether a download can work.

Order for every network: an explicit file (VGG_WEIGHTS / ENCODER_WEIGHTS), then the
local cache of the library that normally downloads them (torchvision's torch-hub
cache for VGG19, the Hugging Face cache used by segmentation-models-pytorch for
encoders), then a download when the host answers within ``PROBE_TIMEOUT`` seconds,
else ``None``: the caller trains from random initialisation and warns. The quick
probe is what keeps an offline machine from waiting on long network time-outs.
"""

import os
import socket

VGG19_FILENAME = "vgg19-dcbb9e9d.pth"  # torchvision.models.VGG19_Weights.IMAGENET1K_V1
VGG19_URL_HOST = "download.pytorch.org"
HF_HOST = "huggingface.co"
PROBE_TIMEOUT = 2.0

_probe_cache = {}


def host_reachable(host, port=443, timeout=PROBE_TIMEOUT):
    """True when a TCP connection to host:port opens within ``timeout`` seconds."""
    if os.environ.get("LRM_OFFLINE") or os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    if host not in _probe_cache:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                _probe_cache[host] = True
        except OSError:
            _probe_cache[host] = False
    return _probe_cache[host]


def torch_hub_checkpoint_dir():
    import torch

    return os.path.join(torch.hub.get_dir(), "checkpoints")


def find_vgg19_weights(explicit=None):
    """Return (path or None, list of places searched)."""
    searched = []
    if explicit:
        searched.append(explicit)
        return (explicit if os.path.isfile(explicit) else None), searched
    cached = os.path.join(torch_hub_checkpoint_dir(), VGG19_FILENAME)
    searched.append(cached)
    return (cached if os.path.isfile(cached) else None), searched


def smp_encoder_repo(encoder, weights="imagenet"):
    """(repo_id, revision) of an smp encoder's pretrained weights, or None."""
    from segmentation_models_pytorch.encoders import encoders

    settings = encoders.get(encoder, {}).get("pretrained_settings", {}).get(weights)
    if not settings or "repo_id" not in settings:
        return None
    return settings["repo_id"], settings.get("revision")


def find_smp_encoder_weights(encoder, explicit=None):
    """Return (path or None, list of places searched) for an smp encoder's ImageNet weights."""
    searched = []
    if explicit:
        searched.append(explicit)
        return (explicit if os.path.isfile(explicit) else None), searched
    repo = smp_encoder_repo(encoder)
    if repo is None:
        return None, searched
    from huggingface_hub import constants, try_to_load_from_cache

    repo_id, revision = repo
    searched.append(f"{constants.HF_HUB_CACHE} ({repo_id}/model.safetensors)")
    path = try_to_load_from_cache(repo_id, "model.safetensors", revision=revision)
    return (path if isinstance(path, str) and os.path.isfile(path) else None), searched
