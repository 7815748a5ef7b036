"""classify: land-cover map of a raster, or of many, with a trained segmenter (lrm:classify).

One raster: --input and --output. Several: --inputs (repeated) and/or --input-folder with
--output-folder, on one --device or spread over a list (cuda:0,1, cuda:all, cpu:N); see
models/raster/batch_inference.py and docs/sharded_inference.md.
"""

from ..flags import add_contract_flags

HELP = "classify rasters with a trained U-Net segmenter (sliding windows, blended; batches)"


def add_arguments(parser):
    add_contract_flags(parser, "classify")
    parser.add_argument("--window", type=int, default=0,
                        help="window side in pixels (default 0: 512, smaller only for very wide "
                             "rasters, never below the model's patch size)")


def run(args, reporter):
    from ...raster.batch_inference import run_inference
    from ...segmentation.predict import classify_raster

    options = dict(model_path=args.model, overlap=args.overlap, batch_size=args.batch_size,
                   window=args.window or None)
    return run_inference(args, classify_raster, options, reporter,
                         outputs=(("output", ""), ("output_confidence", "_confidence")))
