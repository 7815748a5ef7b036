"""Outcomes of one fuzz case and the properties an output raster must have.

A case either *worked* (the command returned and every property of its outputs holds),
was *refused* (one ``LrmError`` whose message says what to do, and no output nor
``.partial`` file left), or *failed* (anything else: an internal error, a property
that does not hold, a refusal that gives no advice, a refusal where the inputs are
fine, or success where they should have been refused).
"""

import dataclasses
import glob
import os
import re
import traceback

import numpy as np
from osgeo import gdal, osr

from models.errors import LrmError

# a refusal must tell the user what to do: one of these verbs (or "must be ...")
ADVICE = re.compile(r"\b(give|use|choose|set|check|translate|classify|convert|resample|train|"
                    r"evaluate|draw|free|select|make|must be|should be)\b", re.I)
PATHS = re.compile(r"\S*[/\\]\S*|\S+\.(tif|tiff|safetensors|csv|html)\b")  # not advice
WORKED, REFUSED, FAILED = "worked", "refused", "failed"


class PropertyError(AssertionError):
    """An output does not have a property it must have."""


@dataclasses.dataclass
class Outcome:
    kind: str
    case: str
    outcome: str
    detail: str = ""


def expect(condition, message):
    if not condition:
        raise PropertyError(message)


def leftovers(paths):
    """Outputs (and their .partial files) that exist."""
    found = []
    for path in paths:
        folder, name = os.path.split(os.path.abspath(str(path)))
        found += [p for p in [str(path)] if os.path.exists(p)]
        found += glob.glob(os.path.join(folder, f".{name}*.partial*"))
        found += glob.glob(os.path.join(folder, f"{name}*.partial*"))
    return found


def attempt(kind, case, run, check, outputs, expected=None):
    """Run one case: ``run()`` the command, then ``check(result)`` its outputs.

    ``expected``: "work", "refuse" or None (either is right). Returns an Outcome.
    """
    try:
        result = run()
    except LrmError as exc:
        message = str(exc)
        left = leftovers(outputs)
        if left:
            return Outcome(kind, case, FAILED, f"refused but left {left}: {message}")
        if not ADVICE.search(PATHS.sub("", message)):
            return Outcome(kind, case, FAILED, f"refused without saying what to do: {message}")
        if "\n" in message.strip() or len(message) < 20:
            return Outcome(kind, case, FAILED, f"refusal message not one clear line: {message!r}")
        if expected == "work":
            return Outcome(kind, case, FAILED, f"refused valid input: {message}")
        return Outcome(kind, case, REFUSED, message)
    except Exception:  # noqa: BLE001 - an internal error is exactly what the fuzz looks for
        return Outcome(kind, case, FAILED, "internal error: " + traceback.format_exc(limit=6))
    if expected == "refuse":
        return Outcome(kind, case, FAILED, "worked although it should have been refused")
    try:
        check(result)
    except Exception as exc:  # noqa: BLE001 - PropertyError and numpy errors alike
        return Outcome(kind, case, FAILED, f"{type(exc).__name__}: {exc}")
    partial = [p for p in leftovers(outputs) if ".partial" in p]
    if partial:
        return Outcome(kind, case, FAILED, f"worked but left {partial}")
    return Outcome(kind, case, WORKED)


def same_crs(a, b):
    if not a or not b:
        return not a and not b
    return bool(osr.SpatialReference(a).IsSame(osr.SpatialReference(b)))


def same_value(a, b):
    if a is None or b is None:
        return a is None and b is None
    return (np.isnan(a) and np.isnan(b)) or a == b


def check_grid(output, source):
    """``output`` has the size, geotransform and CRS (or none) of raster ``source``."""
    out, ref = gdal.Open(str(output)), gdal.Open(str(source))
    expect((out.RasterXSize, out.RasterYSize) == (ref.RasterXSize, ref.RasterYSize),
           f"size {out.RasterXSize}x{out.RasterYSize}, input {ref.RasterXSize}x{ref.RasterYSize}")
    go, gr = out.GetGeoTransform(), ref.GetGeoTransform()
    expect(np.allclose(go, gr, rtol=0, atol=1e-9 * max(1.0, max(abs(v) for v in gr))),
           f"geotransform {go}, input {gr}")
    expect(same_crs(out.GetProjection(), ref.GetProjection()),
           f"CRS {out.GetProjection()[:60]!r}, input {ref.GetProjection()[:60]!r}")
    return out


def read_bands(ds):
    return np.stack([ds.GetRasterBand(i + 1).ReadAsArray() for i in range(ds.RasterCount)])


def is_value(array, value):
    """Where ``array`` equals ``value`` (NaN equals NaN)."""
    if value is not None and np.isnan(value):
        return np.isnan(array)
    return array == value


def check_nodata_kept(out, in_nodata, mask, dtype):
    """Output bands have the input's nodata; ``mask`` pixels are nodata in every band, the
    others in none; values are finite where valid and fit ``dtype``."""
    data = read_bands(out)
    expect(data.dtype == np.dtype(dtype), f"data type {data.dtype}, input {np.dtype(dtype)}")
    for i in range(out.RasterCount):
        value = out.GetRasterBand(i + 1).GetNoDataValue()
        expect(same_value(value, in_nodata), f"band {i + 1} nodata {value}, input {in_nodata}")
    # NaN pixels of a float raster without nodata are invalid too: NaN in the output
    marker = in_nodata if in_nodata is not None else np.nan
    if mask.any() and (in_nodata is not None or np.issubdtype(data.dtype, np.floating)):
        marked = np.stack([is_value(plane, marker) for plane in data])
        expect(marked[:, mask].all(), f"{int((~marked[:, mask]).sum())} nodata pixel value(s) "
                                      f"of the input are not nodata in the output")
        expect(not marked[:, ~mask].any(), f"{int(marked[:, ~mask].sum())} valid value(s) "
                                           f"became nodata")
    if np.issubdtype(data.dtype, np.floating):
        bad = ~np.isfinite(data[:, ~mask]) if mask.size else np.zeros(0, bool)
        expect(not bad.any(), f"{int(bad.sum())} valid pixel value(s) are not finite")
    return data
