"""lrm:classify -- classify a raster of any size, or a batch of them, with a segmenter model."""

from . import batch_inputs as B
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
        "Many rasters: give INPUTS and/or INPUT_FOLDER (every *.tif, *.tiff, *.vrt, *.img, "
        "*.jp2 in it) and an OUTPUT_FOLDER; each raster becomes <name>.tif there (and "
        "<name>_confidence.tif when OUTPUT_CONFIDENCE is set), and OUTPUT_MOSAIC, mosaic.vrt, "
        "covers them all and is the layer loaded. Running it again skips the outputs already "
        "complete, so a cancelled or crashed batch resumes. DEVICE as a list (cuda:0,1, "
        "cuda:all, cpu:N) classifies the rasters in parallel, one worker per device.\n\n"
        "INPUT must have the bands the model was trained on. Lower BATCH_SIZE if the GPU runs "
        "out of memory. DEVICE: auto, cpu, cuda or cuda:N, or a list.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        B.add_mosaic_output(self, "Mosaic of the classified rasters (several inputs)")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        run = B.Inputs(self, parameters, context, feedback, "classify")
        args = P.windowed_inference_args(self, parameters, context) + run.args
        if run.batch:
            if B.destination_value(parameters, "OUTPUT_CONFIDENCE"):
                args += ["--output-confidence", "yes"]
            result = self.run_backend("classify", args, feedback, outputs=[run.mosaic])
            mosaic = B.load_mosaic(context, result.get("mosaic"), "Classified mosaic")
            style_on_load(context, mosaic)
            return {"OUTPUT": None, "OUTPUT_CONFIDENCE": None, "OUTPUT_FOLDER": run.output_folder,
                    B.MOSAIC: mosaic}
        if not B.destination_value(parameters, "OUTPUT"):  # optional for batches only
            parameters = dict(parameters, OUTPUT=B.TEMPORARY)
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        confidence = self.parameterAsOutputLayer(parameters, "OUTPUT_CONFIDENCE", context)
        args += ["--output", output]
        if confidence:
            args += ["--output-confidence", confidence]
        result = self.run_backend("classify", args, feedback, outputs=[output, confidence])
        style_on_load(context, output)
        return {"OUTPUT": result.get("output", output),
                "OUTPUT_CONFIDENCE": result.get("output_confidence") or confidence or None}
