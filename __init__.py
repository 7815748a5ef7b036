"""LRM Adapt: QGIS loads this package and calls classFactory()."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from .lrm_plugin.plugin import LrmAdaptPlugin

    return LrmAdaptPlugin(iface)
