"""Facts shared by the Processing algorithms and the backend, defined once, as plain data.

The QGIS side imports this module (``from ..models import contract``) without starting the
backend: it imports nothing but the standard library, so it loads in QGIS's Python even where torch is
missing (a test checks this). Everything here is public interface:

* enum orders: QGIS and ``qgis_process`` pass enum *indices*, so an order is never changed,
  only appended to;
* defaults that a Processing parameter and the CLI flag behind it must agree on;
* every parameter that crosses the boundary: name, type, default, range, enum options and
  help text (``parameters.py``), from which both sides declare theirs;
* the JSON-line event types the worker writes and the Processing side relays;
* the name of the partial file an output is written to until it is complete, which the
  Processing side needs to clean up after a worker it had to end.
"""

import os

from .defaults import (BATCH_SIZE, ENCODER, INFERENCE_WINDOW, LEARNING_RATE,
                       ONE_SHOT_SIZE, PATCH_SIZE, WEIGHT_DECAY)
from .enums import (LABEL_DIRECTIONS, LABEL_FORMATS, METHODS, PERCEPTUAL_LOSSES,
                    PRESETS, SAMPLE_SHIFTS, STYLE_MIXINGS, TARGET_TO_SOURCE, WHOLE_TARGET_LAYER)
from .parameters import ALGORITHMS, COMMANDS, Param, command_flags, flag, named

__all__ = ["ALGORITHMS", "BATCH_SIZE", "COMMANDS", "ENCODER", "EVENT_TYPES", "INFERENCE_WINDOW",
           "LABEL_DIRECTIONS", "LABEL_FORMATS", "LEARNING_RATE", "METHODS", "ONE_SHOT_SIZE",
           "PATCH_SIZE", "PERCEPTUAL_LOSSES", "PRESETS", "Param", "SAMPLE_SHIFTS", "STYLE_MIXINGS",
           "TARGET_TO_SOURCE", "WEIGHT_DECAY", "WHOLE_TARGET_LAYER", "command_flags", "flag", "named",
           "partial_path"]

# --- the worker's JSON-line events (models/runtime/reporting.py documents their fields) ----
EVENT_TYPES = ("progress", "info", "warning", "metric", "result", "error")


def partial_path(path, pid=None):
    """Where process ``pid`` (default: this one) writes ``path`` until it is complete.

    ``.<name>.<pid>.partial`` in the destination's folder: a rename within one folder is
    atomic, and two runs writing the same output never share a file.
    """
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{os.getpid() if pid is None else pid}.partial")
