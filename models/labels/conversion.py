"""Colour-coded label rasters <-> class-index rasters, window by window.

to-index: three colour bands -> one uint8 band of class indices with the class table as
GDAL colour table and category names (and a .qml sidecar); ignored pixels (nodata of
the colour raster) become IGNORE_VALUE, which is the output's nodata. Unknown colours
are an error listing each colour and its pixel count (no output is left behind).

to-color: class indices -> three uint8 bands of class colours; ignored pixels
(IGNORE_VALUE or nodata) get a grey (v, v, v) that is no class colour (black unless a
class is black) and v becomes the output's nodata. Out-of-range indices are an error.
"""

import numpy as np

from .qml_style import write_paletted_qml
from ..errors import LrmError
from .rasters import LabelReader, free_grey, index_to_colors
from ..raster.io import RasterWriter, check_output_path

BLOCK = 1024
DIRECTIONS = {"to-index": "to-index", "0": "to-index", "to_index": "to-index",
              "index": "to-index", "to-color": "to-color", "to-colour": "to-color",
              "1": "to-color", "to_color": "to-color", "color": "to-color", "colour": "to-color"}


def parse_direction(value):
    key = str(value).strip().lower()
    if key not in DIRECTIONS:
        raise LrmError(f"DIRECTION must be 'to-index' (0: colours to class indices) or "
                       f"'to-color' (1: class indices to colours), not {value!r}.")
    return DIRECTIONS[key]


def convert_labels(input_path, output, direction, classes, ignore_value=255, reporter=None):
    check_output_path(output)
    source_format = "color" if direction == "to-index" else "index"
    reader = LabelReader(input_path, source_format, classes, ignore_value)
    info = reader.info
    if direction == "to-index":
        writer = RasterWriter(output, info.width, info.height, 1, np.uint8, info.geotransform,
                              info.projection, nodata=reader.ignore_value,
                              color_table=classes.color_table,
                              category_names=list(classes.names), band_descriptions=["class"])
    else:
        grey = free_grey(classes)
        writer = RasterWriter(output, info.width, info.height, 3, np.uint8, info.geotransform,
                              info.projection, nodata=grey,
                              band_descriptions=["red", "green", "blue"])
    ignored = 0
    with writer:
        rows = list(range(0, info.height, BLOCK))
        for i, y in enumerate(rows):
            for x in range(0, info.width, BLOCK):
                w, h = min(BLOCK, info.width - x), min(BLOCK, info.height - y)
                index = reader.read(x, y, w, h)
                ignored += int((index == reader.ignore_value).sum())
                if direction == "to-index":
                    writer.write(index, x, y)
                else:
                    writer.write(index_to_colors(index, classes, (grey, grey, grey)), x, y)
            if reporter:
                reporter.progress(99 * (i + 1) / len(rows))
        reader.finish()  # raises inside the writer: the partial output is removed
    style = write_paletted_qml(output, classes) if direction == "to-index" else None
    if reporter:
        reporter.info(f"Wrote {output} ({direction}); {ignored} ignored/nodata pixel(s).")
    return {"output": output, "direction": direction, "style": style,
            "classes": classes.to_dict(), "ignored_pixels": ignored,
            "nodata": reader.ignore_value if direction == "to-index" else grey}
