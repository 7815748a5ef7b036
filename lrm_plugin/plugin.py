"""The plugin object QGIS creates through classFactory()."""

from qgis.core import QgsApplication

from .provider import LrmProvider


class LrmAdaptPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.gui = None

    def initProcessing(self):  # noqa: N802 -- also called by qgis_process (no iface there)
        if self.provider is None:
            self.provider = LrmProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
