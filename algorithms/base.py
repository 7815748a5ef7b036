"""What every LRM Adapt Processing algorithm shares: identity, icon, help, parameters
that map onto backend CLI flags, and running the backend worker."""

import os

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException, QgsRasterLayer
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from .interpreter import plugin_root
from .qgis_compat import PARAMETER_FLAG_ADVANCED
from .worker import run_backend

GROUP_ADAPTATION = ("adaptation", "Domain adaptation")
GROUP_SEGMENTATION = ("segmentation", "Segmentation")
GROUP_TOOLS = ("tools", "Tools")


def tr(text):
    return QCoreApplication.translate("LrmAdapt", text)


def advanced(parameter):
    parameter.setFlags(parameter.flags() | PARAMETER_FLAG_ADVANCED)
    return parameter


class LrmAlgorithm(QgsProcessingAlgorithm):
    """Base class. Subclasses set NAME, DISPLAY_NAME, GROUP and HELP."""

    NAME = ""
    DISPLAY_NAME = ""
    GROUP = GROUP_TOOLS
    HELP = ""

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802
        return tr(self.DISPLAY_NAME)

    def group(self):
        return tr(self.GROUP[1])

    def groupId(self):  # noqa: N802
        return self.GROUP[0]

    def shortHelpString(self):  # noqa: N802
        return tr(self.HELP)

    def icon(self):
        return QIcon(os.path.join(plugin_root(), "resources", "icon.svg"))

    def createInstance(self):  # noqa: N802
        return type(self)()

    # -- helpers for subclasses -------------------------------------------------------
    def raster_path(self, parameters, name, context, layer=None):
        """File path of a raster-layer parameter, checked to be readable by GDAL."""
        layer = layer or self.parameterAsRasterLayer(parameters, name, context)
        if layer is None:
            raise QgsProcessingException(f"{name}: no raster layer given (or it is not a raster).")
        return self.layer_file(layer, name)

    def layer_file(self, layer, name):
        if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
            raise QgsProcessingException(f"{name}: {getattr(layer, 'name', lambda: layer)()} is not a valid raster layer.")
        path = layer.source().split("|")[0]
        if layer.providerType() != "gdal" or not os.path.isfile(path):
            raise QgsProcessingException(
                f"{name}: layer '{layer.name()}' is not a raster file on disk (provider "
                f"{layer.providerType()}). Save it as a GeoTIFF (Export > Save As...) and use that.")
        return path

    def raster_paths(self, parameters, name, context):
        layers = self.parameterAsLayerList(parameters, name, context)
        if not layers:
            raise QgsProcessingException(f"{name}: give at least one raster layer.")
        return [self.layer_file(layer, name) for layer in layers]

    def run_backend(self, command, args, feedback, outputs=(), progress_range=(0.0, 100.0)):
        return run_backend(command, args, feedback, outputs=outputs, progress_range=progress_range)


def run_training(algorithm, command, args, feedback, output, progress_range=(0.0, 100.0)):
    """Run a training command; on cancel, say whether the best model so far was kept."""
    from .worker import WorkerCancelled

    try:
        return algorithm.run_backend(command, args, feedback, outputs=[output],
                                     progress_range=progress_range)
    except WorkerCancelled:
        if os.path.isfile(output):
            raise WorkerCancelled(f"Training was cancelled. The best model so far is kept at "
                                  f"{output}; it is a valid model file.") from None
        raise WorkerCancelled("Training was cancelled before a first model was saved.") from None
