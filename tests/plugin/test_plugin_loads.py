"""The plugin loads in a real QGIS and registers its Processing provider."""

import configparser
import os

from qgis.core import QgsApplication

from conftest import ROOT

EXPECTED_ALGORITHMS = {"check_environment", "create_sample_data", "train_translator", "translate",
                       "train_segmenter", "classify", "evaluate", "convert_labels", "export_segmenter",
                       "adapt", "lrm_pipeline", "install_backend"}


def test_metadata_declares_a_processing_provider():
    meta = configparser.ConfigParser()
    meta.read(os.path.join(ROOT, "metadata.txt"))
    general = meta["general"]
    assert general["name"] == "LRM Adapt"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert os.path.isfile(os.path.join(ROOT, general["icon"]))
    assert len(general["description"]) > 40 and len(general["about"]) > 200


def test_plugin_registers_provider_with_algorithms(plugin):
    provider = QgsApplication.processingRegistry().providerById("lrm")
    assert provider is not None and provider.name() == "LRM Adapt"
    names = {alg.name() for alg in provider.algorithms()}
    assert names == EXPECTED_ALGORITHMS  # every algorithm, the shipped model included
    for alg in provider.algorithms():
        assert alg.shortHelpString().strip(), f"{alg.id()} has no help"
        assert alg.displayName() and alg.group()
        assert not alg.icon().isNull()


def test_unload_removes_the_provider(plugin_package, qgis_iface, qgis_processing):
    instance = plugin_package.classFactory(qgis_iface)
    instance.initProcessing()  # what qgis_process calls: no GUI needed
    assert QgsApplication.processingRegistry().providerById("lrm") is not None
    instance.unload()
    assert QgsApplication.processingRegistry().providerById("lrm") is None


def test_python_interpreter_setting_is_registered(plugin):
    from processing.core.ProcessingConfig import ProcessingConfig

    assert "LRM_PYTHON_INTERPRETER" in ProcessingConfig.settings
    assert ProcessingConfig.settings["LRM_PYTHON_INTERPRETER"].description == "Python interpreter with PyTorch"
