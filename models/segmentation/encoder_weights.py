"""ImageNet weights for the U-Net encoder.

Order (``initialise_encoder``): the ``ENCODER_WEIGHTS`` file when given; else the local
Hugging Face cache segmentation-models-pytorch downloads into; else smp's own download
when ``huggingface.co`` answers a 2 s probe; else random initialisation with a warning
that says how to provide weights. Offline machines never wait on network time-outs.

A weights file may be a ``.safetensors`` file (smp's ``model.safetensors``) or a PyTorch
``.pth``/``.pt`` state dict (e.g. torchvision's ``resnet101-63fe2227.pth``), read with
``weights_only=True`` so loading executes no code. Keys are matched to the encoder with
or without common prefixes (``encoder.``, ``module.``, ``model.``); tensors the encoder
does not have are allowed only for a classifier head (``fc.*``, ``classifier.*``, ...);
every encoder tensor must be in the file. With other than 3 input bands the first convolution is adapted
as smp does: 1 band sums the RGB filters, N bands cycle them scaled by 3/N.
"""

import os

import torch

from ..errors import LrmError
from ..runtime.pretrained import HF_HOST, find_smp_encoder_weights, host_reachable, smp_encoder_repo

_PREFIXES = ("", "encoder.", "module.", "model.", "backbone.", "module.encoder.")
# classifier heads of ImageNet checkpoints, which a U-Net encoder does not use
_HEADS = ("fc.", "classifier.", "head.", "last_linear.", "logits.", "_fc.", "conv_head.",
          "bn2.", "global_pool.")


def read_state_dict(path):
    if not os.path.isfile(path):
        raise LrmError(f"ENCODER_WEIGHTS file not found: {path!r}.")
    try:
        if path.lower().endswith(".safetensors"):
            from safetensors.torch import load_file

            state = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise LrmError(f"Cannot read ENCODER_WEIGHTS {path}: it must be a .safetensors file or a "
                       f"PyTorch state dict (.pth/.pt) of tensors ({type(exc).__name__}: {exc}).") from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise LrmError(f"ENCODER_WEIGHTS {path} does not hold a state dict (a mapping of names "
                       f"to tensors).")
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def _adapt_first_conv(weight, in_channels):
    """RGB filters (O, 3, kh, kw) -> (O, in_channels, kh, kw), as smp's patch_first_conv."""
    if in_channels == 1:
        return weight.sum(1, keepdim=True)
    index = torch.arange(in_channels) % weight.shape[1]
    return weight[:, index] * (weight.shape[1] / in_channels)


def load_encoder_state(encoder, state, source):
    """Copy ``state`` into ``encoder`` (an smp encoder); raise if it does not fit."""
    target = encoder.state_dict()
    wanted = [k for k in target if not k.endswith("num_batches_tracked")]

    def mapped(prefix_in, prefix_out):
        out, extra = {}, []
        for key, value in state.items():
            if key.startswith(prefix_in):
                name = prefix_out + key[len(prefix_in):]
                if name in target:
                    out[name] = value
                elif not key[len(prefix_in):].startswith(_HEADS):
                    extra.append(key)
        return out, extra

    candidates = [mapped(p, "") for p in _PREFIXES] + [mapped(p, "model.") for p in _PREFIXES]
    best, extra = max(candidates, key=lambda c: len(c[0]))
    missing = [k for k in wanted if k not in best]
    hint = "Give ImageNet weights of the same architecture as ENCODER."
    if missing:
        raise LrmError(
            f"ENCODER_WEIGHTS {source} does not fit this encoder: {len(missing)} of {len(wanted)} "
            f"encoder tensors are missing from the file (e.g. {', '.join(missing[:3])}). {hint}")
    if extra:  # e.g. resnet34 weights offered to a resnet18: the names would match, the net not
        raise LrmError(
            f"ENCODER_WEIGHTS {source} does not fit this encoder: it has {len(extra)} tensors "
            f"the encoder does not have (e.g. {', '.join(extra[:3])}), so it is probably for "
            f"a larger architecture. {hint}")
    for key, value in list(best.items()):
        expected = target[key].shape
        if value.shape == expected:
            continue
        if (value.dim() == 4 and value.shape[1] == 3 and value.shape[0] == expected[0]
                and value.shape[2:] == expected[2:]):  # the first convolution, RGB
            best[key] = _adapt_first_conv(value, expected[1])
        else:
            raise LrmError(f"ENCODER_WEIGHTS {source} does not fit this encoder: tensor {key} has "
                           f"shape {tuple(value.shape)}, the encoder needs {tuple(expected)}.")
    for key in target:
        best.setdefault(key, target[key])  # num_batches_tracked counters
    encoder.load_state_dict({k: v.to(target[k].dtype) for k, v in best.items()}, strict=True)


def _download(model, encoder_name, in_channels):
    """segmentation-models-pytorch's own download (Hugging Face hub); copies into ``model``."""
    from segmentation_models_pytorch.encoders import get_encoder

    donor = get_encoder(encoder_name, in_channels=in_channels, depth=len(model.encoder.out_channels) - 1,
                        weights="imagenet")
    model.encoder.load_state_dict(donor.state_dict())


def weights_hint(encoder_name):
    repo = smp_encoder_repo(encoder_name)
    where = (f"https://huggingface.co/{repo[0]}/resolve/main/model.safetensors" if repo else
             "the encoder's ImageNet checkpoint (torchvision/timm)")
    return (f"To use ImageNet weights, download {where} on a machine with internet and give "
            f"the file as ENCODER_WEIGHTS (--encoder-weights); a torchvision state dict such "
            f"as resnet101-63fe2227.pth works too.")


def initialise_encoder(model, encoder_name, in_channels, explicit=None, reporter=None):
    """Load ImageNet weights into ``model.encoder``; return a description of the source."""
    if explicit:
        load_encoder_state(model.encoder, read_state_dict(explicit), explicit)
        return {"source": "file", "path": os.path.abspath(explicit)}
    path, searched = find_smp_encoder_weights(encoder_name)
    if path:
        load_encoder_state(model.encoder, read_state_dict(path), path)
        return {"source": "cache", "path": path}
    if host_reachable(HF_HOST):
        try:
            _download(model, encoder_name, in_channels)
            return {"source": "download", "path": None}
        except Exception as exc:  # network trouble, no pretrained variant, ...
            if reporter:
                reporter.warning(f"Downloading ImageNet weights for {encoder_name} failed "
                                 f"({type(exc).__name__}: {exc}).")
    if reporter:
        places = "; ".join(searched) or "no cache location for this encoder"
        reporter.warning(
            f"No ImageNet weights for encoder {encoder_name} (searched: {places}; no internet): "
            f"training from random initialisation, which needs more data and epochs. "
            f"{weights_hint(encoder_name)}")
    return {"source": "random", "path": None}
