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


def test_method_directions_match_the_method_modules(plugin_package):
    from models.translation.registry import (TARGET_TO_SOURCE, WHOLE_TARGET_LAYER, get_method,
                                             method_names)

    translator = importlib.import_module("lrm_adapt.algorithms.train_translator")
    specs = {name: getattr(get_method(name), "SPEC", None) for name in method_names()}
    towards_source = [n for n, spec in specs.items() if spec and spec.direction == "target_to_source"]
    assert list(TARGET_TO_SOURCE) == towards_source == list(translator.TARGET_TO_SOURCE_METHODS) == ["benjdira"]
    # the two-generator GANs sample the whole TARGET layer, the others one one-shot window
    assert list(WHOLE_TARGET_LAYER) == [n for n, spec in specs.items() if spec]
    assert len(translator.METHOD_NAMES) == len(method_names())
