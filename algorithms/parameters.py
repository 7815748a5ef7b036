"""Parameter factories shared by several algorithms, and their mapping to CLI flags.

Parameter names are the public interface (users' models and scripts use them); the
backend flag is always ``--`` + the name in lower case with dashes.
"""

from qgis.core import (QgsProcessing, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterString)

from .base import advanced

Integer = QgsProcessingParameterNumber.Integer
Double = QgsProcessingParameterNumber.Double

LABEL_FORMATS = ["index", "color"]  # enum order is public: 0 index, 1 colour
LABEL_FORMAT_NAMES = ["Class indices (one band)", "Colour-coded (three bands, class table colours)"]


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
    return QgsProcessingParameterFile(name, description, QgsProcessingParameterFile.File,
                                      "safetensors")


def weights_file(name, description):
    return advanced(QgsProcessingParameterFile(
        name, description, QgsProcessingParameterFile.File, "", optional=True))


def raster_list(name, description):
    return QgsProcessingParameterMultipleLayers(name, description, QgsProcessing.TypeRaster)


def label_format(default=0):
    return QgsProcessingParameterEnum("LABEL_FORMAT", "Label format", LABEL_FORMAT_NAMES,
                                      defaultValue=default)


def classes():
    return QgsProcessingParameterString(
        "CLASSES", "Class table (empty: the six ISPRS classes; text 'index name r,g,b; ...' "
        "or a .csv/.qml file)", "", multiLine=True, optional=True)


def ignore_value():
    return advanced(integer("IGNORE_VALUE", "Label value left out of training and metrics", 255, 0, 255))
