"""lrm:train_segmenter -- train a U-Net on images with labels (e.g. translated source images)."""

from qgis.core import QgsProcessingException, QgsProcessingOutputNumber

from ..models import contract
from . import parameters as P
from .base import GROUP_SEGMENTATION, LrmAlgorithm, run_training

NUMBERS = ("PATCH_SIZE", "BATCH_SIZE", "EPOCHS", "MAX_ITERATIONS", "LEARNING_RATE", "WEIGHT_DECAY",
           "PATIENCE", "VALIDATION_FRACTION")


class TrainSegmenter(LrmAlgorithm):
    NAME = "train_segmenter"
    DISPLAY_NAME = "Train segmenter (U-Net)"
    GROUP = GROUP_SEGMENTATION
    HELP = (
        "Trains a U-Net (segmentation-models-pytorch) to classify land cover from IMAGES and "
        "their LABELS, paired by order (each pair must have the same size and georeferencing). "
        "For domain adaptation, IMAGES are the source images translated with 'Translate raster'.\n\n"
        "LABEL_FORMAT (enum, in this order): 0 class indices in one band, 1 colour-coded labels "
        "in three bands, mapped through the class table. CLASSES: empty for the six ISPRS "
        "classes (0 clutter/background, 1 building, 2 low vegetation, 3 tree, 4 car, "
        "5 impervious surfaces), or 'index name r,g,b' entries separated by ';' (e.g. "
        "'0 water 0,0,255; 1 land 0,255,0'), or a .csv (index,name,r,g,b) or .qml file. "
        "Unknown colours or out-of-range indices are an error listing them. Pixels equal to "
        "IGNORE_VALUE are left out of the loss and the metrics.\n\n"
        "ENCODER: any segmentation-models-pytorch encoder (default resnet101, as in the paper). "
        "ImageNet weights come from ENCODER_WEIGHTS, the local cache, or a download when online; "
        "otherwise training starts from random weights (with a warning). Early stopping on the "
        "validation loss (PATIENCE); the best model is saved whenever validation improves, so a "
        "cancelled run keeps it. DEVICE: auto, cpu, cuda or cuda:N; lower BATCH_SIZE or "
        "PATCH_SIZE if the GPU runs out of memory.\n\n"
        "Several GPUs: DEVICE cuda:0,1 (or cuda:all; cpu:N for N CPU processes) trains one "
        "data-parallel rank per device through torch.distributed.run: BATCH_SIZE patches per "
        "device and step, each device on its own share of the patches, one model file.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputNumber("BEST_VALIDATION_MIOU", "Best validation mIoU (%)"))
        self.addOutput(QgsProcessingOutputNumber("EPOCHS_RUN", "Epochs run"))

    def build_args(self, parameters, context):
        images = self.raster_paths(parameters, "IMAGES", context)
        labels = self.raster_paths(parameters, "LABELS", context)
        if len(images) != len(labels):
            raise QgsProcessingException(
                f"{len(images)} image(s) but {len(labels)} label raster(s): give one label raster "
                f"per image, in the same order.")
        args = []
        for image, label in zip(images, labels):
            args += ["--images", image, "--labels", label]
        args += ["--label-format", P.LABEL_FORMATS[self.parameterAsEnum(parameters, "LABEL_FORMAT", context)],
                 "--ignore-value", self.parameterAsInt(parameters, "IGNORE_VALUE", context),
                 "--encoder", self.parameterAsString(parameters, "ENCODER", context).strip() or contract.ENCODER]
        for name, value in (("CLASSES", self.parameterAsString(parameters, "CLASSES", context)),
                            ("BANDS", self.parameterAsString(parameters, "BANDS", context)),
                            ("ENCODER_WEIGHTS", self.parameterAsFile(parameters, "ENCODER_WEIGHTS", context))):
            if value and value.strip():
                args += [P.flag(name), value.strip()]
        args += P.number_args(self, parameters, context, NUMBERS)
        return args + P.device_and_seed_args(self, parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = P.model_output(self, parameters, context)
        report_args, report = P.training_report_args(self, parameters, context)
        args = self.build_args(parameters, context) + ["--output", output] + report_args
        result = run_training(self, "train-segmenter", args, feedback, output)
        return {"OUTPUT": result.get("output", output), "OUTPUT_HTML": result.get("output_html") or report,
                "BEST_VALIDATION_MIOU": result.get("best_validation_miou"),
                "EPOCHS_RUN": result.get("epochs_run")}
