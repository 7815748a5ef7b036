"""Reading a segmenter model file: its metadata checked, its U-Net built and loaded.

Classification (``predict.py``) and the ONNX export read segmenter files the same way,
here: every metadata value they use is checked first (``models.storage.model_checks``),
and the U-Net is built only after its architecture was matched against the file's
tensors, so a damaged or edited file is one LrmError naming the file.
"""

from dataclasses import dataclass

from ..errors import LrmError
from ..labels.classes import ClassTable
from ..storage import model_checks as checks
from ..storage.model_file import DAMAGED, MAX_BANDS, load_model, naming, short
from .network import DECODER_CHANNELS, build_unet, check_encoder

MAX_PATCH_SIZE = 2**16
REQUIRED = ("classes", "bands", "in_channels", "input_scaling", "patch_size", "encoder")


@dataclass
class SegmenterFile:
    model: object        # the U-Net, weights loaded, on the CPU, in eval mode
    meta: dict           # the file's metadata, the values checked here in their checked form
    classes: ClassTable
    bands: list          # 1-based band numbers
    scaling: dict        # input_scaling: "mean" and "std" per band (checked), "dtype"
    patch_size: int
    encoder: str


def _scaling(meta, channels):
    scaling = checks.mapping(meta, "input_scaling")
    dtype = scaling.get("dtype")
    if dtype is not None and not (isinstance(dtype, str) and len(dtype) <= 40):
        raise LrmError(f"The model metadata 'input_scaling.dtype' is {short(dtype)}, not a "
                       f"data type name. {DAMAGED}")
    return dict(scaling, mean=checks.numbers(scaling.get("mean"), "input_scaling.mean", channels),
                std=checks.numbers(scaling.get("std"), "input_scaling.std", channels,
                                   nonzero=True))


def _encoder(meta):
    name = meta.get("encoder")
    if not isinstance(name, str) or len(name) > 100:
        raise LrmError(f"The model metadata 'encoder' is {short(name)}, not an encoder name. "
                       f"{DAMAGED}")
    try:
        return check_encoder(name)
    except LrmError:  # its message lists every encoder: too long here
        raise LrmError(f"The model's encoder {name!r} is unknown to this installation of "
                       f"segmentation-models-pytorch (written with a newer version, or the "
                       f"file was edited). Update the backend requirements or retrain the "
                       f"model.") from None


def _training_images(meta):
    training = meta.get("training")
    images = training.get("images") if isinstance(training, dict) else None
    return [i for i in images if isinstance(i, str)] if isinstance(images, list) else []


def read_segmenter(path):
    """A :class:`SegmenterFile` from the model file at ``path`` (LrmError naming the file
    when it is not a usable segmenter)."""
    tensors, meta = load_model(path, expected_kind="segmenter")
    with naming(path):
        checks.require_keys(meta, REQUIRED, "segmenter")
        classes = ClassTable.from_dict(meta["classes"])
        bands = checks.bands(meta)
        in_channels = checks.whole_number(meta["in_channels"], "in_channels", 1, MAX_BANDS)
        if in_channels != len(bands):
            raise LrmError(f"The model declares {in_channels} input channels for "
                           f"{len(bands)} bands. {DAMAGED}")
        scaling = _scaling(meta, in_channels)
        patch_size = checks.whole_number(meta["patch_size"], "patch_size", 1, MAX_PATCH_SIZE)
        encoder = _encoder(meta)
        decoder = meta.get("decoder_channels") or list(DECODER_CHANNELS)
        if not isinstance(decoder, list) or len(decoder) != len(DECODER_CHANNELS):
            raise LrmError(f"The model metadata 'decoder_channels' is {short(decoder)}, not "
                           f"{len(DECODER_CHANNELS)} channel counts. {DAMAGED}")
        decoder = [checks.whole_number(c, "decoder_channels", 1, 4096) for c in decoder]
        model = checks.load_network(
            lambda: build_unet(encoder, in_channels, len(classes), decoder), tensors,
            "segmenter")
    training = meta["training"] if isinstance(meta.get("training"), dict) else {}
    meta = dict(meta, bands=bands, in_channels=in_channels, input_scaling=scaling,
                patch_size=patch_size, encoder=encoder, decoder_channels=decoder,
                classes=classes.to_dict(), training=dict(training, images=_training_images(meta)))
    return SegmenterFile(model.eval(), meta, classes, bands, scaling, patch_size, encoder)
