"""Sliding windows with overlap and seamless blending, written strip by strip.

Windows follow torchgeo's rule: stride = window - overlap, and the last window of a
row or column is moved back so it ends exactly at the raster edge. Predictions of
overlapping windows are averaged with weights that ramp linearly from the window
border over ``overlap`` pixels, so no seam shows where windows meet.

Memory: ``blend_windows`` keeps one strip of ``window`` rows x raster width x
channels (float32) plus the batch being predicted; finished rows are handed to the
writer as soon as no later window can touch them. For an 8000-pixel-wide raster with
512-pixel windows and 6 channels that is ~110 MB, whatever the raster's height.
"""

import numpy as np

from .. import contract

# Windowed inference (translate and classify) runs in windows of FAST_WINDOW pixels where
# the output does not depend on the window: measured on the CPU, 512-pixel windows
# translate 3.5x faster than 128-pixel ones (less border overhead and more work per call),
# and larger ones gain nothing more. The blending strip (window rows x raster width x
# channels, float32, plus the weights) is held within STRIP_BUDGET_BYTES.
FAST_WINDOW = contract.INFERENCE_WINDOW
STRIP_BUDGET_BYTES = 512 * 2**20


def inference_window(minimum, width, channels, multiple=1, fast=FAST_WINDOW,
                     budget=STRIP_BUDGET_BYTES):
    """Window side for windowed inference: ``fast``, halved while the blending strip of a
    ``width``-pixel-wide raster with ``channels`` channels would exceed ``budget`` bytes,
    never below ``minimum`` (the model's own patch size), rounded up to ``multiple``."""
    window = max(int(minimum), int(fast))
    while window > minimum and window * width * (channels + 1) * 4 > budget:
        window = max(int(minimum), window // 2)
    return -(-window // multiple) * multiple


def window_starts(length, window, overlap):
    if length <= window:
        return [0]
    stride = max(1, window - overlap)
    starts = list(range(0, length - window, stride))
    starts.append(length - window)
    return sorted(set(starts))


def window_grid(width, height, window, overlap):
    """List of rows, each a list of (x, y, w, h) windows covering the raster."""
    if overlap < 0 or overlap >= window:
        raise ValueError(f"overlap must be in [0, window); got {overlap} for window {window}")
    xs = window_starts(width, window, overlap)
    ys = window_starts(height, window, overlap)
    return [[(x, y, min(window, width), min(window, height)) for x in xs] for y in ys]


def blend_weights(height, width, overlap):
    """(H, W) float32 weights: 1 in the middle, ramping towards 1/(overlap+1) at borders."""
    def ramp(n):
        if overlap <= 0:
            return np.ones(n, np.float32)
        r = np.minimum(np.arange(1, n + 1), np.arange(n, 0, -1)).astype(np.float32)
        return np.minimum(r / (overlap + 1), 1.0)

    return np.outer(ramp(height), ramp(width)).astype(np.float32)


def blend_windows(width, height, channels, window, overlap, predict, write,
                  batch_size=1, progress=None):
    """Predict every window, blend overlaps, and write finished rows.

    predict(list of (x, y, w, h)) -> float32 array (N, channels, h, w)
    write(y0, blended (channels, rows, width))  -- rows y0 .. y0+rows-1 are final
    progress(fraction in 0..1), optional
    """
    grid = window_grid(width, height, window, overlap)
    total = sum(len(row) for row in grid)
    done = 0
    strip_h = min(window, height)
    acc = np.zeros((channels, strip_h, width), np.float32)
    wsum = np.zeros((strip_h, width), np.float32)
    strip_y0 = 0
    for r, row in enumerate(grid):
        y = row[0][1]
        if y > strip_y0:  # shift the strip so that it starts at y
            shift = y - strip_y0
            acc[:, :-shift] = acc[:, shift:]
            acc[:, -shift:] = 0
            wsum[:-shift] = wsum[shift:]
            wsum[-shift:] = 0
            strip_y0 = y
        for i in range(0, len(row), batch_size):
            batch = row[i:i + batch_size]
            preds = predict(batch)
            for (x, wy, w, h), pred in zip(batch, preds):
                weight = blend_weights(h, w, overlap)
                acc[:, wy - strip_y0:wy - strip_y0 + h, x:x + w] += pred * weight
                wsum[wy - strip_y0:wy - strip_y0 + h, x:x + w] += weight
            done += len(batch)
            if progress:
                progress(done / total)
        next_y = grid[r + 1][0][1] if r + 1 < len(grid) else height
        rows = next_y - strip_y0
        if rows > 0:
            write(strip_y0, acc[:, :rows] / np.maximum(wsum[:rows], 1e-12))


def pad_to_multiple(array, multiple, mode="reflect"):
    """Pad a (..., H, W) array on the bottom/right to multiples of ``multiple``.

    Returns the padded array; crop the prediction back with ``[..., :H, :W]``.
    """
    h, w = array.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return array
    pad = [(0, 0)] * (array.ndim - 2) + [(0, ph), (0, pw)]
    if mode == "reflect" and (ph >= h or pw >= w):
        mode = "symmetric" if (ph <= h and pw <= w) else "edge"
    return np.pad(array, pad, mode=mode)


def effective_overlap(overlap, window, reporter=None):
    """The overlap to use for ``window``-pixel windows.

    A negative overlap is an error. One that is not smaller than the window (e.g. the
    default 64 with a model trained on 64-pixel patches) is halved to ``window // 2``
    with a warning rather than refused: the user asked for seamless blending, and that
    is the most of it the window allows.
    """
    from ..errors import LrmError

    if overlap < 0:
        raise LrmError(f"OVERLAP must be 0 or more pixels, got {overlap}.")
    if overlap >= window:
        if reporter is not None:
            reporter.warning(f"OVERLAP {overlap} is not smaller than the {window}-pixel "
                             f"windows; using {window // 2}.")
        return window // 2
    return overlap
