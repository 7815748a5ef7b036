"""Histogram matching: per-band quantile mapping of the SOURCE domain onto the target.

The classic mapping (the one scikit-image's ``match_histograms`` computes) sends a
source value with cumulative frequency ``c`` to the target value with cumulative
frequency ``c``. ``match_histograms`` matches one image to another, but translation
runs window by window: matching each window separately would give every window its own
mapping (seams, and a window of roofs would be forced to the histogram of a whole
scene). So the mapping is fixed at training time and stored as a lookup table:

* SOURCE cumulative histogram per band, over every pixel of every SOURCE raster
  (windowed reads, nodata excluded). Integer bands of up to 16 bits use one bin per
  value (exact); other types use ``FLOAT_BINS`` equal bins between the band's minimum
  and maximum (found in a first pass).
* TARGET cumulative histogram per band, over the one-shot target patch.
* Table: each source bin value -> the target value at the same cumulative frequency
  (linear interpolation between target values, as scikit-image does).

Translation maps values through the table with ``numpy.interp`` (values between bins
are interpolated, values outside the source range take the end values), so the result
does not depend on the window. Zero parameters, no iterations.
"""

import numpy as np

from ...errors import LrmError
from ...storage import model_checks as checks
from ...storage.model_file import save_model
from ...raster.io import nodata_mask, open_raster, read_window
from ..sampling import check_inputs, one_shot_sample
from .common import Translator, provenance, require_meta, require_tensors, result

METHOD = "histogram_matching"
BLOCK = 1024        # pixels per side of the blocks read to build the histograms
FLOAT_BINS = 65536  # bins for float and 32-bit bands


def _blocks(width, height):
    for y in range(0, height, BLOCK):
        for x in range(0, width, BLOCK):
            yield x, y, min(BLOCK, width - x), min(BLOCK, height - y)


def _valid_values(ds, info, bands, window):
    """(C, N) float64 values of a block without nodata (or NaN) pixels."""
    data = read_window(ds, bands, *window)
    keep = ~nodata_mask(data, [info.nodata[b - 1] for b in bands])
    values = data[:, keep].astype(np.float64)
    if np.issubdtype(data.dtype, np.floating):
        values = values[:, np.isfinite(values).all(axis=0)]
    return values


def _exact_bins(dtypes):
    """(first value, bin count) when every raster has an integer type of <= 16 bits."""
    dtypes = [np.dtype(d) for d in dtypes]
    if all(np.issubdtype(d, np.integer) and d.itemsize <= 2 for d in dtypes):
        low = min(np.iinfo(d).min for d in dtypes)
        high = max(np.iinfo(d).max for d in dtypes)
        return int(low), int(high - low + 1)
    return None


def source_histograms(infos, bands, progress=None):
    """Per band: (bin values, counts) over every valid pixel of every SOURCE raster."""
    channels = len(bands)
    exact = _exact_bins([info.dtype for info in infos])
    passes = [] if exact else ["range"]
    passes.append("count")
    total = sum(1 for info in infos for _ in _blocks(info.width, info.height)) * len(passes)
    done = 0
    low = np.full(channels, np.inf)
    high = np.full(channels, -np.inf)
    counts = None
    for stage in passes:
        if stage == "count":
            if exact:
                start, nbins = exact
                centers = np.tile(np.arange(start, start + nbins, dtype=np.float64), (channels, 1))
            else:
                if not np.isfinite(low).all():
                    break
                nbins = FLOAT_BINS
                span = np.where(high > low, high - low, 1.0)
                edges = low[:, None] + span[:, None] * np.linspace(0, 1, nbins + 1)[None]
                centers = (edges[:, :-1] + edges[:, 1:]) / 2
            counts = np.zeros((channels, nbins), np.int64)
        for info in infos:
            ds = open_raster(info.path)
            for window in _blocks(info.width, info.height):
                values = _valid_values(ds, info, bands, window)
                if values.shape[1]:
                    if stage == "range":
                        low = np.minimum(low, values.min(axis=1))
                        high = np.maximum(high, values.max(axis=1))
                    else:
                        for c in range(channels):
                            if exact:
                                index = (values[c] - exact[0]).astype(np.int64)
                            else:
                                index = ((values[c] - low[c]) / span[c] * nbins).astype(np.int64)
                                index = np.clip(index, 0, nbins - 1)
                            counts[c] += np.bincount(index, minlength=nbins)
                done += 1
                if progress:
                    progress(done / total)
    if counts is None or counts.sum(axis=1).min() == 0:
        raise LrmError("Every SOURCE pixel is nodata in the selected BANDS: there is no "
                       "histogram to match. Check the SOURCE layers and their nodata value.")
    return [(centers[c][counts[c] > 0], counts[c][counts[c] > 0]) for c in range(channels)]


def matching_table(source_hist, target_values):
    """(source bin values, target values at the same cumulative frequencies) of one band."""
    values, counts = source_hist
    source_cdf = np.cumsum(counts) / counts.sum()
    t_values, t_counts = np.unique(target_values, return_counts=True)
    target_cdf = np.cumsum(t_counts) / t_counts.sum()
    return values, np.interp(source_cdf, target_cdf, t_values)


def _target_values(config, target_info, bands, window, filled):
    """(C, N) valid values of the one-shot window (nodata excluded, unlike ``filled``)."""
    raw = read_window(open_raster(config.target), bands, *window).astype(np.float64)
    keep = ~nodata_mask(raw, [target_info.nodata[b - 1] for b in bands])
    values = raw[:, keep]
    return values if values.shape[1] else filled.reshape(filled.shape[0], -1)


def train(config, reporter):
    config.validate()
    bands, source_infos, target_info = check_inputs(config.sources, config.target,
                                                    config.bands, config.patch_size)
    reporter.info("Histogram matching: per-band lookup table from the SOURCE histograms "
                  "(every pixel of every SOURCE raster) to the one-shot target patch.")
    patch, window = one_shot_sample(config, target_info, bands, reporter)
    reporter.progress(5)
    target = _target_values(config, target_info, bands, window, patch)
    hists = source_histograms(source_infos, bands,
                              lambda f: reporter.progress(5 + 90 * f))
    tables = [matching_table(h, target[c]) for c, h in enumerate(hists)]
    length = max(len(t[0]) for t in tables)
    source_values = np.zeros((len(bands), length))
    mapped_values = np.zeros((len(bands), length))
    for c, (values, mapped) in enumerate(tables):
        source_values[c, :len(values)] = values
        mapped_values[c, :len(values)] = mapped
        source_values[c, len(values):] = values[-1]
        mapped_values[c, len(values):] = mapped[-1]
    import torch

    save_model(config.output, {
        "source_values": torch.from_numpy(source_values),
        "mapped_values": torch.from_numpy(mapped_values),
        "lengths": torch.tensor([len(t[0]) for t in tables], dtype=torch.int64),
    }, {
        "kind": "translator", "method": METHOD,
        **provenance(config, bands, target_info, source_infos, window),
        "target_percentiles": {str(p): [float(np.percentile(target[c], p))
                                        for c in range(len(bands))] for p in (1, 50, 99)},
    })
    reporter.progress(100)
    return result(config, 0, window, "cpu", table_sizes=[len(t[0]) for t in tables])


class HistogramTranslator(Translator):
    def __init__(self, bands, source_values, mapped_values, lengths):
        super().__init__(bands, window_multiple=1, preferred_window=None)
        self.tables = [(source_values[c, :n], mapped_values[c, :n])
                       for c, n in enumerate(lengths)]

    def translate(self, batch, offsets=None):
        batch = np.asarray(batch, np.float32)
        if batch.shape[1] != len(self.tables):
            raise LrmError(f"Histogram matching model for {len(self.tables)} band(s) got "
                           f"{batch.shape[1]}.")
        out = np.empty_like(batch)
        for c, (values, mapped) in enumerate(self.tables):
            out[:, c] = np.interp(batch[:, c], values, mapped)
        return out


def load(tensors, meta, device):
    require_meta(meta, ["bands"], METHOD)
    require_tensors(tensors, ["source_values", "mapped_values", "lengths"], METHOD)
    bands = checks.bands(meta)
    source_values = tensors["source_values"].double().cpu().numpy()
    mapped_values = tensors["mapped_values"].double().cpu().numpy()
    lengths = tensors["lengths"].double().cpu().numpy()
    channels = len(bands)
    if (source_values.ndim != 2 or source_values.shape != mapped_values.shape
            or source_values.shape[0] != channels or lengths.shape != (channels,)
            or np.any(lengths < 1) or np.any(lengths > source_values.shape[1])
            or np.any(lengths != np.round(lengths))):
        raise LrmError("This histogram matching model file is inconsistent (table shapes do "
                       "not match its bands). Train it again.")
    lengths = [int(n) for n in lengths]
    if any(np.any(np.diff(source_values[c, :n]) < 0) for c, n in enumerate(lengths)):
        raise LrmError("This histogram matching model file is damaged: its source values are "
                       "not in increasing order. Train it again.")
    return HistogramTranslator(bands, source_values, mapped_values, lengths)
