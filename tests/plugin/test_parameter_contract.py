"""Both sides of the process boundary declare their parameters from one contract
(models/contract/parameters.py): every Processing parameter and every backend flag it
sets has the contract's name, type, default, range, options and description."""

import importlib
import math

import pytest

from models import contract
from models.cli.main import _load_command, build_parser
from models.contract.parameters import NUMBERS

QGIS_TYPES = {"int": "number", "double": "number", "enum": "enum", "string": "string", "text": "string",
              "file": "file", "folder": "file", "raster": "raster", "rasters": "multilayer", "extent": "extent",
              "file_out": "fileDestination", "raster_out": "rasterDestination",
              "folder_out": "folderDestination"}


@pytest.fixture(scope="module")
def algorithms(plugin_package, qgis_processing):
    provider = importlib.import_module("lrm_adapt.lrm_plugin.provider").LrmProvider()
    provider.loadAlgorithms()
    # the algorithms' own instances, kept alive with the provider that owns them
    yield {alg.name(): alg.createInstance() for alg in provider.algorithms()}


@pytest.fixture(scope="module")
def parsers():
    commands = {name: _load_command(name) for name in contract.COMMANDS.values()}
    parser = build_parser(commands)
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {name: {a.option_strings[0]: a for a in p._actions if a.option_strings}
            for name, p in sub.choices.items()}


def _flags_of(parameter):
    from qgis.core import QgsProcessingParameterDefinition

    return (bool(parameter.flags() & QgsProcessingParameterDefinition.FlagOptional),
            bool(parameter.flags() & QgsProcessingParameterDefinition.FlagAdvanced))


@pytest.mark.parametrize("name", sorted(contract.ALGORITHMS))
def test_processing_parameters_are_the_contracts(algorithms, name):
    algorithm = algorithms[name]
    algorithm.initAlgorithm()
    declared = algorithm.parameterDefinitions()
    specs = contract.ALGORITHMS[name]
    assert [p.name() for p in declared] == [s.name for s in specs]
    for parameter, spec in zip(declared, specs):
        where = f"{name}.{spec.name}"
        assert parameter.type() == QGIS_TYPES[spec.kind], where
        assert parameter.description() == spec.description, where
        assert _flags_of(parameter) == (spec.optional, spec.advanced), where
        if spec.kind in NUMBERS:
            assert (parameter.minimum(), parameter.maximum()) == (spec.minimum, spec.maximum), where
            assert parameter.defaultValue() == spec.default, where
        elif spec.kind == "enum":
            assert parameter.options() == list(spec.labels), where
            assert len(spec.labels) == len(spec.options), where
            assert parameter.defaultValue() == spec.default, where
        elif spec.kind in ("string", "text"):
            assert parameter.defaultValue() == spec.default, where
            assert parameter.multiLine() == (spec.kind == "text"), where
        elif spec.kind == "file":
            assert parameter.extension() == spec.extension, where
        elif spec.kind == "file_out":
            assert parameter.fileFilter() == spec.extension, where
        if spec.kind.endswith("_out"):
            assert parameter.createByDefault() == spec.create_by_default, where


@pytest.mark.parametrize("algorithm,command", sorted(contract.COMMANDS.items()))
def test_backend_flags_are_the_contracts(parsers, algorithm, command):
    flags = parsers[command]
    for spec in contract.command_flags(command):
        where = f"{command} {spec.flag}"
        assert spec.flag in flags, where
        action = flags[spec.flag]
        assert action.default == spec.flag_default, where
        assert action.type is {"int": int, "double": float}.get(spec.kind), where
        if spec.kind == "enum" and spec.cli_choices:
            assert tuple(action.choices) == spec.options, where
        assert action.required == (spec.kind in contract.parameters.PATHS and not spec.optional), where
        assert (action.__class__.__name__ == "_AppendAction") == (spec.kind == "rasters"), where
        assert (spec.help or spec.description) in action.help, where


def test_backend_configs_default_to_the_flags_defaults():
    # the dataclasses the commands build keep the same defaults as the flags (a script
    # that builds them directly gets what the command line gets)
    from models.segmentation.config import TrainConfig
    from models.translation.config import TranslatorConfig

    for config, command in ((TranslatorConfig(), "train-translator"), (TrainConfig([], [], "", None), "train-segmenter")):
        for spec in contract.command_flags(command):
            field = spec.name.lower()
            if hasattr(config, field) and spec.kind in NUMBERS + ("enum",):
                value = getattr(config, field)
                assert value == spec.flag_default or (isinstance(value, float) and math.isclose(
                    value, spec.flag_default)), f"{command} {field}: {value} != {spec.flag_default}"


def test_lrm_adapt_names_its_child_parameters_through_the_contract(plugin_package):
    adapt = importlib.import_module("lrm_adapt.algorithms.adapt")
    assert adapt.TRANSLATOR.ONE_SHOT_SIZE == "ONE_SHOT_SIZE"
    assert adapt.SEGMENTER.IMAGES == "IMAGES"
    with pytest.raises(AttributeError):
        adapt.CLASSIFY.IMAGES  # noqa: B018 -- classify has no IMAGES parameter
    source = open(adapt.__file__, encoding="utf-8").read()
    # child parameter dictionaries are keyed by contract names, not string literals
    assert '{"INPUT"' not in source and '"IMAGES":' not in source and '"SOURCE":' not in source
