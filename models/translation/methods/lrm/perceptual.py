"""Which loss family the LRM translator trains with (``PERCEPTUAL_LOSS``), and why.

Options (enum order is public, index = option):
0 ``auto``: the published VGG19 losses when ImageNet VGG19 weights load (VGG_WEIGHTS,
  torchvision's cache, or a quick download), otherwise ``weight_free``. Never a random
  VGG19 silently.
1 ``vgg19_imagenet``: exactly the published losses and weights (30/1000/1/5); an error
  naming VGG_WEIGHTS when no ImageNet weights load.
2 ``weight_free``: the losses of ``weight_free.py`` (no pretrained network).
3 ``vgg19_random``: the published losses on a randomly initialised VGG19 (the old
  offline fallback, kept for comparison and reproducibility).

Style mixing (``STYLE_MIXING``, None = by family): ``global`` for ``weight_free`` and
``spatial`` (published) for the VGG19 families; see docs/translator.md for the
measurements behind the choice.
"""

from .... import contract
from ....errors import LrmError
from ....runtime.pretrained import VGG19_URL_HOST, find_vgg19_weights, host_reachable
from .trainer import MIXINGS
from .vgg import VGG19_URL, find_imagenet_vgg19, random_vgg19

PERCEPTUAL_LOSSES = contract.PERCEPTUAL_LOSSES
DEFAULT_MIXING = {"vgg19_imagenet": "spatial", "vgg19_random": "spatial",
                  "weight_free": "global"}


def resolve_perceptual_loss(choice, vgg_weights=None, reporter=None):
    """(VGGFeatures or None, the family used, where its weights came from)."""
    if choice not in PERCEPTUAL_LOSSES:
        raise LrmError(f"PERCEPTUAL_LOSS must be one of {', '.join(PERCEPTUAL_LOSSES)}, "
                       f"not {choice!r}.")
    if choice == "weight_free":
        if vgg_weights and reporter:
            reporter.warning("PERCEPTUAL_LOSS weight_free uses no VGG19: VGG_WEIGHTS is ignored.")
        return None, "weight_free", "none needed"
    if choice == "vgg19_random":
        if vgg_weights and reporter:
            reporter.warning("PERCEPTUAL_LOSS vgg19_random uses a random VGG19: VGG_WEIGHTS is "
                             "ignored.")
        return random_vgg19(), "vgg19_random", "random initialisation (chosen)"
    vgg, source = find_imagenet_vgg19(vgg_weights, reporter)
    if vgg is not None:
        return vgg, "vgg19_imagenet", source
    if choice == "vgg19_imagenet":
        raise LrmError(f"PERCEPTUAL_LOSS vgg19_imagenet needs ImageNet VGG19 weights, but {source}. "
                       f"Give the file as VGG_WEIGHTS (download {VGG19_URL}, 548 MB, on a machine "
                       f"with internet), or choose PERCEPTUAL_LOSS auto or weight_free.")
    if reporter:
        reporter.info(f"PERCEPTUAL_LOSS auto: {source}, so the translator trains with the "
                      f"weight-free losses (give VGG_WEIGHTS for the published VGG19 losses).")
    return None, "weight_free", "none needed"


def style_mixing_for(family, requested=None):
    if requested in (None, ""):
        return DEFAULT_MIXING[family]
    if requested not in MIXINGS:
        raise LrmError(f"STYLE_MIXING must be one of {', '.join(MIXINGS)}, not {requested!r}.")
    return requested


def describe_auto_choice(vgg_weights=None):
    """What ``auto`` will pick on this machine and why, without loading anything:
    {"choice": ..., "reason": ...} (for check-environment)."""
    path, searched = find_vgg19_weights(vgg_weights)
    if path:
        return {"choice": "vgg19_imagenet",
                "reason": f"ImageNet VGG19 weights found at {path}"}
    if host_reachable(VGG19_URL_HOST):
        return {"choice": "vgg19_imagenet",
                "reason": f"no VGG19 weights in {'; '.join(searched)}, but {VGG19_URL_HOST} "
                          f"answers: training downloads {VGG19_URL} (548 MB) first"}
    return {"choice": "weight_free",
            "reason": f"no ImageNet VGG19 weights in {'; '.join(searched)} and no download "
                      f"possible (offline): the weight-free losses are used"}
