"""Model files: safetensors tensors plus JSON metadata; loading executes no code.

A model file holds every tensor (weights, buffers, the one-shot target, ...) and, in
the safetensors header, ``{"format": "lrm-adapt", "lrm": "<json>"}`` where the JSON
has at least ``kind`` ("translator" or "segmenter"), ``format_version`` and whatever
the model needs to be used alone (bands, input scaling, patch size, classes, ...).
Files are written atomically (temp file + rename), so a killed training never leaves
a truncated model where a valid one was.
"""

import json
import os

from ..errors import LrmError

FORMAT = "lrm-adapt"
FORMAT_VERSION = 1


def save_model(path, tensors, metadata):
    from safetensors.torch import save_file

    if "kind" not in metadata:
        raise ValueError("model metadata needs a 'kind'")
    meta = dict(metadata, format_version=FORMAT_VERSION)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    from .atomic import partial_path

    tmp = partial_path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        save_file(tensors, tmp, metadata={"format": FORMAT, "lrm": json.dumps(meta)})
        os.replace(tmp, path)  # an earlier model at ``path`` stays until this succeeds
    except Exception as exc:  # OSError, or safetensors' own error wrapping one
        if os.path.exists(tmp):
            os.remove(tmp)
        from ..errors import storage_error

        raise storage_error(path, exc) from None


def _header(path):
    from safetensors import safe_open

    if not path or not os.path.isfile(path):
        raise LrmError(f"Model file not found: {path!r}.")
    try:
        with safe_open(path, framework="pt") as f:
            header = f.metadata() or {}
    except Exception as exc:
        raise LrmError(f"{path} is not a readable LRM Adapt model file (corrupted, or not a "
                       f"safetensors file): {exc}") from None
    if header.get("format") != FORMAT or "lrm" not in header:
        raise LrmError(f"{path} is a safetensors file but not an LRM Adapt model (no "
                       f"'{FORMAT}' metadata). Train one with lrm:train_translator or "
                       f"lrm:train_segmenter.")
    try:
        return json.loads(header["lrm"])
    except json.JSONDecodeError as exc:
        raise LrmError(f"{path}: the model metadata is corrupted ({exc}).") from None


def read_metadata(path, expected_kind=None):
    meta = _header(path)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise LrmError(f"{path} was written by a newer LRM Adapt (model format "
                       f"{meta.get('format_version')}); update the plugin.")
    if expected_kind and meta.get("kind") != expected_kind:
        raise LrmError(f"{path} is a {meta.get('kind')} model, but a {expected_kind} model is "
                       f"needed here.")
    return meta


def load_model(path, expected_kind=None, device="cpu"):
    """Return (tensors dict, metadata dict)."""
    from safetensors.torch import load_file

    meta = read_metadata(path, expected_kind)
    try:
        tensors = load_file(path, device=str(device))
    except Exception as exc:
        raise LrmError(f"{path}: cannot read the model weights (file corrupted?): {exc}") from None
    return tensors, meta
