"""export-segmenter: a segmenter as an ONNX model for Deepness (lrm:export_segmenter)."""

from ..flags import add_contract_flags

HELP = "export a trained segmenter to ONNX with the metadata the Deepness plugin reads"


def add_arguments(parser):
    add_contract_flags(parser, "export-segmenter")


def run(args, reporter):
    from ...errors import MissingDependencyError

    try:
        import onnx  # noqa: F401
    except ImportError:
        from ...runtime.dependencies import install_command

        raise MissingDependencyError(
            "Exporting to ONNX needs the 'onnx' package in the worker's Python. Install the "
            f"backend requirements with:\n  {install_command()}") from None
    from ...segmentation.export_onnx import export_segmenter

    return export_segmenter(args.model, args.output, args.tile_size, args.resolution_cm,
                            args.overlap_percent, reporter)
