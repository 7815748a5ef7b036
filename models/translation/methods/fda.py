"""Fourier Domain Adaptation (Yang & Soatto, CVPR 2020).

Each window keeps its phase spectrum (the structure of the scene) and gets the target's
amplitude spectrum at low frequencies (overall colour, brightness and illumination
gradients). As in the published method, the swapped region is the square of
``2b + 1`` x ``2b + 1`` frequencies around the zero frequency, with
``b = floor(min(H, W) * beta)``; beta is FDA_BETA (default 0.01). Two deliberate
differences:

* beta = 0 turns FDA off: the output is exactly the input. (The published formula
  would still swap the zero-frequency term, i.e. the mean, since b = 0 leaves a 1x1
  square.)
* b is capped at ``(min(H, W) - 1) // 2`` so the square fits in the window.

Windows of another size than the target patch. The model file stores the target
patch's amplitude spectrum divided by its pixel count (so the zero frequency is the
band mean, independent of size), centred (``fftshift``). A window of H x W pixels has
frequencies ``ky / H`` and ``kx / W`` cycles per pixel; the target amplitude at those
frequencies is read from the stored P x P spectrum by bilinear interpolation at
positions ``ky * P / H`` and ``kx * P / W`` from its centre, then multiplied by the
window's pixel count H * W. When the window has the patch size (the default: the
translator prefers windows of PATCH_SIZE) the positions are whole numbers and the
stored values are used as they are, exactly as in the published method.

Zero parameters, no iterations. Values are raw raster values (FFT is linear, so no
scaling is needed); ``apply`` clips the result to the output type's range.
"""

import numpy as np

from ...errors import LrmError
from ...storage import model_checks as checks
from ...storage.model_file import save_model
from ..sampling import check_inputs, one_shot_sample
from .common import (Translator, model_patch_size, provenance, require_meta, require_tensors,
                     result)

METHOD = "fda"


def normalised_amplitude(patch):
    """(C, H, W) -> centred amplitude spectrum divided by H * W (float64)."""
    h, w = patch.shape[-2:]
    spectrum = np.fft.fft2(np.asarray(patch, np.float64), axes=(-2, -1))
    return np.fft.fftshift(np.abs(spectrum), axes=(-2, -1)) / (h * w)


def half_size(height, width, beta):
    """b of the (2b+1)^2 swapped square; None when nothing is swapped (beta = 0)."""
    if beta <= 0:
        return None
    return min(int(np.floor(min(height, width) * beta)), (min(height, width) - 1) // 2)


def _axis_weights(count, size, target_size):
    """Interpolation indices/weights on the target's centred axis for k = -b..b."""
    b = (count - 1) // 2
    pos = np.arange(-b, b + 1) * (target_size / size) + target_size // 2
    pos = np.clip(pos, 0, target_size - 1)
    low = np.floor(pos).astype(np.int64)
    high = np.minimum(low + 1, target_size - 1)
    return low, high, pos - low


def target_low_frequencies(amplitude, b, height, width):
    """(C, 2b+1, 2b+1) target amplitude on an H x W window's frequency grid."""
    _, th, tw = amplitude.shape
    y0, y1, fy = _axis_weights(2 * b + 1, height, th)
    x0, x1, fx = _axis_weights(2 * b + 1, width, tw)
    rows = (amplitude[:, y0, :] * (1 - fy)[None, :, None]
            + amplitude[:, y1, :] * fy[None, :, None])
    values = rows[:, :, x0] * (1 - fx)[None, None, :] + rows[:, :, x1] * fx[None, None, :]
    return values * (height * width)


def swap_low_frequencies(batch, amplitude, beta):
    """FDA on a (N, C, H, W) batch; ``amplitude`` from :func:`normalised_amplitude`."""
    batch = np.asarray(batch, np.float32)
    h, w = batch.shape[-2:]
    b = half_size(h, w, beta)
    if b is None:
        return batch.copy()
    spectrum = np.fft.fft2(batch.astype(np.float64), axes=(-2, -1))
    amp = np.fft.fftshift(np.abs(spectrum), axes=(-2, -1))
    phase = np.angle(spectrum)
    cy, cx = h // 2, w // 2
    low = target_low_frequencies(amplitude, b, h, w)
    amp[:, :, cy - b:cy + b + 1, cx - b:cx + b + 1] = low[None]
    amp = np.fft.ifftshift(amp, axes=(-2, -1))
    out = np.fft.ifft2(amp * np.exp(1j * phase), axes=(-2, -1)).real
    return out.astype(np.float32)


def train(config, reporter):
    config.validate()
    bands, source_infos, target_info = check_inputs(config.sources, config.target, config.bands,
                                         config.patch_size)
    patch, window = one_shot_sample(config, target_info, bands, reporter)
    amplitude = normalised_amplitude(patch)
    b = half_size(config.patch_size, config.patch_size, config.fda_beta)
    if b is None:
        reporter.warning("FDA_BETA is 0: FDA swaps nothing and the translation is the identity.")
    else:
        reporter.info(f"FDA: beta {config.fda_beta:g} swaps the {2 * b + 1}x{2 * b + 1} lowest "
                      f"frequencies of each {config.patch_size}-pixel window with the target's.")
    import torch

    save_model(config.output, {"target_amplitude": torch.from_numpy(amplitude.astype(np.float32))},
               {"kind": "translator", "method": METHOD, "beta": float(config.fda_beta),
                **provenance(config, bands, target_info, source_infos, window)})
    reporter.progress(100)
    return result(config, 0, window, "cpu", beta=float(config.fda_beta))


class FdaTranslator(Translator):
    def __init__(self, bands, amplitude, beta, patch_size):
        super().__init__(bands, window_multiple=1, preferred_window=patch_size)
        self.amplitude, self.beta = amplitude, beta

    def translate(self, batch, offsets=None):
        if np.shape(batch)[1] != self.amplitude.shape[0]:
            raise LrmError(f"FDA model for {self.amplitude.shape[0]} band(s) got "
                           f"{np.shape(batch)[1]}.")
        return swap_low_frequencies(batch, self.amplitude, self.beta)


def load(tensors, meta, device):
    require_meta(meta, ["bands", "beta", "patch_size"], METHOD)
    require_tensors(tensors, ["target_amplitude"], METHOD)
    bands = checks.bands(meta)
    beta = checks.number(meta["beta"], "beta", 0.0, 0.5)
    amplitude = tensors["target_amplitude"].double().cpu().numpy()
    if amplitude.ndim != 3 or amplitude.shape[0] != len(bands) or 0 in amplitude.shape:
        raise LrmError("This FDA model file is inconsistent (amplitude spectrum does not match "
                       "its bands). Train it again.")
    return FdaTranslator(bands, amplitude, beta, model_patch_size(meta))
