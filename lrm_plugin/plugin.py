"""The plugin object QGIS creates through classFactory()."""

from qgis.core import QgsApplication

from ..algorithms.interpreter import plugin_root
from .adapt_action import AdaptToLayerAction, icon_path
from .provider import LrmProvider


class LrmAdaptPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.adapt_action = None

    def initProcessing(self):  # noqa: N802 -- also called by qgis_process (no iface there)
        if self.provider is None:
            self.provider = LrmProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()
        if self.iface is not None:
            self.adapt_action = AdaptToLayerAction(self.iface, icon_path(plugin_root()))
            self.adapt_action.install()

    def unload(self):
        if self.adapt_action is not None:
            self.adapt_action.uninstall()
            self.adapt_action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
