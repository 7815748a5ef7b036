"""Run inside the real QGIS desktop (``qgis --code desktop_session.py``) by test_desktop.py.

Reads its instructions from $LRM_DESKTOP_SPEC (JSON), drives the GUI like a user (layer
context menu > "Adapt to this layer...", fill the dialog, Run), waits for the background
task, saves screenshots and writes what it saw to spec["report"] (JSON), then quits.
"""

import json
import os
import time
import traceback

from qgis.core import QgsApplication, QgsPalettedRasterRenderer, QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.utils import iface, plugins

spec = json.load(open(os.environ["LRM_DESKTOP_SPEC"]))
seen = {"steps": []}
state = {"dialog": None, "started": None}


def note(step, **data):
    seen["steps"].append(step)
    seen.update(data)


def finish(error=None):
    if error:
        seen["error"] = error
    with open(spec["report"], "w") as f:
        json.dump(seen, f, indent=1)
    QgsProject.instance().setDirty(False)
    QgsApplication.exit(0)


def shot(name, widget=None):
    path = os.path.join(spec["screenshots"], name)
    (widget or iface.mainWindow()).grab().save(path)
    seen.setdefault("screenshots", []).append(path)


def start():
    try:
        layer = QgsRasterLayer(spec["target"], "target tile")
        QgsProject.instance().addMapLayer(layer)
        iface.setActiveLayer(layer)
        note("layer loaded", plugin_loaded="lrm_adapt" in plugins, layer_id=layer.id())
        # the Raster menu and the raster toolbar
        raster_menu = iface.rasterMenu()
        sub = [a for a in raster_menu.actions() if a.text().replace("&", "") == "LRM Adapt"]
        note("raster menu", raster_menu_entries=[a.text() for a in sub[0].menu().actions()] if sub else [])
        note("toolbar", toolbar_entries=[a.text() for a in iface.rasterToolBar().actions()])
        # the layer's context menu, as the layer tree builds it on a right-click
        view = iface.layerTreeView()
        view.setCurrentLayer(layer)
        menu = view.menuProvider().createContextMenu()
        entries = [a for a in menu.actions() if a.text().startswith("Adapt to this layer")]
        note("context menu", context_menu_has_action=bool(entries))
        entries[0].trigger()
        dialog = plugins["lrm_adapt"].adapt_action.dialog
        state["dialog"] = dialog
        target = dialog.mainWidget().wrappers["TARGET"].parameterValue()  # what the dialog shows
        note("dialog open", dialog_target=str(target), dialog_title=dialog.windowTitle())
        dialog.setParameters(dict(spec["parameters"], TARGET=layer.id()))
        QTimer.singleShot(500, run)
    except Exception:
        finish(traceback.format_exc())


def run():
    try:
        shot("dialog.png", state["dialog"])
        state["dialog"].runAlgorithm()
        state["started"] = time.monotonic()
        note("run clicked")
        QTimer.singleShot(1000, wait)
    except Exception:
        finish(traceback.format_exc())


def wait():
    try:
        layers = [l for l in QgsProject.instance().mapLayers().values()
                  if isinstance(l, QgsRasterLayer) and l.source() == spec["classified"]]
        if layers:
            layer = layers[0]
            renderer = layer.renderer()
            note("result loaded", layer_name=layer.name(),
                 paletted=isinstance(renderer, QgsPalettedRasterRenderer),
                 class_labels=[c.label for c in renderer.classes()] if isinstance(renderer, QgsPalettedRasterRenderer) else [],
                 seconds=time.monotonic() - state["started"])
            shot("log.png", state["dialog"])
            iface.setActiveLayer(layer)
            iface.mapCanvas().setExtent(layer.extent())
            iface.mapCanvas().refresh()
            QTimer.singleShot(2000, lambda: (shot("result.png"), finish()))
        elif time.monotonic() - state["started"] > spec["timeout"]:
            shot("timeout.png", state["dialog"])
            finish("no classified layer appeared in time")
        else:
            QTimer.singleShot(1000, wait)
    except Exception:
        finish(traceback.format_exc())


QTimer.singleShot(3000, start)
