"""Enum orders shared by Processing and the backend (append only: QGIS and qgis_process
pass enum *indices*, so an order is never changed, only appended to)."""

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
# lrm:convert_labels DIRECTION / --direction.
LABEL_DIRECTIONS = ("to-index", "to-color")
# lrm:create_sample_data SHIFT / --shift.
SAMPLE_SHIFTS = ("radiometric", "sensor_season")
# lrm:adapt PRESET (Processing only; algorithms/presets.py holds their settings).
PRESETS = ("paper", "quick")
