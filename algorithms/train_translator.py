"""lrm:train_translator -- train the one-shot translator on SOURCE and one TARGET sample."""

from qgis.core import (QgsProcessingOutputNumber, QgsProcessingOutputString,
                       QgsProcessingParameterEnum, QgsProcessingParameterExtent,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterRasterLayer)

from . import parameters as P
from .base import GROUP_ADAPTATION, LrmAlgorithm, run_training

# Enum order is public (qgis_process passes indices): append only.
METHODS = ["lrm", "histogram_matching", "fda", "cyclegan", "colormapgan"]
METHOD_NAMES = ["LRM one-shot translator (paper)", "Histogram matching", "Fourier domain adaptation (FDA)",
                "CycleGAN (uses the whole TARGET layer)", "ColorMapGAN (8-bit imagery)"]

NUMERIC = P.TRAINING_NUMBERS + [  # (name, description, kind, default, minimum, maximum, advanced)
    ("LAMBDA_REC", "Weight of the reconstruction loss", "double", 30.0, 0.0, None, True),
    ("LAMBDA_ADV", "Weight of the adversarial loss", "double", 1000.0, 0.0, None, True),
    ("LAMBDA_CONTENT", "Weight of the content loss", "double", 1.0, 0.0, None, True),
    ("LAMBDA_STYLE", "Weight of the style loss", "double", 5.0, 0.0, None, True),
    P.PATIENCE,
    ("FDA_BETA", "FDA: size of the swapped low-frequency band (beta)", "double", 0.01, 0.0, 0.5, True),
]


class TrainTranslator(LrmAlgorithm):
    NAME = "train_translator"
    DISPLAY_NAME = "Train translator (one-shot)"
    GROUP = GROUP_ADAPTATION
    HELP = (
        "Trains an image-to-image translator that restyles SOURCE images like the TARGET "
        "image, from a single PATCH_SIZE square sample of TARGET (the one-shot sample).\n\n"
        "SOURCE: the labelled-domain images (one or more rasters). TARGET: a raster of the "
        "domain to adapt to; the sample is taken inside TARGET_EXTENT when given (any CRS), "
        "otherwise chosen automatically (a patch without nodata whose colours are most "
        "representative of the whole layer). BANDS: which bands to translate (default 1,2,3); "
        "SOURCE and TARGET must both have them.\n\n"
        "METHOD (enum, in this order): 0 lrm (default; the paper's 0.115M-parameter latent "
        "mixing translator), 1 histogram_matching, 2 fda (Fourier domain adaptation, FDA_BETA), "
        "3 cyclegan (samples the whole TARGET layer), 4 colormapgan (8-bit imagery only).\n\n"
        "Training stops after EPOCHS, at MAX_ITERATIONS (0 = no cap; use e.g. 50 for a quick "
        "look on a CPU) or when the validation loss on held-out SOURCE patches has not improved "
        "for PATIENCE epochs. The best model is saved whenever validation improves, so a "
        "cancelled run keeps it. Without pretrained VGG19 weights (VGG_WEIGHTS, or torchvision's "
        "cache) the style and content losses use a random VGG19 and results are worse; "
        "'Check environment' shows where the weights are looked for.\n\n"
        "DEVICE: auto (CUDA GPU when available), cpu, cuda or cuda:N. If the GPU runs out of "
        "memory, lower BATCH_SIZE or PATCH_SIZE. The model file (.safetensors) holds everything "
        "'Translate raster' needs.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(P.raster_list("SOURCE", "Source images"))
        self.addParameter(QgsProcessingParameterRasterLayer("TARGET", "Target (one-shot sample) layer"))
        self.addParameter(QgsProcessingParameterExtent("TARGET_EXTENT", "Extent of the one-shot sample",
                                                       optional=True))
        self.addParameter(P.bands())
        self.addParameter(QgsProcessingParameterEnum("METHOD", "Translation method", METHOD_NAMES,
                                                     defaultValue=0))
        P.add_numbers(self, NUMERIC)
        self.addParameter(P.weights_file("VGG_WEIGHTS", "Pretrained VGG19 weights (.pth)"))
        self.addParameter(P.device())
        self.addParameter(P.seed())
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT", "Translator model", "Model files (*.safetensors)"))
        self.addOutput(QgsProcessingOutputNumber("PARAMETERS", "Trainable parameters (encoder + decoder)"))
        self.addOutput(QgsProcessingOutputNumber("SECONDS_PER_ITERATION", "Seconds per training iteration"))
        self.addOutput(QgsProcessingOutputNumber("BEST_VALIDATION_LOSS", "Best validation loss"))
        self.addOutput(QgsProcessingOutputString("TARGET_WINDOW", "One-shot window (x, y, width, height in TARGET pixels)"))

    def build_args(self, parameters, context):
        target_layer = self.parameterAsRasterLayer(parameters, "TARGET", context)
        args = []
        for path in self.raster_paths(parameters, "SOURCE", context):
            args += ["--source", path]
        args += ["--target", self.raster_path(parameters, "TARGET", context, target_layer)]
        if parameters.get("TARGET_EXTENT") not in (None, ""):
            extent = self.parameterAsExtent(parameters, "TARGET_EXTENT", context, target_layer.crs())
            if not extent.isNull() and not extent.isEmpty():
                args += ["--target-extent", f"{extent.xMinimum()!r},{extent.yMinimum()!r},"
                                            f"{extent.xMaximum()!r},{extent.yMaximum()!r}"]
        bands = self.parameterAsString(parameters, "BANDS", context).strip()
        if bands:
            args += ["--bands", bands]
        args += ["--method", METHODS[self.parameterAsEnum(parameters, "METHOD", context)]]
        args += P.number_args(self, parameters, context, NUMERIC)
        vgg = self.parameterAsFile(parameters, "VGG_WEIGHTS", context)
        if vgg:
            args += ["--vgg-weights", vgg]
        return args + P.device_and_seed_args(self, parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = P.model_output(self, parameters, context)
        args = self.build_args(parameters, context) + ["--output", output]
        result = run_training(self, "train-translator", args, feedback, output)
        window = result.get("target_window") or []
        return {"OUTPUT": result.get("output", output),
                "PARAMETERS": result.get("parameters"),
                "SECONDS_PER_ITERATION": result.get("seconds_per_iteration"),
                "BEST_VALIDATION_LOSS": result.get("best_validation_loss"),
                "TARGET_WINDOW": ",".join(str(v) for v in window)}
