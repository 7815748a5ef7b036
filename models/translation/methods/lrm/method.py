"""The LRM translator as a translation method (see models/translation/registry.py).

Matching the target's style half to windows of any size: the style half is a spatial
map of (32, P/2, P/2). It is tiled over the whole raster by mirror reflection (period
P in pixels, anchored at the raster's top-left corner, so the tiles join without a
jump), and each window takes the slice at its own position. Two overlapping windows
therefore combine the same style values at the same pixel, whatever their size:
tiled and single-window translations agree, and windows larger or smaller than the
one-shot patch work. Windows start at even pixels (``window_multiple`` = 2) so the
half-resolution latent lines up exactly.
"""

import numpy as np
import torch

from ....storage import model_checks as checks
from ...scaling import InputScaling
from ..common import model_patch_size
from .network import WIDTH, Generator
from .save import check_translator
from .train import train

__all__ = ["train", "load", "LRMTranslator"]  # train and load: the registry's contract


def mirror_index(start, length, period):
    """Indices into an axis of ``period`` cells, mirror-tiled, for cells start..start+length."""
    m = np.mod(np.arange(start, start + length), 2 * period)
    return np.where(m < period, m, 2 * period - 1 - m)


def tile_style(style, offsets, height, width):
    """(N, 32, height, width) slices of the mirror-tiled style map at latent ``offsets``."""
    rows_n, cols_n = style.shape[-2:]
    out = []
    for x, y in offsets:
        rows = torch.as_tensor(mirror_index(y, height, rows_n), device=style.device)
        cols = torch.as_tensor(mirror_index(x, width, cols_n), device=style.device)
        out.append(style[:, rows][:, :, cols])
    return torch.stack(out)


class LRMTranslator:
    window_multiple = 2

    def __init__(self, generator, style, scaling, bands, patch_size, device):
        self.gen, self.style, self.scaling = generator, style, scaling
        self.bands, self.preferred_window, self.device = bands, patch_size, device

    @torch.no_grad()
    def translate(self, batch, offsets=None):
        n, _, h, w = batch.shape
        if h % 2 or w % 2:
            raise ValueError("LRM windows must have even sizes")
        offsets = offsets or [(0, 0)] * n
        # float32 also on CUDA: the network is tiny, and half precision would cost up to
        # 0.4% of the value range (8-bit mantissa) in the written values
        x = torch.from_numpy(self.scaling.to_model(batch)).to(self.device)
        # On CPU one window at a time: as fast, and the convolutions' im2col buffers
        # (~75 MB per 512x512 window) then do not grow with BATCH_SIZE.
        step = n if self.device.type == "cuda" else 1
        out = np.empty(batch.shape, np.float32)
        for i in range(0, n, step):
            latent = self.gen.encode(x[i:i + step])
            style = tile_style(self.style, [(ox // 2, oy // 2) for ox, oy in offsets[i:i + step]],
                               h // 2, w // 2)
            out[i:i + step] = self.gen.decode(torch.cat([latent[:, :WIDTH], style], 1)).cpu().numpy()
        return self.scaling.to_raw(out)


def load(tensors, meta, device):
    bands = check_translator(tensors, meta)
    patch_size = model_patch_size(meta)
    scaling = InputScaling.from_meta(meta["input_scaling"], len(bands))
    state = {k[len("generator."):]: v for k, v in tensors.items() if k.startswith("generator.")}
    generator = checks.load_network(lambda: Generator(len(bands)), state, "translator")
    generator.eval().to(device)
    style = tensors["target_style"].float().to(device)
    return LRMTranslator(generator, style, scaling, bands, patch_size, device)
