"""Parameter factories shared by several algorithms, and their mapping to CLI flags.

Parameter names are the public interface (users' models and scripts use them); the
backend flag is always ``--`` + the name in lower case with dashes.
"""

from qgis.core import (QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterString)

from ..models import contract
from .base import advanced
from .qgis_compat import FILE_BEHAVIOUR_FILE, NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_TYPE_RASTER

Integer = NUMBER_INTEGER
Double = NUMBER_DOUBLE

LABEL_FORMATS = contract.LABEL_FORMATS  # enum order is public: 0 index, 1 colour
LABEL_FORMAT_NAMES = ["Class indices (one band)", "Colour-coded (three bands, class table colours)"]


def is_unset(parameters, name):
    """True when an optional parameter was left empty (None, "", or a NULL QVariant)."""
    from qgis.PyQt.QtCore import QVariant

    value = parameters.get(name)
    return value is None or value == "" or (isinstance(value, QVariant) and value.isNull())


def training_report():
    """OUTPUT_HTML of the training algorithms: an optional report (curves, pictures)."""
    from qgis.core import QgsProcessingParameterFileDestination

    return QgsProcessingParameterFileDestination(
        "OUTPUT_HTML", "Training report (optional)", "HTML files (*.html)", optional=True,
        createByDefault=False)


def training_report_args(algorithm, parameters, context):
    path = "" if is_unset(parameters, "OUTPUT_HTML") else \
        algorithm.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
    return (["--output-html", path], path) if path else ([], None)


def flag(name):
    return "--" + name.lower().replace("_", "-")


def integer(name, description, default, minimum=None, maximum=None, is_advanced=False):
    p = QgsProcessingParameterNumber(name, description, Integer, default, False,
                                     minimum if minimum is not None else -2**31 + 1,
                                     maximum if maximum is not None else 2**31 - 1)
    return advanced(p) if is_advanced else p


def double(name, description, default, minimum=None, maximum=None, is_advanced=False):
    p = QgsProcessingParameterNumber(name, description, Double, default, False,
                                     minimum if minimum is not None else -1e308,
                                     maximum if maximum is not None else 1e308)
    return advanced(p) if is_advanced else p


def device():
    return advanced(QgsProcessingParameterString(
        "DEVICE", "Device (auto, cpu, cuda or cuda:N)", "auto"))


def seed():
    return advanced(integer("SEED", "Random seed", 0, 0))


def bands():
    return QgsProcessingParameterString(
        "BANDS", "Bands to use, e.g. 1,2,3 (empty: the first three)", "", optional=True)


def model_file(name="MODEL", description="Model file"):
    return QgsProcessingParameterFile(name, description, FILE_BEHAVIOUR_FILE,
                                      "safetensors")


def weights_file(name, description):
    return advanced(QgsProcessingParameterFile(
        name, description, FILE_BEHAVIOUR_FILE, "", optional=True))


def raster_list(name, description):
    return QgsProcessingParameterMultipleLayers(name, description, SOURCE_TYPE_RASTER)


def label_format(default=0):
    return QgsProcessingParameterEnum("LABEL_FORMAT", "Label format", LABEL_FORMAT_NAMES,
                                      defaultValue=default)


def classes():
    return QgsProcessingParameterString(
        "CLASSES", "Class table (empty: the six ISPRS classes; text 'index name r,g,b; ...' "
        "or a .csv/.qml file)", "", multiLine=True, optional=True)


def ignore_value():
    return advanced(integer("IGNORE_VALUE", "Label value left out of training and metrics", 255, 0, 255))


# -- groups of parameters shared by several algorithms ---------------------------------

# Training knobs both trainers share, with the paper's defaults:
# (name, description, "int"|"double", default, minimum, maximum, advanced).
TRAINING_NUMBERS = [
    ("PATCH_SIZE", "Patch size (pixels)", "int", contract.PATCH_SIZE, 32, 8192, False),
    ("BATCH_SIZE", "Batch size", "int", contract.BATCH_SIZE, 1, 4096, False),
    ("EPOCHS", "Maximum number of epochs", "int", 100, 1, 100000, False),
    ("MAX_ITERATIONS", "Maximum number of iterations (0 = no cap)", "int", 0, 0, 10**9, False),
    ("LEARNING_RATE", "Learning rate", "double", contract.LEARNING_RATE, 0.0, 10.0, True),
    ("WEIGHT_DECAY", "Weight decay", "double", contract.WEIGHT_DECAY, 0.0, 1.0, True),
]
PATIENCE = ("PATIENCE", "Early-stopping patience (epochs; 0 = off)", "int", 10, 0, 100000, True)

def add_numbers(algorithm, specs):
    """Add numeric parameters from specs: (name, description, "int"|"double", default,
    minimum, maximum, advanced)."""
    for name, description, kind, default, minimum, maximum, is_advanced in specs:
        factory = integer if kind == "int" else double
        algorithm.addParameter(factory(name, description, default, minimum, maximum, is_advanced))


def number_args(algorithm, parameters, context, specs):
    """``--flag value`` pairs for the numeric parameters in specs."""
    args = []
    for name, _, kind, *_ in specs:
        read = algorithm.parameterAsInt if kind == "int" else algorithm.parameterAsDouble
        args += [flag(name), repr(read(parameters, name, context))]
    return args


def device_and_seed_args(algorithm, parameters, context):
    return ["--device", algorithm.parameterAsString(parameters, "DEVICE", context) or "auto",
            "--seed", algorithm.parameterAsInt(parameters, "SEED", context)]


def add_windowed_inference(algorithm, model_description):
    """INPUT, MODEL, OVERLAP, BATCH_SIZE and DEVICE of translate and classify."""
    from qgis.core import QgsProcessingParameterRasterLayer

    algorithm.addParameter(QgsProcessingParameterRasterLayer("INPUT", "Input raster"))
    algorithm.addParameter(model_file("MODEL", model_description))
    algorithm.addParameter(integer("OVERLAP", "Overlap between windows (pixels)", 64, 0, is_advanced=True))
    algorithm.addParameter(integer("BATCH_SIZE", "Batch size (windows)", 4, 1, is_advanced=True))
    algorithm.addParameter(device())


def windowed_inference_args(algorithm, parameters, context):
    return ["--input", algorithm.raster_path(parameters, "INPUT", context),
            "--model", algorithm.parameterAsFile(parameters, "MODEL", context),
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
