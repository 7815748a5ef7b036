"""lrm:convert_labels -- colour-coded labels to class indices and back."""

from ..models import contract
from . import parameters as P
from .base import GROUP_SEGMENTATION, LrmAlgorithm
from .styling import style_on_load

DIRECTIONS = contract.LABEL_DIRECTIONS  # enum order is public, shared with the backend


class ConvertLabels(LrmAlgorithm):
    NAME = "convert_labels"
    DISPLAY_NAME = "Convert labels (colours <-> class indices)"
    GROUP = GROUP_SEGMENTATION
    HELP = (
        "Converts label rasters between colour-coded RGB (e.g. the ISPRS benchmark's labels) "
        "and one-band class indices, through the class table (CLASSES; empty: the six ISPRS "
        "classes).\n\nDIRECTION (enum, in this order): 0 colours to class indices (the output "
        "gets a colour table, category names and a .qml style), 1 class indices to colours. "
        "Colours not in the table, or indices out of range, are an error listing them with "
        "their pixel counts. IGNORE_VALUE passes through as nodata.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        direction = DIRECTIONS[self.parameterAsEnum(parameters, "DIRECTION", context)]
        args = ["--input", self.raster_path(parameters, "INPUT", context), "--direction", direction,
                "--ignore-value", self.parameterAsInt(parameters, "IGNORE_VALUE", context),
                "--output", output]
        classes = self.parameterAsString(parameters, "CLASSES", context).strip()
        if classes:
            args += ["--classes", classes]
        result = self.run_backend("convert-labels", args, feedback, outputs=[output])
        if direction == "to-index":
            style_on_load(context, output)
        return {"OUTPUT": result.get("output", output)}
