"""Every training parameter of the segmenter, with the paper's defaults, and their checks.

``TrainConfig`` is what ``train-segmenter`` builds from its flags (their defaults are the
same: tests/plugin/test_parameter_contract.py) and what ``train_segmenter`` receives.
"""

from dataclasses import dataclass, field

from .. import contract
from ..errors import LrmError
from ..labels.rasters import check_ignore_value, parse_label_format
from .network import DECODER_CHANNELS, OUTPUT_STRIDE, check_encoder

MIN_PATCH = 32  # the U-Net halves a patch five times


@dataclass
class TrainConfig:
    images: list
    labels: list
    output: str
    classes: object
    label_format: str = "index"
    ignore_value: int = 255
    bands: str = "1,2,3"
    encoder: str = contract.ENCODER
    encoder_weights: str = None
    patch_size: int = contract.PATCH_SIZE
    batch_size: int = contract.BATCH_SIZE
    epochs: int = 100
    max_iterations: int = 0
    learning_rate: float = contract.LEARNING_RATE
    weight_decay: float = contract.WEIGHT_DECAY
    patience: int = 10
    validation_fraction: float = 0.15
    device: str = "auto"
    seed: int = 0
    num_workers: int = -1  # -1: 0 on CPU, a few on CUDA
    decoder_channels: tuple = field(default=DECODER_CHANNELS)


def check_config(cfg):
    if not str(cfg.output).lower().endswith(".safetensors"):
        raise LrmError(f"OUTPUT {cfg.output} must be a .safetensors model file.")
    if cfg.patch_size < MIN_PATCH or cfg.patch_size % OUTPUT_STRIDE:
        raise LrmError(f"PATCH_SIZE must be a multiple of {OUTPUT_STRIDE} and at least "
                       f"{MIN_PATCH} (the U-Net halves it 5 times), got {cfg.patch_size}.")
    if cfg.patch_size == MIN_PATCH and cfg.batch_size < 2:
        raise LrmError(f"PATCH_SIZE {MIN_PATCH} leaves 1x1 pixel at the U-Net's bottom, where "
                       f"batch normalisation needs at least 2 patches per batch: use BATCH_SIZE "
                       f">= 2 or a larger PATCH_SIZE.")
    for name, value, low in (("BATCH_SIZE", cfg.batch_size, 1), ("EPOCHS", cfg.epochs, 1),
                             ("MAX_ITERATIONS", cfg.max_iterations, 0),
                             ("PATIENCE", cfg.patience, 0)):
        if value < low:
            raise LrmError(f"{name} must be at least {low}, got {value}.")
    if not cfg.learning_rate > 0:
        raise LrmError(f"LEARNING_RATE must be positive, got {cfg.learning_rate}.")
    if cfg.weight_decay < 0:
        raise LrmError(f"WEIGHT_DECAY must be >= 0, got {cfg.weight_decay}.")
    if not 0 <= cfg.validation_fraction < 1:
        raise LrmError(f"VALIDATION_FRACTION must be in [0, 1), got {cfg.validation_fraction}.")
    cfg.label_format = parse_label_format(cfg.label_format)
    cfg.ignore_value = check_ignore_value(cfg.ignore_value, cfg.classes)
    cfg.encoder = check_encoder(cfg.encoder)
