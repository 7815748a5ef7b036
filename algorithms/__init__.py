"""Processing algorithms: one module per algorithm, thin over the backend worker."""

from .adapt import Adapt
from .check_environment import CheckEnvironment
from .classify import Classify
from .convert_labels import ConvertLabels
from .create_sample_data import CreateSampleData
from .evaluate import Evaluate
from .export_segmenter import ExportSegmenter
from .install_backend import InstallBackend
from .train_segmenter import TrainSegmenter
from .train_translator import TrainTranslator
from .translate import Translate

ALGORITHMS = [
    CheckEnvironment,
    InstallBackend,
    CreateSampleData,
    TrainTranslator,
    Translate,
    TrainSegmenter,
    Classify,
    ExportSegmenter,
    Evaluate,
    ConvertLabels,
    Adapt,
]
