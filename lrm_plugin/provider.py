"""The Processing provider: id ``lrm``, name "LRM Adapt"."""

import os

from qgis.core import QgsProcessingModelAlgorithm, QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..algorithms import ALGORITHMS
from ..algorithms.interpreter import SETTING_PYTHON, plugin_root


class LrmProvider(QgsProcessingProvider):
    def id(self):
        return "lrm"

    def name(self):
        return "LRM Adapt"

    def longName(self):  # noqa: N802
        return "LRM Adapt: one-shot domain adaptation for land-cover mapping"

    def icon(self):
        return QIcon(os.path.join(plugin_root(), "resources", "icon.svg"))

    def load(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting

            ProcessingConfig.settingIcons[self.name()] = self.icon()
            ProcessingConfig.addSetting(Setting(
                self.name(), SETTING_PYTHON, "Python interpreter with PyTorch", "",
                valuetype=Setting.FILE))
            ProcessingConfig.readSettings()
        except ImportError:  # Processing's Python plugin is not loaded: no settings page
            pass
        self.refreshAlgorithms()
        return True

    def unload(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig

            ProcessingConfig.removeSetting(SETTING_PYTHON)
        except (ImportError, KeyError):
            pass

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
        for model in shipped_models():
            self.addAlgorithm(model)


def shipped_models():
    """The graphical models in resources/models, offered in the toolbox (lrm:<model name>)."""
    folder = os.path.join(plugin_root(), "resources", "models")
    models = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".model3"):
            model = QgsProcessingModelAlgorithm()
            if model.fromFile(os.path.join(folder, name)):
                models.append(model)
    return models
