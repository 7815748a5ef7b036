"""lrm:train_translator -- train the one-shot translator on SOURCE and one TARGET sample."""

from qgis.core import QgsProcessingOutputNumber, QgsProcessingOutputString

from ..models import contract
from . import parameters as P
from .base import GROUP_ADAPTATION, LrmAlgorithm, run_training

# Enum orders are public (qgis_process passes indices) and shared with the backend;
# the options and their display names are in models/contract/parameters.py.
METHODS = contract.METHODS
PERCEPTUAL_LOSSES = contract.PERCEPTUAL_LOSSES  # LRM's loss family (--perceptual-loss)
STYLE_MIXINGS = contract.STYLE_MIXINGS  # how LRM mixes the style half (--style-mixing)
# Methods whose model translates TARGET images towards the SOURCE look (the segmenter is
# trained on the untranslated SOURCE); a test checks it against the method modules.
TARGET_TO_SOURCE_METHODS = contract.TARGET_TO_SOURCE


def style_mixing_index(algorithm, parameters, context):
    """The STYLE_MIXING index, or None when it is not set (the loss family decides)."""
    if P.is_unset(parameters, "STYLE_MIXING"):
        return None
    return algorithm.parameterAsEnum(parameters, "STYLE_MIXING", context)


NUMBERS = ("PATCH_SIZE", "BATCH_SIZE", "EPOCHS", "MAX_ITERATIONS", "LEARNING_RATE", "WEIGHT_DECAY",
           "LAMBDA_REC", "LAMBDA_ADV", "LAMBDA_CONTENT", "LAMBDA_STYLE", "PATIENCE", "FDA_BETA")


class TrainTranslator(LrmAlgorithm):
    NAME = "train_translator"
    DISPLAY_NAME = "Train translator (one-shot)"
    GROUP = GROUP_ADAPTATION
    HELP = (
        "Trains an image-to-image translator that restyles SOURCE images like the TARGET "
        "image, from a single square sample of TARGET (the one-shot sample, ONE_SHOT_SIZE).\n\n"
        "SOURCE: the labelled-domain images (one or more rasters). TARGET: a raster of the "
        "domain to adapt to; the sample is taken inside TARGET_EXTENT when given (any CRS), "
        "otherwise chosen automatically (a patch without nodata whose colours are most "
        "representative of the whole layer). BANDS: which bands to translate (default 1,2,3); "
        "SOURCE and TARGET must both have them.\n\n"
        "METHOD (enum, in this order): 0 lrm (default; the paper's 0.115M-parameter latent "
        "mixing translator), 1 histogram_matching, 2 fda (Fourier domain adaptation, FDA_BETA), "
        "3 cyclegan (samples the whole TARGET layer), 4 colormapgan (8-bit imagery only), "
        "5 dualgan (samples the whole TARGET layer; PATCH_SIZE a multiple of 128), 6 benjdira "
        "(Benjdira et al.: a CycleGAN whose model translates TARGET images towards the "
        "SOURCE look; translate the TARGET with it and classify with a segmenter trained on "
        "the untranslated SOURCE).\n\n"
        "Training stops after EPOCHS, at MAX_ITERATIONS (0 = no cap; use e.g. 50 for a quick "
        "look on a CPU) or when the validation loss on held-out SOURCE patches has not improved "
        "for PATIENCE epochs. The best model is saved whenever validation improves, so a "
        "cancelled run keeps it.\n\n"
        "PERCEPTUAL_LOSS (enum, in this order; METHOD lrm only): 0 auto (default): the paper's "
        "VGG19 content and style losses when ImageNet VGG19 weights load (VGG_WEIGHTS, "
        "torchvision's cache, or a download when the machine is online), otherwise, e.g. "
        "offline, the weight-free losses; 1 vgg19_imagenet: exactly the paper's losses, an error "
        "naming VGG_WEIGHTS when no ImageNet weights are found; 2 weight_free: losses that need "
        "no pretrained network; 3 vgg19_random: the paper's losses on a random VGG19 (worse; "
        "only for comparison, never chosen by auto). 'Check environment' shows what auto will "
        "use on this machine and where the weights are looked for. PERCEPTUAL_LOSS_USED reports "
        "the family that ran (empty for the other METHODs).\n\n"
        "STYLE_MIXING (enum, in this order; advanced): 0 spatial (as published), 1 global "
        "(style averaged over the image). Not set: global for weight_free, spatial for the "
        "VGG19 losses.\n\n"
        "ONE_SHOT_SIZE: side of the one-shot TARGET sample in pixels (default 512; 0 = "
        "PATCH_SIZE; never less than PATCH_SIZE; the largest square that fits when TARGET, or "
        "TARGET_EXTENT, is smaller).\n\n"
        "DEVICE: auto (CUDA GPU when available), cpu, cuda or cuda:N; for lrm also a list "
        "(cuda:0,1, cuda:all, cpu:N): one data-parallel rank per device, BATCH_SIZE source "
        "patches each. If the GPU runs out of memory, lower BATCH_SIZE or PATCH_SIZE. The model "
        "file (.safetensors) holds everything 'Translate raster' needs.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputNumber("PARAMETERS", "Trainable parameters (encoder + decoder)"))
        self.addOutput(QgsProcessingOutputNumber("SECONDS_PER_ITERATION", "Seconds per training iteration"))
        self.addOutput(QgsProcessingOutputNumber("BEST_VALIDATION_LOSS", "Best validation loss"))
        self.addOutput(QgsProcessingOutputString("TARGET_WINDOW", "One-shot window (x, y, width, height in TARGET pixels)"))
        self.addOutput(QgsProcessingOutputString("PERCEPTUAL_LOSS_USED", "Perceptual losses used (LRM)"))

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
        args += P.number_args(self, parameters, context, NUMBERS)
        vgg = self.parameterAsFile(parameters, "VGG_WEIGHTS", context)
        if vgg:
            args += ["--vgg-weights", vgg]
        args += ["--perceptual-loss", PERCEPTUAL_LOSSES[self.parameterAsEnum(parameters, "PERCEPTUAL_LOSS", context)]]
        mixing = style_mixing_index(self, parameters, context)
        if mixing is not None:
            args += ["--style-mixing", STYLE_MIXINGS[mixing]]
        args += ["--one-shot-size", self.parameterAsInt(parameters, "ONE_SHOT_SIZE", context)]
        return args + P.device_and_seed_args(self, parameters, context)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = P.model_output(self, parameters, context)
        report_args, report = P.training_report_args(self, parameters, context)
        args = self.build_args(parameters, context) + ["--output", output] + report_args
        result = run_training(self, "train-translator", args, feedback, output)
        window = result.get("target_window") or []
        used = result.get("perceptual_loss_used") or ""
        if used:
            feedback.pushInfo(f"Losses: {used}, style mixing {result.get('style_mixing')}, "
                              f"one-shot sample {result.get('one_shot_size')} px")
        return {"OUTPUT": result.get("output", output), "OUTPUT_HTML": result.get("output_html") or report,
                "PARAMETERS": result.get("parameters"),
                "SECONDS_PER_ITERATION": result.get("seconds_per_iteration"),
                "BEST_VALIDATION_LOSS": result.get("best_validation_loss"),
                "TARGET_WINDOW": ",".join(str(v) for v in window),
                "PERCEPTUAL_LOSS_USED": used}
