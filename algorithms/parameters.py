"""Processing parameters declared from the shared contract, and their mapping to CLI flags.

Every parameter's name, type, default, range, enum options and description are in
models/contract/parameters.py, which the backend's argparse flags are declared from too;
this module turns those specs into QgsProcessingParameter objects and reads the values
back as backend arguments. Parameter names are the public interface (users' models and
scripts use them); the backend flag is always ``--`` + the name in lower case with dashes.
"""

from qgis.core import (QgsProcessingParameterEnum, QgsProcessingParameterExtent, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterFolderDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer,
                       QgsProcessingParameterString)

from ..models import contract
from .base import advanced
from .qgis_compat import (FILE_BEHAVIOUR_FILE, FILE_BEHAVIOUR_FOLDER, NUMBER_DOUBLE, NUMBER_INTEGER,
                          SOURCE_TYPE_RASTER)

Integer = NUMBER_INTEGER
Double = NUMBER_DOUBLE

LABEL_FORMATS = contract.LABEL_FORMATS  # enum order is public: 0 index, 1 colour


def is_unset(parameters, name):
    """True when an optional parameter was left empty (None, "", or a NULL QVariant)."""
    from qgis.PyQt.QtCore import QVariant

    value = parameters.get(name)
    return value is None or value == "" or (isinstance(value, QVariant) and value.isNull())


def training_report_args(algorithm, parameters, context):
    path = "" if is_unset(parameters, "OUTPUT_HTML") else \
        algorithm.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
    return (["--output-html", path], path) if path else ([], None)


flag = contract.flag  # the one rule: --name-in-lower-case


def _number(spec):
    kind = Integer if spec.kind == "int" else Double
    return QgsProcessingParameterNumber(spec.name, spec.description, kind, spec.default, spec.optional,
                                        spec.minimum, spec.maximum)


def _file(spec):
    return QgsProcessingParameterFile(spec.name, spec.description, FILE_BEHAVIOUR_FILE, spec.extension,
                                      None, spec.optional)


def _enum(spec):
    return QgsProcessingParameterEnum(spec.name, spec.description, list(spec.labels), False,
                                      spec.default, spec.optional)


def _file_destination(spec):
    return QgsProcessingParameterFileDestination(spec.name, spec.description, spec.extension, None,
                                                 spec.optional, spec.create_by_default)


def _destination(factory):
    return lambda spec: factory(spec.name, spec.description, None, spec.optional, spec.create_by_default)


_BUILDERS = {
    "int": _number, "double": _number, "enum": _enum, "file": _file,
    "string": lambda s: QgsProcessingParameterString(s.name, s.description, s.default, False, s.optional),
    "text": lambda s: QgsProcessingParameterString(s.name, s.description, s.default, True, s.optional),
    "raster": lambda s: QgsProcessingParameterRasterLayer(s.name, s.description, None, s.optional),
    "rasters": lambda s: QgsProcessingParameterMultipleLayers(s.name, s.description, SOURCE_TYPE_RASTER,
                                                              None, s.optional),
    "folder": lambda s: QgsProcessingParameterFile(s.name, s.description, FILE_BEHAVIOUR_FOLDER, "", None,
                                                   s.optional),
    "extent": lambda s: QgsProcessingParameterExtent(s.name, s.description, None, s.optional),
    "file_out": _file_destination,
    "raster_out": _destination(QgsProcessingParameterRasterDestination),
    "folder_out": _destination(QgsProcessingParameterFolderDestination),
}


def declare(spec):
    """The Processing parameter of one contract spec (models/contract/parameters.py)."""
    parameter = _BUILDERS[spec.kind](spec)
    return advanced(parameter) if spec.advanced else parameter


def add_contract_parameters(algorithm):
    """Declare every parameter the contract lists for ``algorithm`` (by its NAME), in order."""
    for spec in contract.ALGORITHMS[algorithm.NAME]:
        algorithm.addParameter(declare(spec))


def specs(algorithm_name, *names):
    """The contract specs of some of an algorithm's parameters, by name."""
    by_name = {spec.name: spec for spec in contract.ALGORITHMS[algorithm_name]}
    return [by_name[name] for name in names]


def number_args(algorithm, parameters, context, names):
    """``--flag value`` pairs for numeric parameters, by name."""
    args = []
    for spec in specs(algorithm.NAME, *names):
        read = algorithm.parameterAsInt if spec.kind == "int" else algorithm.parameterAsDouble
        args += [spec.flag, repr(read(parameters, spec.name, context))]
    return args


def device_and_seed_args(algorithm, parameters, context):
    return ["--device", algorithm.parameterAsString(parameters, "DEVICE", context) or "auto",
            "--seed", algorithm.parameterAsInt(parameters, "SEED", context)]


def windowed_inference_args(algorithm, parameters, context):
    """The model and window flags of lrm:classify and lrm:translate (inputs: batch_inputs.py)."""
    return ["--model", algorithm.parameterAsFile(parameters, "MODEL", context),
            "--overlap", algorithm.parameterAsInt(parameters, "OVERLAP", context),
            "--batch-size", algorithm.parameterAsInt(parameters, "BATCH_SIZE", context),
            "--device", algorithm.parameterAsString(parameters, "DEVICE", context) or "auto"]


def model_output(algorithm, parameters, context, name="OUTPUT"):
    """The model file destination, checked to be .safetensors."""
    from qgis.core import QgsProcessingException

    path = algorithm.parameterAsFileOutput(parameters, name, context)
    if not path.lower().endswith(".safetensors"):
        raise QgsProcessingException(f"{name} must be a .safetensors file, not {path}.")
    return path
