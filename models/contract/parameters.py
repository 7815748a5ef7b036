"""Every parameter that crosses the process boundary, declared once, as plain data.

``ALGORITHMS[<algorithm name>]`` lists an algorithm's parameters in the order the
Processing dialog shows them. The Processing side builds its ``QgsProcessingParameter*``
objects from these specs (``algorithms/parameters.py``, ``declare``), and the backend
builds its argparse flags from the same specs (``models/cli/flags.py``), so a name, type,
default, range, enum order or help text cannot drift between the two; a test checks both
sides against this module for every algorithm.

A spec with ``cli=False`` exists only in Processing (every parameter of ``lrm:adapt``,
which has no backend command of its own). Backend flags that no Processing parameter sets
(``--window``, ``--num-workers``, ...) are declared by their command alone. The flag of a
parameter is always ``--`` + its name in lower case with dashes.
"""

from dataclasses import dataclass, replace

from . import enums
from . import defaults as D

DOUBLE_MAX = 1.7976931348623157e+308   # QgsProcessingParameterNumber's own default maximum
INT_RANGE = (-2 ** 31 + 1, 2 ** 31 - 1)

# kinds of value
NUMBERS = ("int", "double")
PATHS = ("file", "folder", "raster", "rasters", "file_out", "raster_out", "folder_out")
OUTPUTS = ("file_out", "raster_out", "folder_out")


def flag(name):
    """The backend flag of parameter ``name``: ``--`` + the name in lower case with dashes."""
    return "--" + name.lower().replace("_", "-")


@dataclass(frozen=True)
class Param:
    """One parameter. ``kind``: int, double, enum, string, text (multi-line string), file,
    folder, raster, rasters (several layers), extent, file_out, raster_out or folder_out."""

    name: str
    kind: str
    description: str
    default: object = None
    minimum: float = None
    maximum: float = None
    options: tuple = ()            # enum: the values the backend takes, in index order
    labels: tuple = ()             # enum: what the dialog shows for each option
    optional: bool = False
    advanced: bool = False
    extension: str = ""            # file: required extension; file_out: the file filter
    create_by_default: bool = True  # outputs: filled in when the user leaves them alone
    cli: bool = True               # declared as a backend flag
    cli_default: object = None     # the flag's default when it differs from ``default``
    cli_choices: bool = True       # enum: restrict the flag to ``options``
    help: str = ""                 # backend help when it needs more than the description

    @property
    def flag(self):
        return flag(self.name)

    @property
    def flag_default(self):
        """The value the backend uses when the flag is not given."""
        if self.cli_default is not None:
            return self.cli_default
        if self.kind == "enum":
            return None if self.default is None else self.options[self.default]
        if self.kind in NUMBERS:
            return self.default
        return self.default or None


def integer(name, description, default, minimum=INT_RANGE[0], maximum=INT_RANGE[1], **kw):
    return Param(name, "int", description, default, minimum, maximum, **kw)


def double(name, description, default, minimum=-1e308, maximum=1e308, **kw):
    return Param(name, "double", description, default, minimum, maximum, **kw)


def enum(name, description, options, labels, default=0, **kw):
    return Param(name, "enum", description, default, options=tuple(options), labels=tuple(labels), **kw)


def named(algorithm):
    """The parameter names of ``algorithm`` as attributes (``names.SOURCE``): what code
    that fills another algorithm's parameters refers to, so a renamed parameter fails at
    once instead of being passed on unnoticed."""
    return type(f"{algorithm}_parameters", (), {p.name: p.name for p in ALGORITHMS[algorithm]})


# --- parameters several algorithms share --------------------------------------------
DEVICE = Param("DEVICE", "string", "Device (auto, cpu, cuda, cuda:N; lists: cuda:0,1, cuda:all, "
               "cpu:N)", "auto", advanced=True)
SEED = integer("SEED", "Random seed", 0, 0, advanced=True)
BANDS = Param("BANDS", "string", "Bands to use, e.g. 1,2,3 (empty: the first three)", "",
              optional=True)
LABEL_FORMAT = enum("LABEL_FORMAT", "Label format", enums.LABEL_FORMATS,
                    ("Class indices (one band)", "Colour-coded (three bands, class table colours)"),
                    cli_choices=False, help="index (0: class indices in one band) or color (1: "
                                            "class-table colours in three bands)")
CLASSES = Param("CLASSES", "text", "Class table (empty: the six ISPRS classes; text 'index name "
                "r,g,b; ...' or a .csv/.qml file)", "", optional=True)
IGNORE_VALUE = integer("IGNORE_VALUE", "Label value left out of training and metrics", 255, 0, 255,
                       advanced=True)
MODEL = Param("MODEL", "file", "Model file", extension="safetensors")
TRAINING_REPORT = Param("OUTPUT_HTML", "file_out", "Training report (optional)", optional=True,
                        extension="HTML files (*.html)", create_by_default=False)
MODEL_OUTPUT = Param("OUTPUT", "file_out", "Model", extension="Model files (*.safetensors)")

# the training knobs both trainers share, with the paper's defaults
PATCH_SIZE = integer("PATCH_SIZE", "Patch size (pixels)", D.PATCH_SIZE, 32, 8192)
BATCH_SIZE = integer("BATCH_SIZE", "Batch size", D.BATCH_SIZE, 1, 4096)
EPOCHS = integer("EPOCHS", "Maximum number of epochs", 100, 1, 100000)
MAX_ITERATIONS = integer("MAX_ITERATIONS", "Maximum number of iterations (0 = no cap)", 0, 0, 10 ** 9)
LEARNING_RATE = double("LEARNING_RATE", "Learning rate", D.LEARNING_RATE, 0.0, 10.0, advanced=True)
WEIGHT_DECAY = double("WEIGHT_DECAY", "Weight decay", D.WEIGHT_DECAY, 0.0, 1.0, advanced=True)
PATIENCE = integer("PATIENCE", "Early-stopping patience (epochs; 0 = off)", 10, 0, 100000, advanced=True)
TRAINING_NUMBERS = (PATCH_SIZE, BATCH_SIZE, EPOCHS, MAX_ITERATIONS, LEARNING_RATE, WEIGHT_DECAY)

# the translator's choices (lrm:train_translator and lrm:adapt)
METHOD = enum("METHOD", "Translation method", enums.METHODS, (
    "LRM one-shot translator (paper)", "Histogram matching", "Fourier domain adaptation (FDA)",
    "CycleGAN (uses the whole TARGET layer)", "ColorMapGAN (8-bit imagery)",
    "DualGAN (uses the whole TARGET layer)", "Benjdira et al. (translates TARGET towards SOURCE)"))
PERCEPTUAL_LOSS = enum("PERCEPTUAL_LOSS", "Perceptual losses (LRM)", enums.PERCEPTUAL_LOSSES, (
    "auto (VGG19 losses when ImageNet weights are found, else weight-free)",
    "vgg19_imagenet (the paper's VGG19 losses; needs ImageNet VGG19 weights)",
    "weight_free (no pretrained network)",
    "vgg19_random (the paper's losses on a random VGG19; for comparison only)"))
STYLE_MIXING = enum("STYLE_MIXING", "Style mixing (LRM; not set = by loss family)", enums.STYLE_MIXINGS,
                    ("spatial (as published)", "global (averaged over the image)"), default=None,
                    optional=True, advanced=True)
ONE_SHOT_SIZE = integer("ONE_SHOT_SIZE", "Size of the one-shot sample (pixels; 0 = patch size)",
                        D.ONE_SHOT_SIZE, 0)
VGG_WEIGHTS = Param("VGG_WEIGHTS", "file", "Pretrained VGG19 weights (.pth)", optional=True, advanced=True)
ENCODER_WEIGHTS = Param("ENCODER_WEIGHTS", "file", "Pretrained encoder weights", optional=True,
                        advanced=True, help="ImageNet weights file of the encoder (.safetensors or .pth)")
TARGET_EXTENT = Param("TARGET_EXTENT", "extent", "Extent of the one-shot sample", optional=True,
                      help="area of TARGET (XMIN,YMIN,XMAX,YMAX in its CRS) to take the one-shot "
                           "sample from; default: automatic")

# windowed inference (lrm:translate and lrm:classify). INPUT -> OUTPUT is one raster, as
# before; INPUTS / INPUT_FOLDER -> OUTPUT_FOLDER is a batch (models/raster/batch_inference.py),
# so INPUT and OUTPUT are optional: the algorithms say which pair is missing.
INPUT = Param("INPUT", "raster", "Input raster", optional=True)
OVERLAP = integer("OVERLAP", "Overlap between windows (pixels)", 64, 0, advanced=True)
WINDOW_BATCH = integer("BATCH_SIZE", "Batch size (windows)", 4, 1, advanced=True)
BATCH = (
    Param("INPUTS", "rasters", "Several input rasters (written to OUTPUT_FOLDER)", optional=True),
    Param("INPUT_FOLDER", "folder", "Folder of input rasters (*.tif, *.tiff, *.vrt, *.img, *.jp2)",
          optional=True),
    Param("OUTPUT_FOLDER", "folder_out", "Output folder for several inputs (<name>.tif each, "
          "and mosaic.vrt)", optional=True, create_by_default=False),
)

ALGORITHMS = {
    "train_translator": (
        Param("SOURCE", "rasters", "Source images"),
        Param("TARGET", "raster", "Target (one-shot sample) layer"),
        TARGET_EXTENT,
        replace(BANDS, cli_default=None),
        METHOD,
        *TRAINING_NUMBERS,
        double("LAMBDA_REC", "Weight of the reconstruction loss", 30.0, 0.0, advanced=True),
        double("LAMBDA_ADV", "Weight of the adversarial loss", 1000.0, 0.0, advanced=True),
        double("LAMBDA_CONTENT", "Weight of the content loss", 1.0, 0.0, advanced=True),
        double("LAMBDA_STYLE", "Weight of the style loss", 5.0, 0.0, advanced=True),
        PATIENCE,
        double("FDA_BETA", "FDA: size of the swapped low-frequency band (beta)", 0.01, 0.0, 0.5,
               advanced=True),
        VGG_WEIGHTS, DEVICE, SEED, PERCEPTUAL_LOSS, STYLE_MIXING, ONE_SHOT_SIZE,
        replace(MODEL_OUTPUT, description="Translator model"),
        TRAINING_REPORT,
    ),
    "train_segmenter": (
        Param("IMAGES", "rasters", "Images"),
        Param("LABELS", "rasters", "Labels (same order as the images)"),
        LABEL_FORMAT, CLASSES, IGNORE_VALUE,
        replace(BANDS, cli_default="1,2,3"),
        Param("ENCODER", "string", "Encoder", D.ENCODER),
        ENCODER_WEIGHTS,
        *TRAINING_NUMBERS, PATIENCE,
        double("VALIDATION_FRACTION", "Share of patches held out for validation", 0.15, 0.0, 0.9,
               advanced=True),
        DEVICE, SEED,
        replace(MODEL_OUTPUT, description="Segmenter model"),
        TRAINING_REPORT,
    ),
    "translate": (
        INPUT, replace(MODEL, description="Translator model"), OVERLAP, WINDOW_BATCH, DEVICE,
        Param("OUTPUT", "raster_out", "Translated raster", optional=True),
        *BATCH,
    ),
    "classify": (
        INPUT, replace(MODEL, description="Segmenter model"), OVERLAP, WINDOW_BATCH, DEVICE,
        Param("OUTPUT", "raster_out", "Classified raster", optional=True),
        Param("OUTPUT_CONFIDENCE", "raster_out", "Confidence (probability of the chosen class)",
              optional=True, create_by_default=False),
        *BATCH,
    ),
    "evaluate": (
        Param("PREDICTION", "raster", "Classified raster"),
        Param("REFERENCE", "raster", "Reference labels"),
        LABEL_FORMAT, CLASSES, IGNORE_VALUE,
        Param("OUTPUT_TABLE", "file_out", "Per-class metrics", optional=True,
              extension="CSV files (*.csv)"),
        Param("OUTPUT_HTML", "file_out", "Evaluation report", optional=True,
              extension="HTML files (*.html)"),
    ),
    "convert_labels": (
        Param("INPUT", "raster", "Labels"),
        enum("DIRECTION", "Direction", enums.LABEL_DIRECTIONS,
             ("Colours to class indices", "Class indices to colours"), cli_choices=False,
             help="to-index (0: colours -> class indices) or to-color (1: indices -> colours)"),
        CLASSES, IGNORE_VALUE,
        Param("OUTPUT", "raster_out", "Converted labels"),
    ),
    "create_sample_data": (
        Param("OUTPUT_FOLDER", "folder_out", "Output folder"),
        integer("TILES", "Tiles per domain", 6, 1, 500),
        integer("SIZE", "Tile size (pixels per side)", 256, 64, 1024),
        integer("SEED", "Random seed", 0, 0, DOUBLE_MAX),
        enum("SHIFT", "Domain shift", enums.SAMPLE_SHIFTS, enums.SAMPLE_SHIFTS),
    ),
    "export_segmenter": (
        replace(MODEL, description="Segmenter model"),
        Param("OUTPUT", "file_out", "ONNX model", extension="ONNX models (*.onnx)"),
        integer("TILE_SIZE", "Tile size (pixels; 0 = the model's patch size)", 0, 0, 8192),
        double("RESOLUTION_CM", "Resolution (cm per pixel; empty = from the training images)", None,
               0.01, 1e6, optional=True),
        integer("OVERLAP_PERCENT", "Tile overlap (percent)", 15, 0, 99),
    ),
    "check_environment": (
        Param("OUTPUT_HTML", "file_out", "Environment report", extension="HTML files (*.html)",
              cli=False),
    ),
    # lrm:adapt runs the algorithms above as child algorithms: it has no backend command.
    "adapt": tuple(replace(p, cli=False) for p in (
        Param("SOURCE", "rasters", "Source images"),
        Param("SOURCE_LABELS", "rasters", "Source labels (same order as the images)"),
        LABEL_FORMAT, CLASSES,
        Param("TARGET", "raster", "Target layer (one-shot sample and area to classify)"),
        TARGET_EXTENT,
        Param("TARGET_REFERENCE", "raster", "Target reference labels (evaluation only)", optional=True),
        enum("PRESET", "Preset", enums.PRESETS, enums.PRESETS),
        integer("PATCH_SIZE", "Patch size (0 = preset)", 0, 0),
        integer("BATCH_SIZE", "Batch size (0 = preset)", 0, 0),
        integer("TRANSLATOR_ITERATIONS", "Translator iterations (0 = preset)", 0, 0),
        integer("SEGMENTER_ITERATIONS", "Segmenter iterations (0 = preset)", 0, 0),
        Param("ENCODER", "string", "Encoder (empty = preset)", "", optional=True),
        BANDS, VGG_WEIGHTS, ENCODER_WEIGHTS, DEVICE, SEED, PERCEPTUAL_LOSS, STYLE_MIXING, ONE_SHOT_SIZE,
        Param("OUTPUT_TRANSLATOR", "file_out", "Translator model", extension="Model files (*.safetensors)"),
        Param("OUTPUT_SEGMENTER", "file_out", "Segmenter model", extension="Model files (*.safetensors)"),
        Param("OUTPUT_CLASSIFIED", "raster_out", "Classified target"),
        Param("OUTPUT_TRANSLATED_FOLDER", "folder_out", "Folder for the translated source images",
              optional=True, create_by_default=False),
        Param("OUTPUT_HTML", "file_out", "Evaluation report (needs TARGET_REFERENCE)", optional=True,
              extension="HTML files (*.html)", create_by_default=False),
        METHOD,
    )),
}

# The backend command of each algorithm that has one.
COMMANDS = {"train_translator": "train-translator", "train_segmenter": "train-segmenter",
            "translate": "translate", "classify": "classify", "evaluate": "evaluate",
            "convert_labels": "convert-labels", "create_sample_data": "create-sample-data",
            "export_segmenter": "export-segmenter", "check_environment": "check-environment"}


def command_flags(command):
    """The flag specs of a backend command (by its CLI name)."""
    algorithm = {c: a for a, c in COMMANDS.items()}[command]
    return tuple(p for p in ALGORITHMS[algorithm] if p.cli)
