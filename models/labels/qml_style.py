"""QGIS style sidecar (.qml) for class rasters, written without importing qgis.

QGIS loads ``<raster basename>.qml`` as the layer's default style, so class rasters
written by ``classify`` and ``convert-labels`` show as a paletted (unique values)
renderer with the class names, in QGIS and for ``qgis_process`` users alike. The same
file is a valid ``CLASSES`` input (``models.labels.classes.load_class_table``).
"""

import os
import xml.etree.ElementTree as ET

QGIS_VERSION = "3.22.0-Białowieża"


def qml_path(raster_path):
    return os.path.splitext(raster_path)[0] + ".qml"


def paletted_qml(classes, band=1):
    """The QML document (str) of a paletted renderer with one entry per class."""
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
                               "hasScaleBasedVisibilityFlag": "0", "minScale": "1e+08",
                               "maxScale": "0"})
    pipe = ET.SubElement(root, "pipe")
    renderer = ET.SubElement(pipe, "rasterrenderer", {
        "type": "paletted", "band": str(band), "opacity": "1", "alphaBand": "-1",
        "nodataColor": ""})
    ET.SubElement(renderer, "rasterTransparency")
    palette = ET.SubElement(renderer, "colorPalette")
    for index, (name, (r, g, b)) in enumerate(zip(classes.names, classes.colors)):
        ET.SubElement(palette, "paletteEntry", {
            "value": str(index), "label": str(name), "alpha": "255",
            "color": f"#{int(r):02x}{int(g):02x}{int(b):02x}"})
    ET.SubElement(pipe, "brightnesscontrast", {"brightness": "0", "contrast": "0",
                                               "gamma": "1"})
    ET.SubElement(pipe, "huesaturation", {"saturation": "0", "grayscaleMode": "0",
                                          "colorizeOn": "0", "colorizeRed": "255",
                                          "colorizeGreen": "128", "colorizeBlue": "128",
                                          "colorizeStrength": "100"})
    ET.SubElement(pipe, "rasterresampler", {"maxOversampling": "2"})
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def write_paletted_qml(raster_path, classes, band=1):
    """Write the sidecar next to ``raster_path`` atomically; return its path."""
    path = qml_path(raster_path)
    from ..storage.atomic import write_text_atomically

    return write_text_atomically(path, paletted_qml(classes, band))
