"""One raster or a batch: what lrm:classify and lrm:translate read and write.

INPUT -> OUTPUT is one raster, exactly as before batches existed (users' scripts and
graphical models pass these two). INPUTS and/or INPUT_FOLDER -> OUTPUT_FOLDER is a batch
(models/raster/batch_inference.py; INPUT joins it when given too): every output is
``<input name>.tif`` in OUTPUT_FOLDER and their ``mosaic.vrt`` is the OUTPUT_MOSAIC result,
the layer loaded. The checks here tell the dialog's user what is missing before a worker
starts.
"""

import os

from qgis.core import (QgsProcessingContext, QgsProcessingException, QgsProcessingOutputLayerDefinition,
                       QgsProcessingOutputRasterLayer)

from .parameters import is_unset

MOSAIC = "OUTPUT_MOSAIC"
TEMPORARY = "TEMPORARY_OUTPUT"


def add_mosaic_output(algorithm, description):
    algorithm.addOutput(QgsProcessingOutputRasterLayer(MOSAIC, description))


def destination_value(parameters, name):
    """The path a destination parameter was given ("" when skipped), without registering it
    as a layer to load (``parameterAsOutputLayer`` would)."""
    value = parameters.get(name)
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue()
    return "" if is_unset({name: value}, name) else str(value)


class Inputs:
    """The input flags of a run, and whether it is a batch (then ``output_folder`` is set)."""

    def __init__(self, algorithm, parameters, context, feedback, verb):
        layers = [] if is_unset(parameters, "INPUTS") else \
            algorithm.parameterAsLayerList(parameters, "INPUTS", context)
        inputs = [algorithm.layer_file(layer, "INPUTS") for layer in layers]
        folder = "" if is_unset(parameters, "INPUT_FOLDER") else \
            algorithm.parameterAsFile(parameters, "INPUT_FOLDER", context)
        self.output_folder = "" if is_unset(parameters, "OUTPUT_FOLDER") else \
            algorithm.parameterAsFileOutput(parameters, "OUTPUT_FOLDER", context)
        self.batch = bool(inputs or folder or self.output_folder)
        single = None if is_unset(parameters, "INPUT") else algorithm.raster_path(parameters, "INPUT", context)
        if not self.batch:
            if single is None:
                raise QgsProcessingException(
                    f"INPUT: give the raster to {verb}, or give several as INPUTS and/or "
                    f"INPUT_FOLDER with an OUTPUT_FOLDER.")
            self.args = ["--input", single]
            return
        if folder and not os.path.isdir(folder):
            raise QgsProcessingException(f"INPUT_FOLDER {folder} is not a folder: choose the folder "
                                         f"that holds the rasters to {verb}.")
        if not (inputs or folder or single):
            raise QgsProcessingException(f"OUTPUT_FOLDER is set but there is nothing to {verb}: give "
                                         f"the rasters as INPUTS and/or INPUT_FOLDER.")
        if not self.output_folder:
            raise QgsProcessingException(
                "OUTPUT_FOLDER: several inputs (INPUTS / INPUT_FOLDER) are written to a folder, one "
                "<input name>.tif each, with a mosaic.vrt of them all; choose that folder.")
        output = destination_value(parameters, "OUTPUT")
        if output and output != TEMPORARY:
            feedback.pushWarning(f"OUTPUT ({output}) is not used for several inputs: the outputs go "
                                 f"to OUTPUT_FOLDER {self.output_folder}.")
        self.args = (["--input", single] if single else []) + \
            [a for path in inputs for a in ("--inputs", path)] + \
            (["--input-folder", folder] if folder else []) + ["--output-folder", self.output_folder]

    @property
    def mosaic(self):
        return os.path.join(self.output_folder, "mosaic.vrt")


def load_mosaic(context, mosaic, name):
    """Load the batch's mosaic when the run has a project to load it into (not in qgis_process)."""
    if mosaic and context.project() is not None:
        context.addLayerToLoadOnCompletion(mosaic, QgsProcessingContext.LayerDetails(
            name, context.project(), MOSAIC))
    return mosaic
