"""lrm:translate -- apply a translator model to a raster of any size, or to a batch of them."""

from . import batch_inputs as B
from . import parameters as P
from .base import GROUP_ADAPTATION, LrmAlgorithm


class Translate(LrmAlgorithm):
    NAME = "translate"
    DISPLAY_NAME = "Translate raster"
    GROUP = GROUP_ADAPTATION
    HELP = (
        "Translates INPUT into the target domain's style with a model from 'Train translator'. "
        "Any raster size: it is processed in overlapping windows (OVERLAP pixels) that are "
        "blended so no seams show, and written window by window, so memory does not grow with "
        "the raster. The output has the input's size, georeferencing, nodata and data type "
        "(8-bit stays 8-bit, clipped). INPUT must have the bands the model was trained on.\n\n"
        "Many rasters: give INPUTS and/or INPUT_FOLDER (every *.tif, *.tiff, *.vrt, *.img, "
        "*.jp2 in it) and an OUTPUT_FOLDER; each raster becomes <name>.tif there and "
        "OUTPUT_MOSAIC, mosaic.vrt, covers them all and is the layer loaded. Running it again "
        "skips the outputs already complete, so a cancelled or crashed batch resumes. DEVICE as "
        "a list (cuda:0,1, cuda:all, cpu:N) translates the rasters in parallel, one worker per "
        "device.\n\n"
        "BATCH_SIZE windows are translated at once; lower it if the GPU runs out of memory. "
        "DEVICE: auto, cpu, cuda or cuda:N, or a list.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        B.add_mosaic_output(self, "Mosaic of the translated rasters (several inputs)")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        run = B.Inputs(self, parameters, context, feedback, "translate")
        args = P.windowed_inference_args(self, parameters, context) + run.args
        if run.batch:
            result = self.run_backend("translate", args, feedback, outputs=[run.mosaic])
            mosaic = B.load_mosaic(context, result.get("mosaic"), "Translated mosaic")
            return {"OUTPUT": None, "OUTPUT_FOLDER": run.output_folder, B.MOSAIC: mosaic}
        if not B.destination_value(parameters, "OUTPUT"):  # optional for batches only
            parameters = dict(parameters, OUTPUT=B.TEMPORARY)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        args += ["--output", output]
        result = self.run_backend("translate", args, feedback, outputs=[output])
        return {"OUTPUT": result.get("output", output)}
