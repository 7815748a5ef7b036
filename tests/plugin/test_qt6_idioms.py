"""Guards the Qt5-only idioms that stop a plugin loading in QGIS 4 (Qt6, PyQt6, sip6).

QGIS 4 cannot be installed on Debian 12, so this static check over every module QGIS
imports (the plugin entry, lrm_plugin/, algorithms/) is what stands between the code and
a plugin that fails to load there:
- Qt is imported through ``qgis.PyQt`` only (PyQt5/PyQt6/sip imports break on the other Qt);
- no ``exec_()`` (gone in PyQt6);
- no unscoped Qt enum values (``Qt.AlignLeft``: PyQt6 needs ``Qt.AlignmentFlag.AlignLeft``);
- QGIS enums that moved to ``Qgis`` are spelled only in algorithms/qgis_compat.py.
"""

import ast
import os

from conftest import ROOT

QT_MODULE_PREFIXES = ("PyQt5", "PyQt6", "sip", "PySide2", "PySide6")
# QGIS enums that QGIS 3.30-3.36 moved to scoped enums on Qgis (QGIS 4 drops these names).
MOVED_QGIS_ENUMS = {
    "QgsProcessingParameterNumber": {"Integer", "Double"},
    "QgsProcessingParameterFile": {"File", "Folder"},
    "QgsProcessing": {"TypeRaster", "TypeMapLayer", "TypeVector", "TypeVectorAnyGeometry",
                      "TypeVectorPoint", "TypeVectorLine", "TypeVectorPolygon", "TypeFile"},
    "QgsProcessingParameterDefinition": {"FlagAdvanced", "FlagHidden", "FlagOptional"},
    "QgsProcessingAlgorithm": {"FlagNoThreading", "FlagCanCancel", "FlagHideFromToolbox"},
    "QgsMapLayerType": None,  # None: every member
    "Qgis": {"Info", "Warning", "Critical", "Success"},
}
COMPAT_MODULE = os.path.join("algorithms", "qgis_compat.py")


def plugin_modules():
    paths = [os.path.join(ROOT, "__init__.py")]
    for package in ("lrm_plugin", "algorithms"):
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            paths += [os.path.join(folder, f) for f in files if f.endswith(".py")]
    return sorted(paths)


def _qt_names(tree):
    """Names bound by ``from qgis.PyQt.<module> import ...`` (Qt classes and namespaces)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qgis.PyQt"):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def qt6_problems(source, relative_path="<snippet>"):
    """The Qt5-only idioms in ``source``, as 'path:line: what' strings."""
    tree = ast.parse(source)
    qt_names = _qt_names(tree)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    problems = []

    def report(node, what):
        problems.append(f"{relative_path}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in QT_MODULE_PREFIXES:
                    report(node, f"import {alias.name}: use qgis.PyQt")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in QT_MODULE_PREFIXES:
                report(node, f"from {node.module}: use qgis.PyQt")
        elif isinstance(node, ast.Attribute):
            if node.attr == "exec_":
                report(node, "exec_(): use exec()")
            if not isinstance(node.value, ast.Name):
                continue
            owner, member = node.value.id, node.attr
            chained = isinstance(parents.get(node), ast.Attribute)
            if owner in MOVED_QGIS_ENUMS and relative_path != COMPAT_MODULE:
                moved = MOVED_QGIS_ENUMS[owner]
                if moved is None or member in moved:
                    report(node, f"{owner}.{member} moved to Qgis: use algorithms/qgis_compat.py")
            elif (owner in qt_names and member[:1].isupper() and not chained
                  and not isinstance(parents.get(node), ast.Call)):
                report(node, f"{owner}.{member} looks like an unscoped Qt enum value "
                             f"(PyQt6 needs {owner}.<EnumType>.{member})")
    return problems


def test_no_qt5_only_idioms_in_the_modules_qgis_imports():
    problems = []
    for path in plugin_modules():
        with open(path, encoding="utf-8") as f:
            problems += qt6_problems(f.read(), os.path.relpath(path, ROOT))
    assert problems == [], "\n".join(problems)


def test_the_guard_catches_each_idiom():
    snippet = (
        "from PyQt5.QtCore import Qt as Qt5\n"
        "import sip\n"
        "from qgis.PyQt.QtCore import Qt\n"
        "from qgis.PyQt.QtWidgets import QMessageBox\n"
        "from qgis.core import QgsProcessingParameterNumber, QgsMapLayerType\n"
        "a = Qt.AlignLeft\n"
        "b = Qt.AlignmentFlag.AlignLeft\n"           # scoped: fine
        "c = QMessageBox.Yes\n"
        "d = QgsProcessingParameterNumber.Integer\n"
        "e = QgsMapLayerType.RasterLayer\n"
        "dialog.exec_()\n"
        "dialog.exec()\n")                            # fine
    problems = qt6_problems(snippet)
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [1, 2, 6, 8, 9, 10, 11], problems


def test_metadata_declares_qgis_3_and_4():
    with open(os.path.join(ROOT, "metadata.txt"), encoding="utf-8") as f:
        keys = dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)
    assert keys["qgisMinimumVersion"] == "3.22"
    assert keys["qgisMaximumVersion"].startswith("4.")
    # plugins.qgis.org now flags supportsQt6 as deprecated: qgisMaximumVersion >= 4 declares Qt6
    assert "supportsQt6" not in keys
