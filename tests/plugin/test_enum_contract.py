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


def test_the_shared_contract_is_plain_data_that_loads_without_the_backend():
    # QGIS imports models/contract.py in its own Python, where torch, numpy or GDAL may
    # be missing: the module may import nothing but the standard library's os.
    import ast

    import models.contract as contract

    with open(contract.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"os"}


def test_both_sides_of_the_process_boundary_read_the_same_contract(plugin_package):
    # the Processing side takes its enum orders, defaults and partial-file rule from the
    # contract module itself, not from a copy
    from models.storage.atomic import partial_path

    contract = importlib.import_module("lrm_adapt.models.contract")
    translator = importlib.import_module("lrm_adapt.algorithms.train_translator")
    parameters = importlib.import_module("lrm_adapt.algorithms.parameters")
    worker = importlib.import_module("lrm_adapt.algorithms.worker")
    assert translator.METHODS is contract.METHODS
    assert translator.TARGET_TO_SOURCE_METHODS is contract.TARGET_TO_SOURCE
    assert parameters.LABEL_FORMATS is contract.LABEL_FORMATS
    defaults = {spec[0]: spec[3] for spec in parameters.TRAINING_NUMBERS}
    assert (defaults["PATCH_SIZE"], defaults["BATCH_SIZE"], defaults["LEARNING_RATE"],
            defaults["WEIGHT_DECAY"]) == (contract.PATCH_SIZE, contract.BATCH_SIZE,
                                          contract.LEARNING_RATE, contract.WEIGHT_DECAY)
    assert worker.partial_path("/data/out.tif", 42) == partial_path("/data/out.tif", 42) \
        == "/data/.out.tif.42.partial"


def test_every_event_type_the_backend_writes_is_relayed_by_the_worker_client(plugin_package):
    # the reporter writes each contract event type, and the Processing side has a handler
    # for each; an unknown type is shown as debug text, never dropped silently
    import io
    import json

    from models.runtime.reporting import JsonLinesReporter

    contract = importlib.import_module("lrm_adapt.models.contract")
    worker = importlib.import_module("lrm_adapt.algorithms.worker")
    stream = io.StringIO()
    reporter = JsonLinesReporter(stream)
    reporter.progress(50.0), reporter.info("i"), reporter.warning("w"), reporter.metric("m", 1.0, epoch=1)
    reporter.result({"a": 1}), reporter.error("e")
    written = [json.loads(line)["type"] for line in stream.getvalue().splitlines()]
    assert sorted(set(written)) == sorted(contract.EVENT_TYPES)
    assert all(callable(getattr(worker.BackendRun, f"_on_{kind}", None)) for kind in contract.EVENT_TYPES)
