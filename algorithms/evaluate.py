"""lrm:evaluate -- score a classification against reference labels (paper's Table I metrics)."""

from qgis.core import QgsProcessingOutputNumber

from . import parameters as P
from .base import GROUP_SEGMENTATION, LrmAlgorithm


class Evaluate(LrmAlgorithm):
    NAME = "evaluate"
    DISPLAY_NAME = "Evaluate classification"
    GROUP = GROUP_SEGMENTATION
    HELP = (
        "Compares PREDICTION (a class raster) with REFERENCE labels on the same grid, window by "
        "window (any raster size). Reports per class IoU, precision, recall and F1, and mIoU, "
        "mean F1 and overall pixel accuracy in percent, as in the paper's Table I. A class absent "
        "from both rasters is left out of the means (the report says which). Pixels equal to "
        "IGNORE_VALUE in the reference are not counted.\n\n"
        "LABEL_FORMAT of the reference (enum, in this order): 0 class indices, 1 colour-coded "
        "(three bands, mapped through CLASSES). OUTPUT_TABLE is a CSV of the per-class figures; "
        "OUTPUT_HTML shows them with the confusion matrix as a picture.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputNumber("MIOU", "mIoU (%)"))
        self.addOutput(QgsProcessingOutputNumber("MEAN_F1", "Mean F1 (%)"))
        self.addOutput(QgsProcessingOutputNumber("OVERALL_ACCURACY", "Overall accuracy (%)"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        table = self.parameterAsFileOutput(parameters, "OUTPUT_TABLE", context)
        report = self.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
        args = ["--prediction", self.raster_path(parameters, "PREDICTION", context),
                "--reference", self.raster_path(parameters, "REFERENCE", context),
                "--label-format", P.LABEL_FORMATS[self.parameterAsEnum(parameters, "LABEL_FORMAT", context)],
                "--ignore-value", self.parameterAsInt(parameters, "IGNORE_VALUE", context)]
        classes = self.parameterAsString(parameters, "CLASSES", context).strip()
        if classes:
            args += ["--classes", classes]
        if table:
            args += ["--output-table", table]
        if report:
            args += ["--output-html", report]
        result = self.run_backend("evaluate", args, feedback, outputs=[table, report])
        for row in result.get("per_class", []):
            if row.get("present", True):
                feedback.pushInfo(f"{row['name']}: IoU {row['iou']:.2f}  F1 {row['f1']:.2f}")
        feedback.pushInfo(f"mIoU {result['miou']:.2f}  mean F1 {result['mean_f1']:.2f}  "
                          f"OA {result['overall_accuracy']:.2f}")
        return {"MIOU": result["miou"], "MEAN_F1": result["mean_f1"],
                "OVERALL_ACCURACY": result["overall_accuracy"],
                "OUTPUT_TABLE": table or None, "OUTPUT_HTML": report or None}
