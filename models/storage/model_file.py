"""Model files: safetensors tensors plus JSON metadata; loading executes no code.

A model file holds every tensor (weights, buffers, the one-shot target, ...) and, in
the safetensors header, ``{"format": "lrm-adapt", "lrm": "<json>"}`` where the JSON
has at least ``kind`` ("translator" or "segmenter"), ``format_version`` and whatever
the model needs to be used alone (bands, input scaling, patch size, classes, ...).
Files are written atomically (temp file + rename), so a killed training never leaves
a truncated model where a valid one was.

Reading treats a model file as untrusted input: safetensors parses the header (bounded:
it refuses headers over 100 MB and offsets past the end, and never unpickles), the
metadata must be a JSON object (a deeply nested or malformed one is an LrmError, not a
RecursionError), tensors must have a data type training could have written and finite
values. Method-level checks (bands, shapes, architecture) are in ``model_checks``; the
fuzz in tests/backend/test_model_file_fuzz.py and benchmarks/fuzz_model_files.py tries
damaged and hostile files of every method against all of it.
"""

import contextlib
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
    except BaseException as exc:  # OSError, safetensors' own error wrapping one, or an interrupt
        if os.path.exists(tmp):
            os.remove(tmp)
        if not isinstance(exc, Exception):
            raise
        from ..errors import storage_error

        raise storage_error(path, exc) from None


MAX_BANDS = 4096  # far more than any imagery has; bounds what a damaged band list can build
# Tensor data types a model file may hold: what training writes (float32, int64) and what
# the loaders convert losslessly enough from (a file re-saved in half precision still works).
ALLOWED_DTYPES = ("float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16", "int32",
                  "int64", "bool")
DAMAGED = "The file is damaged or was edited: retrain it or ask for the original file."


def short(value, limit=60):
    """``repr(value)``, cut to ``limit`` characters: messages never echo a huge value."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _what_it_is(path):
    """What a file that safetensors cannot read seems to be, from its first bytes."""
    with open(path, "rb") as f:
        start = f.read(8)
        f.seek(max(0, os.path.getsize(path) - 1))
        last = f.read(1)
    if start.startswith(b"PK\x03\x04"):
        return "a zip archive, such as a PyTorch .pt/.pth checkpoint, which LRM Adapt never " \
               "loads: unpickling could run code"
    if start[:1] in (b"\x80", b"(", b"c", b"]", b"}") and last == b".":  # a pickle's STOP
        return "it looks like a Python pickle, which LRM Adapt never loads: unpickling could " \
               "run code"
    return "truncated or corrupted, or not a safetensors file"


def _header(path):
    from safetensors import safe_open

    if path and os.path.isdir(path):
        raise LrmError(f"{path} is a folder, not a model file. Choose the .safetensors file "
                       f"that training wrote.")
    if not path or not os.path.isfile(path):
        raise LrmError(f"Model file not found: {path!r}.")
    try:
        with safe_open(path, framework="pt") as f:
            header = f.metadata() or {}
    except Exception as exc:
        raise LrmError(f"{path} is not a readable LRM Adapt model file ({_what_it_is(path)}): "
                       f"{str(exc)[:200]}. Choose the .safetensors file that training wrote; "
                       f"if it is that file, it is damaged: retrain it or ask for the "
                       f"original.") from None
    if header.get("format") != FORMAT or "lrm" not in header:
        raise LrmError(f"{path} is a safetensors file but not an LRM Adapt model (no "
                       f"'{FORMAT}' metadata). Train one with lrm:train_translator or "
                       f"lrm:train_segmenter.")
    try:
        meta = json.loads(header["lrm"])
    except (ValueError, RecursionError) as exc:  # malformed, nested too deep, huge numbers
        raise LrmError(f"{path}: the model metadata is corrupted ({str(exc)[:200]}). "
                       f"{DAMAGED}") from None
    if not isinstance(meta, dict):
        raise LrmError(f"{path}: the model metadata is {type(meta).__name__}, not a JSON "
                       f"object. {DAMAGED}")
    return meta


def read_metadata(path, expected_kind=None):
    meta = _header(path)
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise LrmError(f"{path}: the model format_version is {short(version)}, not a whole "
                       f"number. {DAMAGED}")
    if version > FORMAT_VERSION:
        raise LrmError(f"{path} was written by a newer LRM Adapt (model format "
                       f"{version}); update the plugin.")
    kind = meta.get("kind")
    if expected_kind and kind != expected_kind:
        if not isinstance(kind, str) or len(kind) > 40:
            raise LrmError(f"{path}: the model kind is {short(kind)}, not {expected_kind!r}. "
                           f"{DAMAGED}")
        raise LrmError(f"{path} is a {kind} model, but a {expected_kind} model is needed here.")
    return meta


def load_model(path, expected_kind=None, device="cpu"):
    """Return (tensors dict, metadata dict)."""
    from safetensors.torch import load_file

    meta = read_metadata(path, expected_kind)
    try:
        tensors = load_file(path, device=str(device))
    except Exception as exc:
        raise LrmError(f"{path}: cannot read the model weights (file corrupted?): "
                       f"{str(exc)[:200]}") from None
    _check_tensors(path, tensors)
    return tensors, meta


def _check_tensors(path, tensors):
    """Refuse data types no model file holds (float8, unsigned 16-64 bit, ...: operations
    the loaders use are not implemented for all of them) and non-finite values (a model
    with a NaN or infinite weight can only write garbage; a bit flip in an exponent, or a
    training that diverged, makes one)."""
    import torch

    for name, tensor in tensors.items():
        dtype = str(tensor.dtype).replace("torch.", "")
        if dtype not in ALLOWED_DTYPES:
            raise LrmError(f"{path}: the tensor {name[:80]!r} has the data type "
                           f"{dtype}, which LRM Adapt model "
                           f"files never hold. {DAMAGED}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise LrmError(f"{path}: the tensor {name[:80]!r} holds NaN or infinite values "
                           f"(a training that diverged, or a damaged file); the model cannot "
                           f"translate or classify. Retrain it or ask for the original file.")


@contextlib.contextmanager
def naming(path):
    """Re-raise an LrmError that does not name ``path`` with ``path`` in front: the method
    loaders check tensors and metadata without knowing which file they came from."""
    try:
        yield
    except LrmError as exc:
        if str(path) in str(exc):
            raise
        raise type(exc)(f"{path}: {exc}") from None
