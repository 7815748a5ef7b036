"""Styling of class rasters when Processing loads them (GUI and models alike).

The backend writes a ``.qml`` sidecar next to every class raster (so qgis_process
users get the style too); here a layer post-processor applies it, or builds a
paletted renderer from the raster's GDAL colour table and category names.
"""

import os

from qgis.PyQt.QtGui import QColor
from qgis.core import (QgsPalettedRasterRenderer, QgsProcessingLayerPostProcessorInterface,
                       QgsRasterLayer)

# Post-processors must outlive processAlgorithm(): QGIS keeps only a C++ pointer.
_KEEP_ALIVE = []


class ClassRasterStyler(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, display_name=None):
        super().__init__()
        self.display_name = display_name

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        if not isinstance(layer, QgsRasterLayer):
            return
        apply_class_style(layer)
        if self.display_name:
            layer.setName(self.display_name)


def apply_class_style(layer):
    """Paletted renderer with class names: the .qml sidecar if present, else the colour table."""
    qml = os.path.splitext(layer.source().split("|")[0])[0] + ".qml"
    if os.path.isfile(qml):
        _, ok = layer.loadNamedStyle(qml)
        if ok and isinstance(layer.renderer(), QgsPalettedRasterRenderer):
            layer.triggerRepaint()
            return True
    classes = palette_from_gdal(layer.source().split("|")[0])
    if not classes:
        return False
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    layer.triggerRepaint()
    return True


def palette_from_gdal(path):
    """Paletted classes from band 1's GDAL colour table, labelled with its category names."""
    from osgeo import gdal

    ds = gdal.Open(path)
    band = ds.GetRasterBand(1) if ds is not None else None
    table = band.GetColorTable() if band is not None else None
    if table is None:
        return []
    names = band.GetCategoryNames() or []
    count = len(names) if names else table.GetCount()
    classes = []
    for value in range(min(count, table.GetCount())):
        r, g, b, a = table.GetColorEntry(value)
        label = names[value] if value < len(names) and names[value] else str(value)
        classes.append(QgsPalettedRasterRenderer.Class(value, QColor(r, g, b, a), label))
    return classes


def style_on_load(context, output_path, display_name=None):
    """Ask Processing to style ``output_path`` as a class raster when it loads it."""
    if output_path and context.willLoadLayerOnCompletion(output_path):
        styler = ClassRasterStyler(display_name)
        _KEEP_ALIVE.append(styler)
        context.layerToLoadOnCompletionDetails(output_path).setPostProcessor(styler)
