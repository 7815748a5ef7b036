"""lrm:classify -- classify a raster of any size with a segmenter model."""

from . import parameters as P
from .base import GROUP_SEGMENTATION, LrmAlgorithm
from .styling import style_on_load


class Classify(LrmAlgorithm):
    NAME = "classify"
    DISPLAY_NAME = "Classify raster"
    GROUP = GROUP_SEGMENTATION
    HELP = (
        "Classifies INPUT with a model from 'Train segmenter'. Any raster size: overlapping "
        "windows (OVERLAP pixels) whose class probabilities are blended (no seams), written "
        "window by window. The class raster is 8-bit with the model's class table as colour "
        "table and category names (and a .qml style next to it); it loads with a paletted "
        "renderer showing the class names. Input nodata becomes output nodata (255). "
        "OUTPUT_CONFIDENCE (optional) is the per-pixel probability of the chosen class.\n\n"
        "INPUT must have the bands the model was trained on. Lower BATCH_SIZE if the GPU runs "
        "out of memory. DEVICE: auto, cpu, cuda or cuda:N.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        confidence = self.parameterAsOutputLayer(parameters, "OUTPUT_CONFIDENCE", context)
        args = P.windowed_inference_args(self, parameters, context) + ["--output", output]
        if confidence:
            args += ["--output-confidence", confidence]
        result = self.run_backend("classify", args, feedback, outputs=[output, confidence])
        style_on_load(context, output)
        return {"OUTPUT": result.get("output", output),
                "OUTPUT_CONFIDENCE": result.get("output_confidence") or confidence or None}
