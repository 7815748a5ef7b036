"""lrm:export_segmenter -- a segmenter model as ONNX for the Deepness plugin."""

from qgis.core import QgsProcessingOutputNumber

from . import parameters as P
from .base import GROUP_SEGMENTATION, LrmAlgorithm


class ExportSegmenter(LrmAlgorithm):
    NAME = "export_segmenter"
    DISPLAY_NAME = "Export segmenter for Deepness (ONNX)"
    GROUP = GROUP_SEGMENTATION
    HELP = (
        "Writes a model from 'Train segmenter' as an ONNX file that the Deepness plugin "
        "(Deep Neural Remote Sensing) runs as a Segmentor, with the metadata Deepness reads: "
        "class names, tile size, tile overlap and resolution. The model's input scaling is "
        "folded into the graph, so for 8-bit imagery Deepness predicts what 'Classify raster' "
        "predicts on the same tile.\n\n"
        "TILE_SIZE: the tile side Deepness cuts (0: the model's patch size; a multiple of 32). "
        "RESOLUTION_CM: the pixel size, in cm, Deepness resamples to (empty: the training "
        "images' pixel size when their CRS is in metres). OVERLAP_PERCENT: Deepness's overlap "
        "of neighbouring tiles. Deepness feeds a layer's first bands, divided by 255: the log "
        "says when the model's bands or data type need care.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputNumber("TILE_SIZE_USED", "Tile size written (pixels)"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        from qgis.core import QgsProcessingException

        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        if not output.lower().endswith(".onnx"):
            raise QgsProcessingException(f"OUTPUT must be an .onnx file, not {output}.")
        args = ["--model", self.parameterAsFile(parameters, "MODEL", context), "--output", output,
                "--tile-size", self.parameterAsInt(parameters, "TILE_SIZE", context),
                "--overlap-percent", self.parameterAsInt(parameters, "OVERLAP_PERCENT", context)]
        if not P.is_unset(parameters, "RESOLUTION_CM"):
            args += ["--resolution-cm", self.parameterAsDouble(parameters, "RESOLUTION_CM", context)]
        result = self.run_backend("export-segmenter", args, feedback, outputs=[output])
        return {"OUTPUT": result.get("output", output), "TILE_SIZE_USED": result.get("tile_size")}
