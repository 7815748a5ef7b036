"""The paper's segmenter: a segmentation-models-pytorch U-Net.

Default encoder ResNet-101 with decoder channels (256, 128, 64, 32, 16), as in the
paper; any smp encoder name (or ``tu-<timm model>``) works. The network is always
built without weights here; ``encoder_weights`` loads ImageNet weights explicitly, so
building never triggers a download.
"""

from .. import contract
from ..errors import LrmError

DEFAULT_ENCODER = contract.ENCODER
DECODER_CHANNELS = (256, 128, 64, 32, 16)
ENCODER_DEPTH = 5
OUTPUT_STRIDE = 2 ** ENCODER_DEPTH  # input sides must be multiples of this


def encoder_names():
    from segmentation_models_pytorch.encoders import get_encoder_names

    return get_encoder_names()


def check_encoder(name):
    """Return the encoder name if smp knows it, else raise an error listing valid names."""
    name = (name or "").strip()
    names = encoder_names()
    if name in names:
        return name
    if name.startswith("tu-"):
        import timm

        if timm.is_model(name[3:]):
            return name
    raise LrmError(f"Unknown ENCODER {name!r}. Valid names: {', '.join(names)}; or 'tu-' "
                   f"followed by a timm model name (e.g. tu-resnet50). The paper uses resnet101.")


def build_unet(encoder, in_channels, n_classes, decoder_channels=DECODER_CHANNELS):
    """A randomly initialised U-Net (no download)."""
    import segmentation_models_pytorch as smp

    encoder = check_encoder(encoder)
    if in_channels < 1:
        raise LrmError("The segmenter needs at least one input band.")
    try:
        return smp.Unet(encoder_name=encoder, encoder_depth=ENCODER_DEPTH, encoder_weights=None,
                        decoder_channels=tuple(int(c) for c in decoder_channels),
                        in_channels=int(in_channels), classes=int(n_classes))
    except (ValueError, KeyError, RuntimeError) as exc:
        raise LrmError(f"Cannot build a U-Net with ENCODER {encoder!r} and {in_channels} input "
                       f"band(s): {exc}") from None


def count_parameters(model):
    return int(sum(p.numel() for p in model.parameters()))
