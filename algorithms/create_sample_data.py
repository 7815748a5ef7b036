"""lrm:create_sample_data -- the embedded synthetic source/target data set."""

from qgis.core import QgsProcessingOutputMultipleLayers, QgsProcessingOutputString

from ..models import contract
from . import parameters as P
from .base import GROUP_TOOLS, LrmAlgorithm

SHIFTS = list(contract.SAMPLE_SHIFTS)  # enum order shared with the backend


class CreateSampleData(LrmAlgorithm):
    NAME = "create_sample_data"
    DISPLAY_NAME = "Create sample data"
    GROUP = GROUP_TOOLS
    HELP = (
        "Writes a small synthetic data set for trying the plugin: a source domain and a target "
        "domain of aerial-looking 3-band IR-R-G scenes with the six ISPRS classes (clutter, "
        "building, low vegetation, tree, car, impervious surfaces) and a real domain shift "
        "between them (different spectral response per class, resolution, blur and noise).\n\n"
        "Layout of OUTPUT_FOLDER: source/images, source/labels (class indices with a colour "
        "table), source/labels_rgb (ISPRS colours), target/images, target/labels and "
        "target/labels_rgb (reference labels, for evaluation only), all georeferenced GeoTIFFs. "
        "The same SEED gives the same files.\n\n"
        "SHIFT picks the target domain. radiometric (default): early-spring colours, other "
        "roofs and asphalt, 6 cm; per-band histogram matching undoes much of it. "
        "sensor_season: a dry-summer city seen by another sensor, 5 cm: each class changes its "
        "own way (vegetation loses IR while roofs gain it) and the bands mix, which per-band "
        "histogram matching cannot undo. The source domain is the same for both.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputMultipleLayers("SOURCE_IMAGES", "Source images"))
        self.addOutput(QgsProcessingOutputMultipleLayers("SOURCE_LABELS", "Source labels"))
        self.addOutput(QgsProcessingOutputMultipleLayers("TARGET_IMAGES", "Target images"))
        self.addOutput(QgsProcessingOutputMultipleLayers("TARGET_LABELS", "Target reference labels"))
        self.addOutput(QgsProcessingOutputString("SHIFT", "Domain shift"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        folder = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        args = ["--output-folder", folder,
                "--tiles", self.parameterAsInt(parameters, "TILES", context),
                "--size", self.parameterAsInt(parameters, "SIZE", context),
                "--seed", self.parameterAsInt(parameters, "SEED", context),
                "--shift", SHIFTS[self.parameterAsEnum(parameters, "SHIFT", context)]]
        result = self.run_backend("create-sample-data", args, feedback)
        return {"OUTPUT_FOLDER": result.get("output_folder", folder),
                "SOURCE_IMAGES": result.get("source_images", []),
                "SOURCE_LABELS": result.get("source_labels", []),
                "TARGET_IMAGES": result.get("target_images", []),
                "TARGET_LABELS": result.get("target_labels", []),
                "SHIFT": result.get("shift", "")}
