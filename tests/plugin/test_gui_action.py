"""'Adapt to this layer…' opens the lrm:adapt dialog with the layer as TARGET."""

import numpy as np
import pytest
from osgeo import gdal, osr
from qgis.core import QgsProject, QgsRasterLayer


def write_raster(path, bands=3, size=64):
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, bands, gdal.GDT_Byte)
    ds.SetGeoTransform((500000, 0.5, 0, 5700000, 0, -0.5))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(np.full((size, size), 40 * b, np.uint8))
    ds = None
    return str(path)


@pytest.fixture()
def raster_layer(tmp_path, qgis_app):
    layer = QgsRasterLayer(write_raster(tmp_path / "target.tif"), "target city")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeMapLayer(layer.id())


@pytest.fixture()
def gui_iface(qgis_iface, monkeypatch):
    """pytest-qgis's iface, with the real browser model Processing dialogs ask it for."""
    from qgis.gui import QgsBrowserGuiModel

    model = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    return qgis_iface


def test_action_is_offered_for_raster_layers(plugin, qgis_iface):
    action = plugin.adapt_action.layer_action
    assert action.text() == "Adapt to this layer…"
    assert not action.icon().isNull()


def test_action_opens_adapt_dialog_with_the_layer_as_target(plugin, gui_iface, raster_layer):
    gui_iface.setActiveLayer(raster_layer)
    plugin.adapt_action.layer_action.trigger()
    dialog = plugin.adapt_action.dialog
    assert dialog is not None
    assert dialog.algorithm().id() == "lrm:adapt"
    wrapper_value = dialog.mainWidget().wrappers["TARGET"].parameterValue()
    value = wrapper_value.id() if hasattr(wrapper_value, "id") else wrapper_value
    assert value in (raster_layer.id(), raster_layer.source())
    dialog.close()


def test_menu_action_with_a_vector_layer_active_opens_the_dialog_without_target(plugin, gui_iface):
    from qgis.core import QgsVectorLayer

    points = QgsVectorLayer("Point?crs=EPSG:4326", "points", "memory")
    QgsProject.instance().addMapLayer(points)
    gui_iface.setActiveLayer(points)
    assert plugin.adapt_action.current_raster_layer() is None
    plugin.adapt_action.menu_action.trigger()
    QgsProject.instance().removeMapLayer(points.id())
    dialog = plugin.adapt_action.dialog
    assert dialog is not None and dialog.algorithm().id() == "lrm:adapt"
    dialog.close()
