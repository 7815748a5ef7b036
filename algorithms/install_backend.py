"""lrm:install_backend -- set up the PyTorch worker's Python from inside QGIS (no shell)."""

from qgis.core import (QgsProcessingException, QgsProcessingOutputString, QgsProcessingParameterEnum,
                       QgsProcessingParameterFile, QgsProcessingParameterFolderDestination)

from . import backend_installer as bi
from . import parameters as P
from .base import GROUP_TOOLS, LrmAlgorithm
from .qgis_compat import FILE_BEHAVIOUR_FILE, FILE_BEHAVIOUR_FOLDER


class InstallBackend(LrmAlgorithm):
    NAME = "install_backend"
    DISPLAY_NAME = "Install PyTorch backend"
    GROUP = GROUP_TOOLS
    HELP = (
        "Creates a Python virtual environment for the PyTorch worker and installs the pinned "
        "requirements into it (PyTorch, torchvision, segmentation-models-pytorch, "
        "safetensors, onnx), then runs the check of 'Check environment' with it and, if it "
        "passes, makes it the worker interpreter (Processing options > Providers > LRM Adapt). "
        "A failed or cancelled install leaves the setting unchanged and removes what it "
        "created. The download is about 1 GB (CPU) or 3 GB (CUDA).\n\n"
        "PYTHON: the base interpreter (empty: QGIS's own where it can make virtual "
        "environments, else python3); the new environment sees its packages, so GDAL and "
        "numpy come from it. TARGET_FOLDER: where the environment goes (empty: the QGIS "
        "profile folder). VARIANT: auto (CUDA build when an NVIDIA driver is present, else "
        "CPU), cpu or cuda. WHEELHOUSE: a folder of wheels for offline sites; nothing is "
        "then fetched from the network (pip download -r requirements.txt -d FOLDER makes one "
        "on a connected machine with the same OS and Python).")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(
            "PYTHON", "Base Python interpreter (empty: QGIS's own, else python3)",
            FILE_BEHAVIOUR_FILE, optional=True,
            fileFilter="All files (*)"))  # the default filter (*.*) rejects bin/python3
        self.addParameter(QgsProcessingParameterFolderDestination(
            "TARGET_FOLDER", "Folder of the new environment (empty: in the QGIS profile)",
            optional=True, createByDefault=False))
        self.addParameter(QgsProcessingParameterEnum(
            "VARIANT", "PyTorch build", bi.VARIANTS, defaultValue=0))
        self.addParameter(QgsProcessingParameterFile(
            "WHEELHOUSE", "Folder of wheels (offline install; empty: download)",
            FILE_BEHAVIOUR_FOLDER, optional=True))
        self.addOutput(QgsProcessingOutputString("PYTHON_INSTALLED", "Worker interpreter installed"))
        self.addOutput(QgsProcessingOutputString("TORCH_VERSION", "PyTorch version"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        target = "" if P.is_unset(parameters, "TARGET_FOLDER") else \
            self.parameterAsString(parameters, "TARGET_FOLDER", context).strip()
        installer = bi.BackendInstaller(
            target or bi.default_target_folder(),
            base_python=self.parameterAsFile(parameters, "PYTHON", context).strip() or None,
            variant=bi.VARIANTS[self.parameterAsEnum(parameters, "VARIANT", context)],
            wheelhouse=self.parameterAsFile(parameters, "WHEELHOUSE", context).strip() or None,
            log=feedback.pushConsoleInfo if hasattr(feedback, "pushConsoleInfo") else feedback.pushInfo,
            progress=feedback.setProgress, cancelled=feedback.isCanceled)
        try:
            python, report = installer.run()
        except bi.InstallError as exc:
            raise QgsProcessingException(str(exc)) from None
        bi.store_interpreter(python)
        feedback.pushInfo(f"The worker interpreter is now {python} (Processing options > "
                          f"Providers > LRM Adapt).")
        return {"PYTHON_INSTALLED": python, "TORCH_VERSION": report.get("torch_version") or ""}
