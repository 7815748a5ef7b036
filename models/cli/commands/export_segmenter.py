"""export-segmenter: a segmenter as an ONNX model for Deepness (lrm:export_segmenter)."""

HELP = "export a trained segmenter to ONNX with the metadata the Deepness plugin reads"


def add_arguments(parser):
    parser.add_argument("--model", required=True, metavar="PATH",
                        help="segmenter model file (.safetensors) from train-segmenter")
    parser.add_argument("--output", required=True, metavar="PATH", help="ONNX file to write (.onnx)")
    parser.add_argument("--tile-size", type=int, default=0,
                        help="tile side in pixels (default 0: the model's patch size)")
    parser.add_argument("--resolution-cm", type=float, default=None,
                        help="pixel size in cm for Deepness (default: from the training images)")
    parser.add_argument("--overlap-percent", type=int, default=15,
                        help="overlap of neighbouring tiles in Deepness, percent (default 15)")


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
