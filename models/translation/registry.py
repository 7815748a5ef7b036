"""Translation methods: the contract every method module follows.

``METHODS`` maps a METHOD name (the value of ``--method`` / the Processing enum) to the
module that implements it. ``get_method(name)`` imports that module on demand, so a
method's heavy dependencies are imported only when it is used.

A method module provides two functions:

``train(config, reporter) -> dict``
    ``config`` is a :class:`models.translation.config.TranslatorConfig` (every training
    parameter; read only what the method needs). Use the shared data helpers in
    :mod:`models.translation.sampling` (band/size checks, target window, source
    patches, input scaling) so that every method rejects bad input the same way.
    The function writes the model file at ``config.output`` with
    :func:`models.storage.model_file.save_model` (atomic; save early and whenever the model
    improves, so a killed worker leaves a valid file) and returns the result fields:
    at least ``output``, ``parameters`` (int; 0 for parameter-free methods),
    ``seconds_per_iteration`` (None when there are no iterations),
    ``best_validation_loss`` (None when not applicable), ``target_window``
    ([x, y, w, h] in TARGET pixels), ``device``, ``epochs_run``, ``iterations``.
    Report progress with ``reporter.progress`` every iteration, losses per epoch with
    ``reporter.info`` and per-epoch figures with ``reporter.metric``. Raise
    :class:`models.errors.LrmError` with an actionable message for bad input.

    The model file's metadata must contain ``"kind": "translator"``, ``"method": <name>``,
    ``"bands"`` (1-based input band numbers the model reads, in order) and everything
    else ``load`` needs (nothing outside the file may be needed to translate).

``load(tensors, meta, device) -> Translator``
    ``tensors``/``meta`` come from :func:`models.storage.model_file.load_model`. Raise LrmError
    when the file is unusable (wrong architecture version, missing tensors): the file may be
    damaged or edited, so read metadata values through :mod:`models.storage.model_checks`
    and build networks with its ``load_network`` (checked against the tensors first); the
    caller puts the file's path in front of the message.
    A Translator has:

    * ``bands``: list of 1-based input band numbers it translates (output band i is
      the translation of input band ``bands[i]``);
    * ``window_multiple``: int; windows are read at offsets and padded to sizes that
      are multiples of this (1 when anything goes);
    * ``preferred_window``: int or None; the window size translation uses by default
      (e.g. the training patch size), None for "any" (apply.py then uses 512);
    * ``translate(batch, offsets=None) -> np.ndarray``: ``batch`` is float32
      (N, C, H, W) in the input raster's raw value range (nodata pixels already
      filled with plausible values); returns float32 of the same shape in the raw value
      range of the output. ``offsets`` is an optional list of (x, y) pixel positions
      of each window's top-left corner in the input raster, for methods whose output
      depends on position (LRM anchors the target's latent half to the raster grid so
      overlapping windows agree); other methods ignore it.

:mod:`models.translation.apply` does the rest for every method: windowed reads,
overlap blending, casting/clipping to the input dtype, geotransform, CRS and nodata.
"""

import importlib

from .. import contract
from ..errors import LrmError

# METHOD name -> module, in the enum order of models/contract/enums.py (QGIS passes indices).
METHODS = {name: f"models.translation.methods.{name}" for name in contract.METHODS}
METHODS["lrm"] = "models.translation.methods.lrm.method"

# Plain facts about methods, for callers that should not import a method to learn them
# (a test checks them against the modules): see models/contract/enums.py.
TARGET_TO_SOURCE = contract.TARGET_TO_SOURCE
WHOLE_TARGET_LAYER = contract.WHOLE_TARGET_LAYER


def method_names():
    return list(METHODS)


def get_method(name):
    """Import and return the module implementing translation method ``name``."""
    key = (name or "lrm").strip().lower() if isinstance(name, (str, type(None))) else None
    if key not in METHODS:
        raise LrmError(f"Unknown translation METHOD {str(name)[:60]!r}; choose one of: "
                       f"{', '.join(METHODS)}.")
    target = METHODS[key]
    # Resolve relative to this package's parent so the plugin works under any folder name.
    package = __package__.rsplit(".", 1)[0]  # "models" (or "<plugin>.models")
    module_name = package + target[len("models"):] if target.startswith("models.") else target
    return importlib.import_module(module_name)
