"""Label rasters: class indices in one band, or colours in three bands.

``LABEL_FORMAT`` (Processing enum order): 0 ``index`` -- class indices 0..N-1 in band 1;
1 ``color`` -- RGB colours in bands 1-3, mapped through the class table.

Ignored pixels (left out of the loss and the metrics) are returned as ``ignore_value``
(default 255). They are:

* index labels: the ignore value itself, and the raster's nodata value;
* colour labels: pixels whose three bands all equal the raster's nodata values. (ISPRS
  "eroded" labels mark boundaries in black: set nodata 0 on the label raster, e.g.
  ``gdal_edit.py -a_nodata 0 labels.tif``, and those pixels are ignored.)

Any other value -- an index >= N, a colour not in the table -- is an error. Readers
collect the offending values with their pixel counts over the whole raster, so the
error lists all of them at once (``OffendingValues.raise_if_any``).
"""

from collections import Counter

import numpy as np

from .. import contract
from ..errors import LrmError
from ..raster.io import nodata_mask, open_raster, raster_info, read_window

LABEL_FORMATS = contract.LABEL_FORMATS
_ALIASES = {"0": "index", "index": "index", "indices": "index", "1": "color",
            "color": "color", "colour": "color", "rgb": "color"}
MAX_LISTED = 20


def parse_label_format(value):
    """'index' or 'color' from a name or the Processing enum number."""
    key = str(value if value is not None else "index").strip().lower()
    if key not in _ALIASES:
        raise LrmError(f"LABEL_FORMAT must be 'index' (0, class indices in one band) or "
                       f"'color' (1, colour-coded labels in three bands), not {value!r}.")
    return _ALIASES[key]


def check_ignore_value(ignore_value, classes):
    ignore_value = int(ignore_value)
    if not 0 <= ignore_value <= 255:
        raise LrmError(f"IGNORE_VALUE must be in 0..255 (the labels are stored as bytes), "
                       f"got {ignore_value}.")
    if ignore_value < len(classes):
        raise LrmError(f"IGNORE_VALUE {ignore_value} is a class index of the class table "
                       f"(0..{len(classes) - 1}); choose a value >= {len(classes)}, e.g. 255.")
    return ignore_value


def _rgb_code(r, g, b):
    def channel(c):  # float colours: NaN/huge values (nodata pixels, masked by callers) -> -1
        c = np.asarray(c)
        if np.issubdtype(c.dtype, np.floating):
            c = np.where(np.isfinite(c) & (np.abs(c) < 2**31), c, -1)
        return c.astype(np.int64)

    return (channel(r) << 16) | (channel(g) << 8) | channel(b)


def _code_to_rgb(code):
    code = int(code)
    return (code >> 16) & 255, (code >> 8) & 255, code & 255


class OffendingValues:
    """Counts of label values that are neither a class nor ignored, over many windows."""

    def __init__(self, what, path, hint):
        self.what, self.path, self.hint = what, path, hint
        self.counts = Counter()

    def add(self, values, counts):
        for v, c in zip(values, counts):
            self.counts[v] += int(c)

    def __bool__(self):
        return bool(self.counts)

    def message(self):
        items = self.counts.most_common()
        listed = ", ".join(f"{v}: {c} pixel{'s' if c != 1 else ''}" for v, c in items[:MAX_LISTED])
        more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
        total = sum(self.counts.values())
        image = (" So many different values suggest an image rather than a label raster."
                 if len(items) > 1000 else "")
        return (f"{self.path}: {total} pixel(s) have {self.what} ({listed}{more}).{image} "
                f"{self.hint}")

    def raise_if_any(self):
        if self.counts:
            raise LrmError(self.message())


def colors_to_index(rgb, classes, ignore_value, ignored=None, offenders=None):
    """(3, H, W) colours -> (H, W) uint8 class indices; unknown colours go to ``offenders``.

    ``ignored``: optional (H, W) bool mask of pixels to mark with ``ignore_value``.
    Unknown colours are also written as ``ignore_value`` (callers raise at the end).
    """
    codes = _rgb_code(rgb[0], rgb[1], rgb[2])
    table = _rgb_code(*np.array(classes.colors, np.int64).T)
    order = np.argsort(table)
    sorted_table = table[order]
    pos = np.clip(np.searchsorted(sorted_table, codes), 0, len(table) - 1)
    known = sorted_table[pos] == codes
    out = np.where(known, order[pos], ignore_value).astype(np.uint8)
    bad = ~known
    if ignored is not None:
        out[ignored] = ignore_value
        bad &= ~ignored
    if offenders is not None and bad.any():
        values, counts = np.unique(codes[bad], return_counts=True)
        offenders.add([_code_to_rgb(v) for v in values], counts)
    return out


def check_indices(index, n_classes, ignore_value, ignored=None, offenders=None):
    """(H, W) numeric labels -> uint8 indices; values not in 0..N-1 go to ``offenders``."""
    index = np.asarray(index)
    if np.issubdtype(index.dtype, np.floating):
        whole = np.isfinite(index) & (index == np.round(index)) & (np.abs(index) < 2**31)
        values = np.where(whole, index, -1).astype(np.int64)
    else:
        values = index.astype(np.int64)
    skip = values == ignore_value
    if ignored is not None:
        skip |= ignored
    bad = ~skip & ((values < 0) | (values >= n_classes))
    if offenders is not None and bad.any():
        raw = index[bad]
        uniq, counts = np.unique(raw, return_counts=True)
        offenders.add([v.item() for v in uniq], counts)
    return np.where(skip | bad, ignore_value, values).astype(np.uint8)


def index_to_colors(index, classes, fill):
    """(H, W) indices -> (3, H, W) uint8 colours; ignored / out-of-range pixels get ``fill``."""
    palette = np.tile(np.array(fill, np.uint8), (256, 1))
    palette[:len(classes)] = np.array(classes.colors, np.uint8)
    index = np.asarray(index).astype(np.int64)
    safe = np.where((index >= 0) & (index < len(classes)), index, 255)
    return np.moveaxis(palette[safe], -1, 0)


def free_grey(classes):
    """A grey value v such that colour (v, v, v) is not a class colour (for ignored pixels)."""
    used = set(classes.colors)
    for v in range(256):
        if (v, v, v) not in used:
            return v
    raise LrmError("Every grey colour is a class colour; cannot mark ignored pixels.")


class LabelReader:
    """Read windows of a label raster as uint8 class indices (ignored -> ``ignore_value``).

    Offending values are collected in ``self.offenders``; call ``finish()`` after the
    last window (or ``scan()`` to read everything once) to raise the error listing them.
    """

    def __init__(self, path, label_format, classes, ignore_value=255):
        self.path = path
        self.format = parse_label_format(label_format)
        self.classes = classes
        self.ignore_value = check_ignore_value(ignore_value, classes)
        self.ds = open_raster(path)
        self.note = None  # a warning for the caller to report (suspicious format)
        self.info = raster_info(self.ds)
        if self.format == "color":
            if self.info.band_count < 3:
                raise LrmError(f"{path} has {self.info.band_count} band(s), but LABEL_FORMAT is "
                               f"'color' (colour-coded labels need 3 bands). Use LABEL_FORMAT "
                               f"'index' for class indices in one band.")
            self.bands = [1, 2, 3]
            known = ", ".join(f"{n} {c}" for n, c in zip(classes.names, classes.colors))
            self.offenders = OffendingValues(
                "colours that are not in the class table", path,
                f"The class table has: {known}. Give a CLASSES table that includes the colours "
                f"above, set those pixels to the raster's nodata value to ignore them, or use "
                f"LABEL_FORMAT 'index' if the raster holds class indices.")
        else:
            self.bands = [1]
            rgb_hint = (" This raster has 3 or more bands: if it is colour-coded, use "
                        "LABEL_FORMAT 'color'." if self.info.band_count >= 3 else "")
            if self.info.band_count >= 3:
                self.note = (f"{path} has {self.info.band_count} bands but LABEL_FORMAT is "
                             f"'index': only band 1 is read as class indices. Use LABEL_FORMAT "
                             f"'color' if the raster is colour-coded.")
            self.offenders = OffendingValues(
                f"values that are not class indices 0..{len(classes) - 1} nor the ignore value "
                f"{self.ignore_value}", path,
                f"Check CLASSES (it has {len(classes)} classes) and IGNORE_VALUE.{rgb_hint}")
        self._nodata = [self.info.nodata[b - 1] for b in self.bands]

    @property
    def width(self):
        return self.info.width

    @property
    def height(self):
        return self.info.height

    def read(self, x, y, width, height):
        data = read_window(self.ds, self.bands, x, y, width, height)
        ignored = nodata_mask(data, self._nodata)
        if self.format == "color":
            return colors_to_index(data, self.classes, self.ignore_value, ignored, self.offenders)
        return check_indices(data[0], len(self.classes), self.ignore_value, ignored, self.offenders)

    def finish(self):
        self.offenders.raise_if_any()

    def scan(self, block=1024, progress=None):
        """Read the whole raster once; return per-class pixel counts (and raise on bad values)."""
        counts = np.zeros(256, np.int64)
        rows = list(range(0, self.height, block))
        for i, y in enumerate(rows):
            for x in range(0, self.width, block):
                w, h = min(block, self.width - x), min(block, self.height - y)
                counts += np.bincount(self.read(x, y, w, h).ravel(), minlength=256)
            if progress:
                progress((i + 1) / len(rows))
        self.finish()
        return counts[:len(self.classes)]


def class_table_from_raster(path):
    """The class table embedded in a class raster (category names + colour table), or None.

    Class rasters written by classify / convert-labels carry their table; commands use it
    when CLASSES is not given, so a map made with a custom class table is read correctly.
    """
    from .classes import ClassTable

    ds = open_raster(path)  # keep the dataset alive while its band is used
    ds.GetGeoTransform()  # GDAL 3.6 GTiff: loads the .aux.xml (category names) only after this
    band = ds.GetRasterBand(1)
    names = list(band.GetCategoryNames() or [])
    table = band.GetColorTable()
    while names and not names[-1]:
        names.pop()
    if not names or table is None or any(not n for n in names) or len(names) > 254:
        return None
    if table.GetCount() < len(names):
        return None
    colors = tuple(tuple(table.GetColorEntry(i)[:3]) for i in range(len(names)))
    try:
        return ClassTable(tuple(names), colors)
    except LrmError:  # e.g. two classes sharing a colour
        return None


def resolve_class_table(spec, raster=None, reporter=None):
    """CLASSES when given; else the table embedded in ``raster``; else the ISPRS default."""
    from .classes import load_class_table

    if (spec is None or not str(spec).strip()) and raster:
        embedded = class_table_from_raster(raster)
        if embedded is not None:
            if reporter:
                reporter.info(f"Class table read from {raster}: {embedded.to_text()}")
            return embedded
    return load_class_table(spec)
