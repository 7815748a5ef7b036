"""GDAL raster access: windowed reads, atomic windowed writes, band selection.

Everything here reads and writes windows, so memory is bounded by the window, not by
the raster. Outputs are written to a hidden ``.partial`` file next to the destination
and renamed only when complete: a failed or killed job never leaves a half-written
raster that looks valid (``partial_path`` tells the Processing side what to clean).
"""

import os
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal

from ..storage.atomic import partial_path  # noqa: F401  (the one rule, models/storage/atomic.py; used by callers)
from ..errors import LrmError, storage_error

gdal.UseExceptions()

_NUMPY_TO_GDAL = {
    np.dtype("uint8"): gdal.GDT_Byte,
    np.dtype("uint16"): gdal.GDT_UInt16,
    np.dtype("int16"): gdal.GDT_Int16,
    np.dtype("uint32"): gdal.GDT_UInt32,
    np.dtype("int32"): gdal.GDT_Int32,
    np.dtype("float32"): gdal.GDT_Float32,
    np.dtype("float64"): gdal.GDT_Float64,
}
_GDAL_TO_NUMPY = {v: k for k, v in _NUMPY_TO_GDAL.items()}
# int8: GDAL >= 3.7 has GDT_Int8; before, a GTiff Byte band with PIXELTYPE=SIGNEDBYTE
# holds it (the Python bindings then read int8 arrays). Either is read and written.
_INT8 = getattr(gdal, "GDT_Int8", None)
if _INT8 is not None:
    _GDAL_TO_NUMPY[_INT8] = np.dtype("int8")
SUPPORTED_TYPES = "Byte, Int8, UInt16, Int16, UInt32, Int32, Float32 or Float64"

GTIFF_OPTIONS = ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"]


def _band_dtype(ds, band):
    """The numpy type of a band's values; LrmError for types the backend cannot process."""
    if band.DataType == gdal.GDT_Byte and \
            band.GetMetadataItem("PIXELTYPE", "IMAGE_STRUCTURE") == "SIGNEDBYTE":
        return np.dtype("int8")
    dtype = _GDAL_TO_NUMPY.get(band.DataType)
    if dtype is None:
        name = gdal.GetDataTypeName(band.DataType) or str(band.DataType)
        what = ("complex values (e.g. SAR or interferometric data)" if name.startswith("C")
                else f"values of type {name}")
        fix = ("convert it first: take the amplitude or intensity (Raster calculator or "
               "gdal_calc: abs(A)) and save it as Float32" if name.startswith("C") else
               "convert it first, e.g. gdal_translate -ot Float64 (or -ot Int32 when the "
               "values fit)")
        raise LrmError(f"{ds.GetDescription()} holds {what}; this tool reads {SUPPORTED_TYPES} "
                       f"rasters: {fix}.")
    return dtype


@dataclass
class RasterInfo:
    path: str
    width: int
    height: int
    band_count: int
    dtype: np.dtype
    geotransform: tuple
    projection: str
    nodata: list = field(default_factory=list)  # per band, None where unset

    @property
    def has_georeference(self):
        return self.geotransform != (0.0, 1.0, 0.0, 0.0, 0.0, 1.0) or bool(self.projection)

    def describe(self):
        return f"{os.path.basename(self.path)} ({self.width}x{self.height}, {self.band_count} bands, {self.dtype})"


def open_raster(path, update=False):
    if not path or not os.path.exists(path):
        raise LrmError(f"Raster not found: {path!r}.")
    try:
        ds = gdal.Open(path, gdal.GA_Update if update else gdal.GA_ReadOnly)
    except RuntimeError as exc:
        raise LrmError(f"{path} is not a raster GDAL can read: {exc}") from None
    if ds is None or ds.RasterCount == 0:
        raise LrmError(f"{path} is not a raster GDAL can read (no raster bands).")
    return ds


def raster_info(path_or_ds):
    ds = open_raster(path_or_ds) if isinstance(path_or_ds, str) else path_or_ds
    dtype = _band_dtype(ds, ds.GetRasterBand(1))
    return RasterInfo(
        path=ds.GetDescription(), width=ds.RasterXSize, height=ds.RasterYSize,
        band_count=ds.RasterCount, dtype=dtype, geotransform=tuple(ds.GetGeoTransform()),
        projection=ds.GetProjection() or "",
        nodata=[ds.GetRasterBand(i + 1).GetNoDataValue() for i in range(ds.RasterCount)],
    )


def parse_bands(spec, band_count, default_count=3, path="the raster"):
    """Parse ``"1,2,3"`` into 1-based band numbers; default the first ``default_count``."""
    if spec is None or str(spec).strip() == "":
        if band_count < default_count:
            raise LrmError(f"{path} has {band_count} band(s); {default_count} are needed by "
                           f"default. Give BANDS explicitly (e.g. {','.join(str(i + 1) for i in range(band_count))}).")
        return list(range(1, default_count + 1))
    try:
        bands = [int(b) for b in str(spec).replace(" ", "").split(",") if b]
    except ValueError:
        raise LrmError(f"BANDS must be comma-separated band numbers such as 1,2,3, not {spec!r}.") from None
    if not bands:
        raise LrmError("BANDS is empty.")
    bad = [b for b in bands if b < 1 or b > band_count]
    if bad:
        raise LrmError(f"{path} has {band_count} band(s); band(s) {bad} do not exist. Choose "
                       f"BANDS between 1 and {band_count}.")
    return bands


def read_window(ds, bands, x, y, width, height):
    """Read bands (1-based) of a window as a (C, H, W) array in the raster's dtype."""
    return np.stack([ds.GetRasterBand(b).ReadAsArray(x, y, width, height) for b in bands])


def nodata_mask(array, nodata_values):
    """True where a pixel is not data: every band equals its nodata value (None: no nodata
    on that band), or any band is NaN or infinite (float rasters, nodata set or not, as
    QGIS treats NaN; such a value would spread through every window it falls in)."""
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.floating):
        mask = ~np.isfinite(array).all(axis=0)
    else:
        mask = np.zeros(array.shape[1:], dtype=bool)
    if any(v is None for v in nodata_values) or not len(nodata_values):
        return mask
    equal = np.ones(array.shape[1:], dtype=bool)
    for band, value in zip(array, nodata_values):
        equal &= np.isnan(band) if np.isnan(value) else (band == value)
    return mask | equal




def check_output_path(path, extensions=(".tif", ".tiff")):
    if not path:
        raise LrmError("No output path given.")
    if not path.lower().endswith(extensions):
        raise LrmError(f"Output {path} must be a GeoTIFF ({'/'.join(extensions)}).")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    return path


class RasterWriter:
    """Write a GeoTIFF window by window; it appears at ``path`` only when complete.

    Use as a context manager: on an exception the partial file is deleted.
    """

    def __init__(self, path, width, height, band_count, dtype, geotransform, projection,
                 nodata=None, color_table=None, category_names=None, band_descriptions=None):
        check_output_path(path)
        self.path = path
        self._tmp = partial_path(path)
        self.dtype = np.dtype(dtype)
        options = list(GTIFF_OPTIONS)
        if self.dtype == np.int8:
            gdal_type = _INT8
            if gdal_type is None:
                gdal_type = gdal.GDT_Byte
                options.append("PIXELTYPE=SIGNEDBYTE")
        elif self.dtype in _NUMPY_TO_GDAL:
            gdal_type = _NUMPY_TO_GDAL[self.dtype]
        else:
            raise LrmError(f"cannot write rasters of type {self.dtype}")
        driver = gdal.GetDriverByName("GTiff")
        self._ds = None
        try:
            self._ds = driver.Create(self._tmp, width, height, band_count, gdal_type,
                                     options=options)
        except (RuntimeError, OSError) as exc:
            self.abort()
            raise storage_error(path, exc) from None
        self._ds.SetGeoTransform(geotransform)
        if projection:
            self._ds.SetProjection(projection)
        for i in range(band_count):
            band = self._ds.GetRasterBand(i + 1)
            value = nodata[i] if isinstance(nodata, (list, tuple)) else nodata
            if value is not None:
                band.SetNoDataValue(float(value))
            if band_descriptions:
                band.SetDescription(band_descriptions[i])
        if color_table is not None:
            ct = gdal.ColorTable()
            for index, rgb in color_table.items():
                ct.SetColorEntry(int(index), tuple(int(c) for c in rgb) + (255,))
            self._ds.GetRasterBand(1).SetRasterColorTable(ct)
            self._ds.GetRasterBand(1).SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
        if category_names is not None:
            self._ds.GetRasterBand(1).SetCategoryNames(list(category_names))

    def write(self, array, x, y):
        """Write a (C, H, W) or (H, W) array at pixel offset (x, y)."""
        array = np.asarray(array)
        if array.ndim == 2:
            array = array[None]
        try:
            for i, plane in enumerate(array):
                plane = plane.astype(self.dtype, copy=False)
                if self.dtype == np.int8 and _INT8 is None:
                    plane = plane.view(np.uint8)  # the bindings write Byte buffers
                self._ds.GetRasterBand(i + 1).WriteArray(plane, x, y)
        except (RuntimeError, OSError) as exc:
            raise storage_error(self.path, exc) from None

    def close(self):
        if self._ds is not None:
            try:
                self._ds.FlushCache()
                self._ds = None  # closing writes the last blocks and the header
                os.replace(self._tmp, self.path)
            except (RuntimeError, OSError) as exc:
                self.abort()
                raise storage_error(self.path, exc) from None
            aux = self._tmp + ".aux.xml"
            if os.path.exists(aux):
                os.replace(aux, self.path + ".aux.xml")

    def abort(self):
        # closing a half-written file may fail (full disk): that error is expected and,
        # raised from the dataset's destructor, could not be caught; silence it
        use_exceptions = gdal.GetUseExceptions()
        gdal.DontUseExceptions()
        gdal.PushErrorHandler("CPLQuietErrorHandler")
        try:
            self._ds = None
        finally:
            gdal.PopErrorHandler()
            if use_exceptions:
                gdal.UseExceptions()
        for p in (self._tmp, self._tmp + ".aux.xml"):
            if os.path.exists(p):
                os.remove(p)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def cast_to_dtype(array, dtype):
    """Round and clip float data into an integer dtype's range (floats pass through)."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(array), info.min, info.max).astype(dtype)
    return array.astype(dtype)
