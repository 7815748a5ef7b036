"""Translate a raster of any size with a trained translator of any method.

Windows of the model's preferred size (the training patch size for LRM) slide over the
raster with OVERLAP pixels of overlap and are blended with linear ramps
(``models.raster.tiling.blend_windows``), so memory is bounded by one strip of windows, not
by the raster. Each window is read at an offset aligned to the method's
``window_multiple`` (the extra pixels on its left/top are cropped again) and padded on
its right/bottom to a multiple of it.

Output: the translated bands (``translator.bands``) with the input's width, height,
geotransform, CRS, nodata and data type. Integer types are rounded and clipped to
their range (uint8 stays 0..255). Nodata pixels of the input are nodata in the output
(they are filled with the window's band means before translation, so they do not
disturb their neighbours, and marked NaN through the blending); a translated valid
pixel that happens to equal the nodata value is moved by one step so it stays valid.
NaN (or infinite) pixels of a float raster are not data either, nodata set or not
(``nodata_mask``): they are the nodata value in the output, or NaN when there is none.
A nodata value the data type cannot hold (-9999 on a Byte raster) marks no pixel and is
kept as it is. A raster smaller than the window is translated as one window padded to
the window's size, and a WINDOW below twice ``window_multiple`` is raised to it (with a
warning), so that networks with instance statistics get more than one value.
"""

import numpy as np

from ..runtime.devices import describe_device, flush_denormals, resolve_device
from ..errors import LrmError
from ..storage.model_file import load_model, naming, short
from ..raster.inference import WindowedRaster, plan_windows, run_windows
from ..raster.io import RasterWriter, cast_to_dtype, check_output_path, nodata_mask
from .registry import get_method
from .sampling import fill_nodata

def _round_up(value, multiple):
    return -(-value // multiple) * multiple


def _pad(array, height, width):
    """Pad (C, h, w) on the bottom/right to (C, height, width) by reflection."""
    ph, pw = height - array.shape[1], width - array.shape[2]
    if ph == 0 and pw == 0:
        return array
    mode = "reflect" if ph < array.shape[1] and pw < array.shape[2] else "edge"
    return np.pad(array, ((0, 0), (0, ph), (0, pw)), mode=mode)


def _representable(value, dtype):
    """Can a pixel of ``dtype`` hold the nodata ``value`` (NaN only in float types)?"""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(value).is_integer() and info.min <= value <= info.max
    return bool(np.isnan(value) or dtype.type(value) == value)


def _keep_valid(values, nodata, dtype):
    """Move translated valid pixels off the nodata value (so they stay valid)."""
    hit = values == nodata
    if not hit.any():
        return values
    if np.issubdtype(dtype, np.integer):
        step = 1 if nodata <= np.iinfo(dtype).min else -1
        values[hit] = nodata + step
    else:
        values[hit] = np.nextafter(np.asarray(nodata, dtype), np.asarray(np.inf, dtype))
    return values


def _trained_on(meta):
    """(TARGET band count or '?', SOURCE band counts, SOURCE dtypes) from the model's
    provenance metadata; informative only, so malformed entries are skipped."""
    target = meta.get("target")
    count = target.get("band_count") if isinstance(target, dict) else None
    sources = meta.get("sources")
    sources = [s for s in sources if isinstance(s, dict)] if isinstance(sources, list) else []
    counts = {s.get("band_count") for s in sources if isinstance(s.get("band_count"), int)}
    dtypes = {s.get("dtype") for s in sources if isinstance(s.get("dtype"), str)}
    return count if isinstance(count, int) else "?", counts, dtypes


def check_bands(translator, info, meta, model_path, reporter):
    needed = max(translator.bands)
    target_bands, trained, dtypes = _trained_on(meta)
    if needed > info.band_count:
        raise LrmError(
            f"The model {model_path} was made for bands {short(translator.bands, 100)} "
            f"({len(translator.bands)} of a {target_bands}-band "
            f"raster), but INPUT {info.describe()} has only {info.band_count} band(s). "
            f"Translate a raster with the same bands as the training rasters.")
    if trained and info.band_count not in trained:
        reporter.warning(f"INPUT has {info.band_count} bands but the model was trained on "
                         f"{short(sorted(trained), 100)}-band rasters; bands "
                         f"{short(translator.bands, 100)} are "
                         f"assumed to hold the same data.")
    if dtypes and str(info.dtype) not in dtypes:
        reporter.warning(f"INPUT is {info.dtype} but the model was trained on "
                         f"{'/'.join(sorted(dtypes))[:200]} SOURCE rasters: its values are read "
                         f"in the same units, so the translation is only right if they match.")


def translate_raster(input_path, model_path, output, overlap=64, batch_size=4, device="auto",
                     window=None, reporter=None):
    from ..runtime.reporting import Reporter

    reporter = reporter or Reporter()
    with flush_denormals():
        return _translate(input_path, model_path, output, overlap, batch_size, device, window,
                          reporter)


def _translate(input_path, model_path, output, overlap, batch_size, device, window, reporter):
    check_output_path(output)
    raster = WindowedRaster(input_path)
    info = raster.info
    tensors, meta = load_model(model_path, expected_kind="translator")
    name = meta.get("method", "lrm")
    with naming(model_path):  # the file's path in front of what is wrong with it
        method = get_method(name)
    device = resolve_device(device)
    reporter.info(f"Device: {describe_device(device)}; method {name}.")
    with naming(model_path):
        translator = method.load(tensors, meta, device)
    check_bands(translator, info, meta, model_path, reporter)
    multiple = max(1, int(getattr(translator, "window_multiple", 1)))
    # Methods whose output depends on the window (LRM's and CycleGAN's instance statistics,
    # FDA's spectrum) prefer their training patch size; per-pixel methods take the fast one.
    # A network that halves windows log2(window_multiple) times needs at least 2x2 values
    # at its bottleneck (instance statistics of a single value fail).
    plan = plan_windows(info, len(translator.bands), overlap, batch_size, window,
                        preferred=getattr(translator, "preferred_window", None), multiple=multiple,
                        least=2 * multiple if multiple > 1 else 1,
                        too_small=f"is too small for this {name} model", reporter=reporter)
    bands = translator.bands
    nodata = raster.nodata(bands)
    with RasterWriter(output, info.width, info.height, len(bands), info.dtype,
                      info.geotransform, info.projection, nodata=nodata) as writer:
        figures = run_windows(info, len(bands), plan, _window_predictor(raster, translator, plan, multiple),
                              _block_writer(writer, info, nodata), device, reporter)
    return {"output": output, "width": info.width, "height": info.height, "bands": bands,
            "method": name, "device": describe_device(device), **figures}


def _window_predictor(raster, translator, plan, multiple):
    """predict(windows) for the engine: read each window at an offset aligned to the
    method's multiple, fill its nodata, pad it, translate the batch, crop it back and mark
    the nodata pixels NaN (so the blending carries them)."""
    info, bands = raster.info, translator.bands
    nodata = raster.nodata(bands)
    # a raster smaller than the window: one window, padded to the window's size
    least_h = plan.window if info.height < plan.window else 1
    least_w = plan.window if info.width < plan.window else 1

    def predict(windows):
        w, h = windows[0][2], windows[0][3]
        ph = _round_up(max(least_h, h + max(y % multiple for _, y, _, _ in windows)), multiple)
        pw = _round_up(max(least_w, w + max(x % multiple for x, _, _, _ in windows)), multiple)
        arrays, offsets, masks = [], [], []
        for x, y, _, _ in windows:
            ax, ay = x - x % multiple, y - y % multiple
            raw = raster.read(bands, ax, ay, w + x - ax, h + y - ay).astype(np.float32)
            mask = nodata_mask(raw, nodata)
            if mask.all():
                raw[:] = 0
            fill_nodata(raw, mask)
            arrays.append(_pad(raw, ph, pw))
            offsets.append((ax, ay))
            masks.append(mask[y - ay:, x - ax:])
        out = translator.translate(np.stack(arrays), offsets=offsets)
        preds = np.empty((len(windows), len(bands), h, w), np.float32)
        for i, ((x, y, _, _), (ax, ay)) in enumerate(zip(windows, offsets)):
            preds[i] = out[i, :, y - ay:y - ay + h, x - ax:x - ax + w]
            if masks[i].any():
                preds[i][:, masks[i]] = np.nan
        return preds

    return predict


def _block_writer(writer, info, nodata):
    """write(y0, block) for the engine: cast to the input's type, NaN pixels to nodata."""
    masked = all(v is not None and _representable(v, info.dtype) for v in nodata)
    floating = np.issubdtype(info.dtype, np.floating)

    def write(y0, block):
        values = cast_to_dtype(np.nan_to_num(block, nan=0.0), info.dtype)
        invalid = np.isnan(block)
        if masked:
            for c, value in enumerate(nodata):
                plane = _keep_valid(values[c], info.dtype.type(value), info.dtype)
                plane[invalid[c]] = value
        elif floating:  # no nodata: NaN pixels stay NaN
            values[invalid] = np.nan
        writer.write(values, 0, y0)

    return write
