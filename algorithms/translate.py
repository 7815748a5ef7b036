"""lrm:translate -- apply a translator model to a raster of any size."""

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
        "BATCH_SIZE windows are translated at once; lower it if the GPU runs out of memory. "
        "DEVICE: auto, cpu, cuda or cuda:N.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        args = P.windowed_inference_args(self, parameters, context) + ["--output", output]
        result = self.run_backend("translate", args, feedback, outputs=[output])
        return {"OUTPUT": result.get("output", output)}
