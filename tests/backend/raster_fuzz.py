"""Random rasters written with GDAL, for the raster fuzz (tests/backend/test_raster_fuzz.py,
benchmarks/fuzz_rasters.py).

A ``Spec`` says how one raster is made: GDAL data type (the seven classic ones, Int8 as
GDAL 3.6 stores it, and the complex and 64-bit types that must be refused), nodata (none,
a value, NaN, a value the type cannot hold, or NaN pixels without a nodata value), where
nodata pixels are, band count, size, geotransform (north-up, south-up, rotated, none) and
CRS (UTM 32N, UTM 33N, WGS 84, none). ``random_spec`` draws one (seeded, optionally from a
``Cover`` so that every value comes up); ``write_spec`` writes it and returns what a
property check needs: the values written and the nodata mask.
"""

import collections
import dataclasses

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

# name -> (GDAL type, numpy type of the values written, value range of the "image")
DTYPES = {
    "Byte": (gdal.GDT_Byte, np.uint8, (0, 255)),
    "UInt16": (gdal.GDT_UInt16, np.uint16, (0, 10000)),
    "Int16": (gdal.GDT_Int16, np.int16, (-500, 3000)),
    "UInt32": (gdal.GDT_UInt32, np.uint32, (0, 70000)),
    "Int32": (gdal.GDT_Int32, np.int32, (-100000, 100000)),
    "Float32": (gdal.GDT_Float32, np.float32, (0.0, 1.0)),
    "Float64": (gdal.GDT_Float64, np.float64, (100.0, 2000.0)),
    "CInt16": (gdal.GDT_CInt16, np.complex64, (0, 255)),
    "CFloat32": (gdal.GDT_CFloat32, np.complex64, (0.0, 1.0)),
    "UInt64": (gdal.GDT_UInt64, np.uint64, (0, 255)),
    "Int64": (gdal.GDT_Int64, np.int64, (0, 255)),
    # GDAL 3.6 has no Int8 type: a GTiff Byte band with PIXELTYPE=SIGNEDBYTE holds int8
    "SignedByte": (gdal.GDT_Byte, np.int8, (-100, 100)),
}
READABLE = ("Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64", "SignedByte")
UNREADABLE = ("CInt16", "CFloat32", "UInt64", "Int64")

NORTH_UP = (431000.0, 0.5, 0.0, 5412000.0, 0.0, -0.5)
GEOTRANSFORMS = {
    "north-up": NORTH_UP,
    "south-up": (431000.0, 0.5, 0.0, 5400000.0, 0.0, 0.5),
    "rotated": (431000.0, 0.45, 0.12, 5412000.0, 0.1, -0.48),
    "none": None,  # no geotransform and no CRS: a plain image
}
CRS_EPSG = {"utm32": 32632, "utm33": 32633, "wgs84": 4326, "none": None}

# sizes (width, height): 1x1, lines, smaller than every window, odd non-multiples
SIZES = [(1, 1), (1, 9), (9, 1), (2, 2), (3, 40), (40, 3), (7, 5), (31, 33), (33, 31),
         (32, 32), (47, 65), (65, 47), (64, 64), (97, 70)]
NODATA_KINDS = ("none", "value", "nan", "outside", "nan-pixels")


@dataclasses.dataclass
class Spec:
    dtype: str = "Byte"
    nodata: str = "none"         # one of NODATA_KINDS
    coverage: str = "some"       # where nodata pixels are: none, block, some, all
    bands: int = 3
    width: int = 64
    height: int = 64
    geotransform: str = "north-up"
    crs: str = "utm32"
    seed: int = 0

    def label(self):
        return (f"{self.dtype} {self.bands}b {self.width}x{self.height} nodata={self.nodata}"
                f"/{self.coverage} {self.geotransform} crs={self.crs} seed={self.seed}")

    @property
    def readable(self):
        return self.dtype in READABLE

    @property
    def is_float(self):
        return self.dtype in ("Float32", "Float64")

    def nodata_value(self):
        """The nodata value set on the bands, or None."""
        kind = self.nodata
        if kind == "nan":  # on an integer type no pixel can be NaN: it marks nothing
            return float("nan")
        if kind == "value":
            return {"Byte": 0.0, "UInt16": 65535.0, "Int16": -9999.0, "UInt32": 4294967295.0,
                    "Int32": -2147483648.0, "Float32": -3.4028234663852886e38,
                    "Float64": -9999.0, "SignedByte": -128.0}.get(self.dtype, 0.0)
        if kind == "outside":  # a value the type cannot hold: no pixel can be nodata
            return {"Byte": -9999.0, "UInt16": -1.0, "Int16": 0.5, "UInt32": -9999.0,
                    "Int32": 1e10, "SignedByte": 1000.0}.get(self.dtype, None)
        return None

    def has_nodata_pixels(self):
        """True when some pixels are written as nodata (NaN without nodata included)."""
        if self.coverage == "none":
            return False
        if self.nodata == "nan-pixels":
            return self.is_float
        value = self.nodata_value()
        if value is None or self.nodata == "outside":
            return False
        return self.is_float or not np.isnan(value)


class Cover:
    """Draws the values of each dimension from a shuffled deck (values repeated by weight)
    and deals a new deck when it is empty, so that a few dozen cases already hold every
    value of every dimension. ``counts`` tallies what was drawn."""

    def __init__(self, rng):
        self.rng, self.decks, self.counts = rng, {}, collections.Counter()

    def pick(self, name, values, weights=None):
        values = list(values)
        key = (name, tuple(values))
        if not self.decks.get(key):
            w = np.ones(len(values)) if weights is None else np.asarray(weights, float)
            reps = np.where(w > 0, np.maximum(1, np.rint(w / w[w > 0].min())), 0).astype(int)
            deck = [v for v, r in zip(values, reps) for _ in range(r)]
            self.decks[key] = [deck[i] for i in self.rng.permutation(len(deck))]
        value = self.decks[key].pop()
        self.counts[(name, value)] += 1
        return value


def choose(rng, cover, name, values, weights=None):
    """One of ``values``: from ``cover``'s deck, or at random (``weights``: chances)."""
    values = list(values)
    if cover is not None:
        return cover.pick(name, values, weights)
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return values[int(rng.choice(len(values), p=p))]


def random_spec(rng, cover=None, dtypes=READABLE + UNREADABLE, unreadable_share=0.1,
                bands=(1, 8), sizes=SIZES, size_weights=None, coverages=(3, 2, 13, 2),
                **fixed):
    """A random Spec (``fixed`` fields are kept as given). ``coverages``: weights of the
    nodata coverages none, block, some, all."""
    readable = [d for d in dtypes if d in READABLE]
    unreadable = [d for d in dtypes if d not in READABLE]
    share = unreadable_share if readable and unreadable else (1.0 if unreadable else 0.0)
    weights = [(1 - share) / max(1, len(readable))] * len(readable) + \
        [share / max(1, len(unreadable))] * len(unreadable)
    width, height = choose(rng, cover, "size", sizes, size_weights)
    spec = Spec(
        dtype=choose(rng, cover, "dtype", readable + unreadable, weights),
        nodata=choose(rng, cover, "nodata", NODATA_KINDS, [3, 3, 2, 1, 1]),
        coverage=choose(rng, cover, "coverage", ["none", "block", "some", "all"], coverages),
        bands=int(choose(rng, cover, "bands", range(bands[0], bands[1] + 1))),
        width=width, height=height,
        geotransform=choose(rng, cover, "geotransform", GEOTRANSFORMS, [2, 1, 1, 1]),
        crs=choose(rng, cover, "crs", CRS_EPSG, [3, 1, 1, 1]),
        seed=int(rng.integers(1 << 30)))
    return dataclasses.replace(spec, **fixed)


def wkt_of(crs):
    if CRS_EPSG[crs] is None:
        return ""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(CRS_EPSG[crs])
    return srs.ExportToWkt()


def image_values(spec, rng):
    """(bands, height, width) values in the dtype's range, with structure and noise."""
    _, np_type, (low, high) = DTYPES[spec.dtype]
    shape = (spec.bands, spec.height, spec.width)
    cells = rng.random((spec.bands, spec.height // 8 + 1, spec.width // 8 + 1))
    blocks = np.kron(cells, np.ones((1, 8, 8)))[:, :spec.height, :spec.width]
    unit = np.clip(0.7 * blocks + 0.3 * rng.random(shape), 0, 1)
    values = low + (high - low) * unit
    if np.issubdtype(np_type, np.complexfloating):
        return (values + 1j * values[::-1]).astype(np_type)
    if np.issubdtype(np_type, np.integer):
        values = np.rint(values)
    return values.astype(np_type)


def nodata_pixels(spec, rng):
    """(height, width) bool: the pixels written as nodata."""
    mask = np.zeros((spec.height, spec.width), bool)
    if not spec.has_nodata_pixels():
        return mask
    if spec.coverage == "all":
        mask[:] = True
        return mask
    mask[:max(1, spec.height // 3), :max(1, spec.width // 4)] = True  # a corner block
    if spec.coverage == "some":  # and scattered pixels ("block": the corner only)
        mask |= rng.random(mask.shape) < 0.05
    if mask.all() and mask.size > 1:
        mask[-1, -1] = False
    return mask


def write_spec(path, spec, values=None, exact=False):
    """Write ``spec`` at ``path``; returns (path, values as written, nodata mask).

    ``values`` (bands, height, width) replaces the generated image (labels, classes).
    Valid values equal to the nodata value are moved off it, unless ``exact`` (colour
    labels): then pixels whose every band equals it are nodata too, as the backend reads.
    """
    rng = np.random.default_rng(spec.seed)
    gdal_type, np_type, _ = DTYPES[spec.dtype]
    values = image_values(spec, rng) if values is None else np.asarray(values).astype(np_type)
    mask = nodata_pixels(spec, rng)
    nodata = spec.nodata_value()
    if nodata is not None and not np.isnan(nodata) and spec.nodata != "outside" \
            and not np.issubdtype(np_type, np.complexfloating) and exact:
        mask = mask | (values == np_type(nodata)).all(axis=0)
    elif nodata is not None and not np.isnan(nodata) and spec.nodata != "outside" \
            and not np.issubdtype(np_type, np.complexfloating):
        # valid pixels must not equal the nodata value (then the mask is exactly ``mask``)
        hit = values == np_type(nodata)
        values[hit] = np_type(nodata + (1 if nodata <= 0 else -1))
    if mask.any():
        fill = np.nan if spec.nodata in ("nan", "nan-pixels") and spec.is_float else nodata
        values[:, mask] = fill
    options = ["PIXELTYPE=SIGNEDBYTE"] if spec.dtype == "SignedByte" else []
    ds = gdal.GetDriverByName("GTiff").Create(str(path), spec.width, spec.height, spec.bands,
                                              gdal_type, options=options)
    gt = GEOTRANSFORMS[spec.geotransform]
    if gt is not None:
        ds.SetGeoTransform(gt)
        if spec.crs != "none":
            ds.SetProjection(wkt_of(spec.crs))
    for i in range(spec.bands):
        band = ds.GetRasterBand(i + 1)
        if nodata is not None:
            try:
                band.SetNoDataValue(int(nodata) if spec.dtype in ("UInt64", "Int64") else nodata)
            except (RuntimeError, ValueError, TypeError):  # values this type cannot hold
                pass
        plane = values[i].view(np.uint8) if spec.dtype == "SignedByte" else values[i]
        band.WriteArray(plane)
    ds = None
    return str(path), values, mask
