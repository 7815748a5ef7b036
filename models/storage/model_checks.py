"""Checks of what a model file holds, before anything is built from it.

A model file is input: it may be damaged, edited or made by hand. The loaders read
metadata values through these functions, which raise LrmError with what is wrong (the
caller puts the file's path in front, :func:`models.storage.model_file.naming`) instead
of a TypeError deep in a network or a GDAL call with band -2; and they build a network
only after its architecture has been checked against the file's tensors on PyTorch's
"meta" device, which allocates nothing, so a metadata value such as 10**6 channels
fails in milliseconds instead of allocating terabytes.
"""

import math

from ..errors import LrmError
from .model_file import DAMAGED, MAX_BANDS, short


def require_keys(meta, keys, what, remedy=DAMAGED):
    missing = [k for k in keys if k not in meta]
    if missing:
        raise LrmError(f"This {what} model file lacks {', '.join(missing)} in its metadata "
                       f"(written by another version?). {remedy}")


def whole_number(value, name, low, high):
    """``value`` as an int in low..high (a bool, a fraction or a string is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (isinstance(value, float) and not value.is_integer()) or not low <= value <= high:
        raise LrmError(f"The model metadata {name!r} is {short(value)}, not a whole number "
                       f"from {low} to {high}. {DAMAGED}")
    return int(value)


def number(value, name, low=-math.inf, high=math.inf):
    """``value`` as a finite float in low..high."""
    result = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:  # an integer of hundreds of digits
            result = None
    if result is None or not math.isfinite(result) or not low <= result <= high:
        raise LrmError(f"The model metadata {name!r} is {short(value)}, not a number"
                       f"{f' from {low:g} to {high:g}' if math.isfinite(low) else ''}. {DAMAGED}")
    return result


def numbers(value, name, length, nonzero=False):
    """``value`` as a list of ``length`` finite floats (none zero with ``nonzero``)."""
    if not isinstance(value, list) or len(value) != length:
        raise LrmError(f"The model metadata {name!r} is {short(value)}, not a list of "
                       f"{length} number(s), one per band. {DAMAGED}")
    values = [number(v, name) for v in value]
    if nonzero and any(v == 0 for v in values):
        raise LrmError(f"The model metadata {name!r} holds a zero. {DAMAGED}")
    return values


def bands(meta, key="bands"):
    """The metadata's 1-based band numbers: a non-empty list of whole numbers."""
    value = meta.get(key)
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BANDS:
        raise LrmError(f"The model metadata {key!r} is {short(value)}, not a list of 1 to "
                       f"{MAX_BANDS} band numbers. {DAMAGED}")
    for b in value:
        if isinstance(b, bool) or not isinstance(b, int) or b < 1:
            raise LrmError(f"The model metadata {key!r} is {short(value)}: {short(b)} is not a "
                           f"band number (1 or more). {DAMAGED}")
    return list(value)


def mapping(meta, key):
    value = meta.get(key)
    if not isinstance(value, dict):
        raise LrmError(f"The model metadata {key!r} is {short(value)}, not a JSON object. "
                       f"{DAMAGED}")
    return value


def load_network(build, state, what):
    """``build()``'s network with the weights ``state``, or LrmError when they do not fit.

    The network is first built on the meta device and its state's names and shapes are
    compared with ``state``; only a network that fits the file's tensors (so is no larger
    than the file) is then built for real.
    """
    import torch

    with torch.device("meta"):
        expected = build().state_dict()
    missing = [k[:80] for k in expected if k not in state]
    unexpected = [k[:80] for k in state if k not in expected]
    wrong = [f"{k[:80]} {tuple(state[k].shape)} instead of {tuple(v.shape)}"
             for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = ([f"missing {', '.join(missing[:3])}"] if missing else []) \
        + ([f"unexpected {', '.join(unexpected[:3])}"] if unexpected else []) \
        + ([f"shapes {', '.join(wrong[:3])}"] if wrong else [])
    if problems:
        raise LrmError(f"The {what} weights do not fit the architecture its metadata "
                       f"describes ({'; '.join(problems)}). {DAMAGED}")
    network = build()
    try:
        network.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:  # e.g. a dtype that cannot be copied
        raise LrmError(f"The {what} weights cannot be loaded ({str(exc).splitlines()[0][:200]})"
                       f". {DAMAGED}") from None
    return network
