"""lrm:check_environment -- what the PyTorch worker can do, as a report users can attach."""

import html
import json

from osgeo import gdal
from qgis.core import (Qgis, QgsProcessingException, QgsProcessingOutputBoolean,
                       QgsProcessingOutputNumber, QgsProcessingOutputString)

from . import parameters as P
from .base import GROUP_TOOLS, LrmAlgorithm
from .interpreter import find_interpreter


class CheckEnvironment(LrmAlgorithm):
    NAME = "check_environment"
    DISPLAY_NAME = "Check environment"
    GROUP = GROUP_TOOLS
    HELP = (
        "Runs the PyTorch worker and reports the Python interpreter it uses, the versions of "
        "Python, PyTorch, torchvision, segmentation-models-pytorch, GDAL and QGIS, whether a "
        "CUDA GPU is usable (name and memory of each GPU), and whether pretrained VGG19 and "
        "ResNet-101 ImageNet weights are available locally (and where they are looked for).\n\n"
        "PERCEPTUAL_LOSS_AUTO: which losses 'Train translator' with PERCEPTUAL_LOSS auto will "
        "use on this machine: vgg19_imagenet when ImageNet VGG19 weights are found (or can be "
        "downloaded), otherwise weight_free; the report says why.\n\n"
        "Attach the HTML report to bug reports. If PyTorch is missing, the report gives the "
        "exact command to install it; the interpreter is chosen in Processing options > "
        "Providers > LRM Adapt ('Python interpreter with PyTorch') or with the LRM_PYTHON "
        "environment variable.")

    def initAlgorithm(self, config=None):  # noqa: N802
        P.add_contract_parameters(self)
        self.addOutput(QgsProcessingOutputString("TORCH_VERSION", "PyTorch version"))
        self.addOutput(QgsProcessingOutputBoolean("CUDA_AVAILABLE", "CUDA available"))
        self.addOutput(QgsProcessingOutputString("DEVICE_NAME", "Device name"))
        self.addOutput(QgsProcessingOutputNumber("GPU_COUNT", "Number of CUDA GPUs"))
        self.addOutput(QgsProcessingOutputString("PYTHON", "Worker Python interpreter"))
        self.addOutput(QgsProcessingOutputString("PERCEPTUAL_LOSS_AUTO", "What PERCEPTUAL_LOSS auto will use"))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        html_path = self.parameterAsFileOutput(parameters, "OUTPUT_HTML", context)
        try:
            interpreter = find_interpreter()
        except FileNotFoundError as exc:
            raise QgsProcessingException(str(exc)) from None
        report = self.run_backend("check-environment", [], feedback)
        report["interpreter_source"] = interpreter.source
        report["qgis_version"] = Qgis.QGIS_VERSION
        report["qgis_gdal_version"] = gdal.__version__
        for problem in report.get("problems", []):
            feedback.reportError(problem, fatalError=False)
        if report.get("install_command"):
            feedback.pushWarning("Install the missing packages with: " + report["install_command"])
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(render_report(report))
        torch_version = report.get("torch_version") or "not installed"
        feedback.pushInfo(f"Worker: {report.get('python_executable')} ({interpreter.source}); "
                          f"PyTorch {torch_version}; CUDA: {report.get('cuda_available')}; "
                          f"device: {report.get('device_name')}")
        auto = report.get("perceptual_loss_auto") or {}
        if auto:
            feedback.pushInfo(f"PERCEPTUAL_LOSS auto will use: {auto.get('choice')} — {auto.get('reason')}")
        return {"OUTPUT_HTML": html_path, "TORCH_VERSION": torch_version,
                "CUDA_AVAILABLE": bool(report.get("cuda_available")),
                "DEVICE_NAME": report.get("device_name") or "",
                "GPU_COUNT": len(report.get("gpus") or []),
                "PYTHON": report.get("python_executable") or interpreter.path,
                "PERCEPTUAL_LOSS_AUTO": auto.get("choice") or ""}


def render_report(report):
    def row(key, value):
        return f"<tr><th>{html.escape(key)}</th><td>{html.escape(str(value))}</td></tr>"

    rows = [row("QGIS", report.get("qgis_version")),
            row("Worker interpreter", f"{report.get('python_executable')} (from {report.get('interpreter_source')})"),
            row("Python", report.get("python_version")), row("Platform", report.get("platform")),
            row("PyTorch", report.get("torch_version") or "NOT INSTALLED"),
            row("PyTorch CUDA build", report.get("torch_cuda_build")),
            row("torchvision", report.get("torchvision_version")),
            row("segmentation-models-pytorch", report.get("segmentation_models_pytorch_version")),
            row("safetensors", report.get("safetensors_version")),
            row("numpy (worker)", report.get("numpy_version")),
            row("GDAL (worker / QGIS)", f"{report.get('gdal_version')} / {report.get('qgis_gdal_version')}"),
            row("CUDA available", report.get("cuda_available")),
            row("Device", report.get("device_name"))]
    for gpu in report.get("gpus") or []:
        rows.append(row(f"GPU {gpu['index']}", f"{gpu['name']}, {gpu['memory_gib']} GiB, "
                                               f"compute capability {gpu['capability']}"))
    for key, label in (("vgg19_weights", "VGG19 ImageNet weights"),
                       ("encoder_weights", "Encoder ImageNet weights")):
        info = report.get(key)
        if info:
            state = f"found at {info['path']}" if info.get("available") else "not found"
            rows.append(row(label, f"{state}; searched: {', '.join(info.get('searched') or [])}"))
    auto = report.get("perceptual_loss_auto")
    if auto:
        rows.append(row("PERCEPTUAL_LOSS auto will use", f"{auto.get('choice')} — {auto.get('reason')}"))
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in report.get("problems") or [])
    install = report.get("install_command")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>LRM Adapt environment</title>"
        "<style>body{font-family:sans-serif}th{text-align:left;padding-right:1em}"
        "td,th{border-bottom:1px solid #ddd;padding:3px}</style></head><body>"
        "<h1>LRM Adapt environment report</h1>"
        f"<table>{''.join(rows)}</table>"
        + (f"<h2>Problems</h2><ul>{problems}</ul>" if problems else "")
        + (f"<p>Install the missing packages with:<br><code>{html.escape(install)}</code></p>" if install else "")
        + "<h2>Raw report</h2><pre>" + html.escape(json.dumps(report, indent=2)) + "</pre></body></html>")
