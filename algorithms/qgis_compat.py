"""QGIS enum values that were renamed between QGIS 3.22 and QGIS 4 (Qt6), resolved once.

QGIS 3.30-3.36 moved many class-scoped enums into scoped enums on ``Qgis`` (for example
``QgsProcessingParameterNumber.Integer`` became ``Qgis.ProcessingNumberParameterType.Integer``)
and QGIS 4 drops the old spellings; QGIS 3.22 (Debian 12) has only the old ones. Every
module imports these names from here, so no other module spells a renamed enum
(tests/plugin/test_qt6_idioms.py guards that).
"""

from qgis.core import (Qgis, QgsProcessing, QgsProcessingParameterDefinition,
                       QgsProcessingParameterFile, QgsProcessingParameterNumber)


def _scoped(path, legacy_owner, legacy_name):
    """``Qgis.<path>`` where this QGIS has it, else ``legacy_owner.<legacy_name>``."""
    value = Qgis
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return getattr(legacy_owner, legacy_name)
    return value


NUMBER_INTEGER = _scoped("ProcessingNumberParameterType.Integer", QgsProcessingParameterNumber, "Integer")
NUMBER_DOUBLE = _scoped("ProcessingNumberParameterType.Double", QgsProcessingParameterNumber, "Double")
FILE_BEHAVIOUR_FILE = _scoped("ProcessingFileParameterBehavior.File", QgsProcessingParameterFile, "File")
FILE_BEHAVIOUR_FOLDER = _scoped("ProcessingFileParameterBehavior.Folder", QgsProcessingParameterFile,
                                "Folder")
SOURCE_TYPE_RASTER = _scoped("ProcessingSourceType.Raster", QgsProcessing, "TypeRaster")
PARAMETER_FLAG_ADVANCED = _scoped("ProcessingParameterFlag.Advanced", QgsProcessingParameterDefinition,
                                  "FlagAdvanced")


def layer_type_raster():
    """The raster layer type for ``addCustomActionForLayerType`` (Qgis.LayerType since 3.30)."""
    scoped = getattr(getattr(Qgis, "LayerType", None), "Raster", None)
    if scoped is not None:
        return scoped
    from qgis.core import QgsMapLayerType  # QGIS < 3.30
    return QgsMapLayerType.RasterLayer
