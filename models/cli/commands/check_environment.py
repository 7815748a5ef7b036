"""check-environment: what this worker interpreter can do (works without torch)."""

import importlib
import platform
import sys

from ... import contract

HELP = ("report Python, PyTorch, CUDA/GPU, GDAL and pretrained-weights availability, and "
        "what PERCEPTUAL_LOSS auto will use")


def add_arguments(parser):
    parser.add_argument("--encoder", default=contract.ENCODER,
                        help=f"smp encoder whose ImageNet weights to look for (default {contract.ENCODER})")


def _version(module_name):
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return getattr(module, "__version__", "unknown"), None


def _torch_devices():
    """What torch sees: its CUDA build, CPU threads, and every GPU with its memory."""
    import torch

    found = {"torch_cuda_build": torch.version.cuda, "cpu_threads": torch.get_num_threads(),
             "cuda_available": bool(torch.cuda.is_available()), "gpus": []}
    if found["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            found["gpus"].append({"index": i, "name": props.name,
                                  "memory_gib": round(props.total_memory / 2**30, 2),
                                  "capability": f"{props.major}.{props.minor}"})
        found["device_name"] = found["gpus"][0]["name"]
    else:
        found["device_name"] = (f"CPU ({platform.processor() or platform.machine()}, "
                                f"{torch.get_num_threads()} threads)")
    return found


def run(args, reporter):
    from ... import __version__
    from ...runtime.dependencies import install_command, plugin_root

    report = {
        "lrm_backend_version": __version__,
        "python_executable": sys.executable,
        "python_version": sys.version.split()[0],
        "platform": platform.platform(),
        "plugin_root": plugin_root(),
        "problems": [],
    }
    for key, module in (("torch", "torch"), ("torchvision", "torchvision"),
                        ("segmentation_models_pytorch", "segmentation_models_pytorch"),
                        ("safetensors", "safetensors"), ("numpy", "numpy"), ("gdal", "osgeo.gdal")):
        version, error = _version(module)
        report[f"{key}_version"] = version
        if error:
            report["problems"].append(f"cannot import {module}: {error}")
    if report["numpy_version"] and not report["numpy_version"].startswith("1."):
        report["problems"].append(f"numpy {report['numpy_version']}: GDAL/QGIS bindings built for numpy 1.x may fail")

    report["cuda_available"] = False
    report["gpus"] = []
    report["device_name"] = "cpu"
    if report["torch_version"]:
        report.update(_torch_devices())
        from ...runtime.pretrained import find_vgg19_weights
        path, searched = find_vgg19_weights()
        report["vgg19_weights"] = {"available": path is not None, "path": path, "searched": searched}
        try:  # what PERCEPTUAL_LOSS auto will train with here, and why
            from ...translation.methods.lrm.perceptual import describe_auto_choice
            report["perceptual_loss_auto"] = describe_auto_choice()
        except Exception as exc:
            report["problems"].append(f"cannot tell what PERCEPTUAL_LOSS auto will use: "
                                      f"{type(exc).__name__}: {exc}")
    if report["segmentation_models_pytorch_version"]:
        from ...runtime.pretrained import find_smp_encoder_weights
        path, searched = find_smp_encoder_weights(args.encoder)
        report["encoder_weights"] = {"encoder": args.encoder, "available": path is not None,
                                     "path": path, "searched": searched}
    if report["problems"]:
        report["install_command"] = install_command()
        for p in report["problems"]:
            reporter.warning(p)
    reporter.info(f"Python {report['python_version']} at {sys.executable}; torch "
                  f"{report['torch_version']}; CUDA available: {report['cuda_available']}")
    return report
