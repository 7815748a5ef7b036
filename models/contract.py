"""Facts shared by the Processing algorithms and the backend, defined once, as plain data.

The QGIS side imports this module (``from ..models import contract``) without starting the
backend: it imports nothing but ``os``, so it loads in QGIS's Python even where torch is
missing (a test checks this). Everything here is public interface:

* enum orders: QGIS and ``qgis_process`` pass enum *indices*, so an order is never changed,
  only appended to;
* defaults that a Processing parameter and the CLI flag behind it must agree on;
* the JSON-line event types the worker writes and the Processing side relays;
* the name of the partial file an output is written to until it is complete, which the
  Processing side needs to clean up after a worker it had to end.
"""

import os

# --- enum orders (append only) ------------------------------------------------------
# lrm:train_translator / lrm:adapt METHOD, backend --method.
METHODS = ("lrm", "histogram_matching", "fda", "cyclegan", "colormapgan", "dualgan", "benjdira")
# Methods whose model translates TARGET images towards the SOURCE look: the segmenter is
# trained on the untranslated SOURCE and classifies the translated TARGET (Benjdira et al.).
TARGET_TO_SOURCE = ("benjdira",)
# Methods that sample random windows of the whole TARGET layer instead of one one-shot window.
WHOLE_TARGET_LAYER = ("cyclegan", "dualgan", "benjdira")
# LRM's loss family, PERCEPTUAL_LOSS / --perceptual-loss.
PERCEPTUAL_LOSSES = ("auto", "vgg19_imagenet", "weight_free", "vgg19_random")
# How LRM mixes the style half of the latent code, STYLE_MIXING / --style-mixing.
STYLE_MIXINGS = ("spatial", "global")
# LABEL_FORMAT / --label-format: class indices in one band, or class-table colours.
LABEL_FORMATS = ("index", "color")
# lrm:create_sample_data SHIFT / --shift.
SAMPLE_SHIFTS = ("radiometric", "sensor_season")

# --- defaults shared by a parameter and its flag ------------------------------------
PATCH_SIZE = 512            # the paper's training patches
BATCH_SIZE = 8
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 5e-4
ENCODER = "resnet101"       # the paper's U-Net encoder
ONE_SHOT_SIZE = 512         # side of the one-shot TARGET sample (0 = the patch size)
INFERENCE_WINDOW = 512      # classify/translate window when the output does not depend on it

# --- the worker's JSON-line events (models/runtime/reporting.py documents their fields) ----
EVENT_TYPES = ("progress", "info", "warning", "metric", "result", "error")


def partial_path(path, pid=None):
    """Where process ``pid`` (default: this one) writes ``path`` until it is complete.

    ``.<name>.<pid>.partial`` in the destination's folder: a rename within one folder is
    atomic, and two runs writing the same output never share a file.
    """
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{os.getpid() if pid is None else pid}.partial")
