"""Benjdira et al. (Remote Sensing 2019, "Unsupervised Domain Adaptation Using Generative
Adversarial Networks for Semantic Segmentation of Aerial Images", arXiv 1905.03198).

The method trains a CycleGAN between the two cities and then goes the other way from
CycleGAN as the LRM paper uses it: the segmenter is trained on the untranslated SOURCE,
and the TARGET images are translated towards the SOURCE look (their generator
TARGET->SOURCE) before that segmenter classifies them; this is how it recovers classes
that a sensor change swaps. The networks and losses are CycleGAN's (9-block ResNet
generator, 11,378,179 parameters for 3 bands, the 11.378M of the LRM paper's Table I,
which gives it CycleGAN's count and seconds per iteration), so this module reuses
:class:`models.translation.methods.cyclegan.CycleGan` and saves the other generator.

So a Benjdira model file translates TARGET rasters: ``lrm:translate`` its TARGET layer,
then ``lrm:classify`` the result with a segmenter trained on the SOURCE.
"""

from . import unpaired_gan
from .cyclegan import (NGF, PUBLISHED_LEARNING_RATE, RESIDUAL_BLOCKS, WINDOW_MULTIPLE, CycleGan,
                       build_generator)
from .unpaired_gan import GanSpec

METHOD = "benjdira"

SPEC = GanSpec(method=METHOD, label="Benjdira et al.",
               published_learning_rate=PUBLISHED_LEARNING_RATE, make_model=CycleGan,
               build_generator=build_generator,
               architecture={"ngf": NGF, "blocks": RESIDUAL_BLOCKS},
               window_multiple=WINDOW_MULTIPLE, direction="target_to_source")


def train(config, reporter):
    return unpaired_gan.train(SPEC, config, reporter)


def load(tensors, meta, device):
    return unpaired_gan.load(SPEC, tensors, meta, device)
