"""Writing and reading LRM translator model files (safetensors + JSON metadata).

Tensors: ``generator.*`` (encoder and decoder state, including BN running statistics
and spectral-norm vectors), ``target_image`` (the one-shot patch in model units,
(C, P, P)) and ``target_style`` (its latent style half in eval mode, (32, P/2, P/2)).
Metadata: kind "translator", method "lrm", architecture and version, bands, input
scaling, patch size, target window, training parameters and the loss history.
"""

import time

from ....errors import LrmError
from ....storage.model_file import save_model
from .network import ARCHITECTURE, ARCHITECTURE_VERSION

REQUIRED_TENSORS = ("target_style",)


def save_translator(path, tensors, metadata):
    meta = {"kind": "translator", "method": "lrm", "architecture": ARCHITECTURE,
            "architecture_version": ARCHITECTURE_VERSION,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S"), **metadata}
    save_model(path, tensors, meta)


def check_translator(tensors, meta, path="the model file"):
    """Raise LrmError unless ``tensors``/``meta`` describe a usable LRM translator."""
    if meta.get("architecture") != ARCHITECTURE:
        raise LrmError(f"{path} holds a {meta.get('architecture')!r} network, not the LRM "
                       f"translator ({ARCHITECTURE}).")
    if meta.get("architecture_version", 0) > ARCHITECTURE_VERSION:
        raise LrmError(f"{path} was made by a newer LRM Adapt (translator architecture "
                       f"version {meta.get('architecture_version')}); update the plugin.")
    missing = [k for k in REQUIRED_TENSORS if k not in tensors]
    if missing or not any(k.startswith("generator.") for k in tensors):
        raise LrmError(f"{path} is incomplete: it lacks {missing or ['generator weights']}. "
                       f"Train the translator again.")
    for key in ("bands", "patch_size", "input_scaling", "channels"):
        if key not in meta:
            raise LrmError(f"{path} lacks the '{key}' metadata. Train the translator again.")
