""""Adapt to this layer…": a raster layer's context menu, the plugin menu and toolbar.

It opens the lrm:adapt dialog with the layer as TARGET. The Processing dialog runs the
algorithm as a background task (QgsProcessingAlgRunnerTask) with progress in the task
manager and a working Cancel, and loads the outputs when done (the classified raster
styled with the class table; the translated rasters when a folder is chosen). No task
is nested inside another and nothing is added to the project from a worker thread.
"""

import os

from qgis.core import QgsRasterLayer
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from ..algorithms.qgis_compat import layer_type_raster

MENU = "&LRM Adapt"
ALGORITHM_ID = "lrm:adapt"


class AdaptToLayerAction:
    def __init__(self, iface, icon_path):
        self.iface = iface
        self.dialog = None  # the last dialog opened (kept alive; tests inspect it)
        self.layer_action = QAction(QIcon(icon_path), "Adapt to this layer…", iface.mainWindow())
        self.layer_action.triggered.connect(self.open_for_current_layer)
        self.menu_action = QAction(QIcon(icon_path), "Adapt to target layer…", iface.mainWindow())
        self.menu_action.triggered.connect(self.open_for_current_layer)

    def install(self):
        self.iface.addCustomActionForLayerType(self.layer_action, None, layer_type_raster(), True)
        self.iface.addPluginToRasterMenu(MENU, self.menu_action)
        self.iface.addRasterToolBarIcon(self.menu_action)

    def uninstall(self):
        self.iface.removeCustomActionForLayerType(self.layer_action)
        self.iface.removePluginRasterMenu(MENU, self.menu_action)
        self.iface.removeRasterToolBarIcon(self.menu_action)

    def current_raster_layer(self):
        layer = self.iface.activeLayer()
        return layer if isinstance(layer, QgsRasterLayer) and layer.isValid() else None

    def open_for_current_layer(self):
        return self.open_for_layer(self.current_raster_layer())

    def open_for_layer(self, layer):
        """Open the lrm:adapt dialog (non-modal) with ``layer`` as TARGET."""
        import processing

        params = {"TARGET": layer.id()} if layer is not None else {}
        self.dialog = processing.createAlgorithmDialog(ALGORITHM_ID, params)
        if self.dialog is not None:
            self.dialog.show()
        return self.dialog


def icon_path(plugin_root):
    return os.path.join(plugin_root, "resources", "icon.svg")
