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
    from models import contract
    from models.labels.conversion import parse_direction
    from models.labels.rasters import parse_label_format

    # the backend takes every option by name and by its index
    for index, direction in enumerate(contract.LABEL_DIRECTIONS):
        assert parse_direction(direction) == parse_direction(str(index)) == direction
    for index, label_format in enumerate(contract.LABEL_FORMATS):
        assert parse_label_format(label_format) == parse_label_format(index) == label_format


def test_method_directions_match_the_method_modules(plugin_package):
    from models.translation.registry import (TARGET_TO_SOURCE, WHOLE_TARGET_LAYER, get_method,
                                             method_names)

    translator = importlib.import_module("lrm_adapt.algorithms.train_translator")
    specs = {name: getattr(get_method(name), "SPEC", None) for name in method_names()}
    towards_source = [n for n, spec in specs.items() if spec and spec.direction == "target_to_source"]
    assert list(TARGET_TO_SOURCE) == towards_source == list(translator.TARGET_TO_SOURCE_METHODS) == ["benjdira"]
    # the two-generator GANs sample the whole TARGET layer, the others one one-shot window
    assert list(WHOLE_TARGET_LAYER) == [n for n, spec in specs.items() if spec]


def test_the_shared_contract_is_plain_data_that_loads_without_the_backend():
    # QGIS imports models/contract/ in its own Python, where torch, numpy or GDAL may be
    # missing: its modules import nothing but the standard library and each other.
    import ast
    import glob
    import os
    import subprocess
    import sys

    import models.contract as contract

    folder = os.path.dirname(contract.__file__)
    imported = set()
    for path in glob.glob(os.path.join(folder, "*.py")):
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names}
        imported |= {("." * node.level) + (node.module or "") for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom)}
    assert imported <= {"os", "dataclasses", ".", ".defaults", ".enums", ".parameters"}, imported
    code = "import sys, models.contract; print(sorted(m for m in ('torch', 'numpy', 'osgeo') if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(folder)))
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


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
    presets = importlib.import_module("lrm_adapt.algorithms.presets")
    assert tuple(presets.PRESET_NAMES) == contract.PRESETS == tuple(presets.PRESETS)
    convert = importlib.import_module("lrm_adapt.algorithms.convert_labels")
    assert convert.DIRECTIONS is contract.LABEL_DIRECTIONS
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
