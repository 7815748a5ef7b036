"""Writing and reading LRM translator model files (safetensors + JSON metadata).

Tensors: ``generator.*`` (encoder and decoder state, including BN running statistics
and spectral-norm vectors), ``target_image`` (the one-shot patch in model units,
(C, P, P)) and ``target_style`` (its latent style half in eval mode, (32, P/2, P/2)).
Metadata: kind "translator", method "lrm", architecture and version, bands, input
scaling, patch size, target window, training parameters and the loss history.
"""

import time

from ....errors import LrmError
from ....storage import model_checks as checks
from ....storage.model_file import DAMAGED, MAX_BANDS, save_model, short
from .network import ARCHITECTURE, ARCHITECTURE_VERSION, WIDTH

REQUIRED_TENSORS = ("target_style",)


def save_translator(path, tensors, metadata):
    meta = {"kind": "translator", "method": "lrm", "architecture": ARCHITECTURE,
            "architecture_version": ARCHITECTURE_VERSION,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S"), **metadata}
    save_model(path, tensors, meta)


def check_translator(tensors, meta, path="the model file"):
    """Raise LrmError unless ``tensors``/``meta`` describe a usable LRM translator."""
    if meta.get("architecture") != ARCHITECTURE:
        raise LrmError(f"{path} holds a network of architecture {short(meta.get('architecture'))}"
                       f", not the LRM translator ({ARCHITECTURE}). {DAMAGED}")
    version = checks.whole_number(meta.get("architecture_version", 0), "architecture_version",
                                  0, 2**31)
    if version > ARCHITECTURE_VERSION:
        raise LrmError(f"{path} was made by a newer LRM Adapt (translator architecture "
                       f"version {version}); update the plugin.")
    missing = [k for k in REQUIRED_TENSORS if k not in tensors]
    if missing or not any(k.startswith("generator.") for k in tensors):
        raise LrmError(f"{path} is incomplete: it lacks {missing or ['generator weights']}. "
                       f"Train the translator again.")
    for key in ("bands", "patch_size", "input_scaling", "channels"):
        if key not in meta:
            raise LrmError(f"{path} lacks the '{key}' metadata. Train the translator again.")
    bands = checks.bands(meta)
    if checks.whole_number(meta["channels"], "channels", 1, MAX_BANDS) != len(bands):
        raise LrmError(f"{path} declares {meta['channels']} channels but {len(bands)} bands. "
                       f"{DAMAGED}")
    style = tensors["target_style"]
    if style.dim() != 3 or style.shape[0] != WIDTH or 0 in style.shape:
        raise LrmError(f"{path}: its target style is a tensor of shape {tuple(style.shape)}, "
                       f"not ({WIDTH}, height, width). {DAMAGED}")
    return bands
