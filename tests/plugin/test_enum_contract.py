"""The Processing enums and the backend's choices are one order (qgis_process passes
indices, the worker gets names): the lists on both sides of the process boundary agree."""

import importlib


def test_enum_orders_match_the_backend(plugin_package):
    from models.sample_data import SHIFTS
    from models.translation.registry import method_names
    from models.translation.methods.lrm.perceptual import PERCEPTUAL_LOSSES
    from models.translation.methods.lrm.trainer import MIXINGS

    translator = importlib.import_module("lrm_adapt.algorithms.train_translator")
    sample_data = importlib.import_module("lrm_adapt.algorithms.create_sample_data")
    assert list(translator.PERCEPTUAL_LOSSES) == list(PERCEPTUAL_LOSSES)
    assert list(translator.STYLE_MIXINGS) == list(MIXINGS)
    assert list(translator.METHODS) == list(method_names())
    assert list(sample_data.SHIFTS) == list(SHIFTS)
    assert len(translator.PERCEPTUAL_LOSS_NAMES) == len(PERCEPTUAL_LOSSES)
    assert len(translator.STYLE_MIXING_NAMES) == len(MIXINGS)
