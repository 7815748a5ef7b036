"""translate: apply a trained translator to a raster of any size, or to many.

One raster: --input and --output. Several: --inputs (repeated) and/or --input-folder with
--output-folder, on one --device or spread over a list (cuda:0,1, cuda:all, cpu:N); see
models/raster/batch_inference.py and docs/sharded_inference.md.
"""

from ..flags import add_contract_flags

HELP = "translate rasters with a trained translator model (windowed, any size; batches)"


def add_arguments(parser):
    add_contract_flags(parser, "translate")
    parser.add_argument("--window", type=int, default=0,
                        help="window size in pixels (0 = the model's patch size)")


def run(args, reporter):
    from ...raster.batch_inference import run_inference
    from ...translation.apply import translate_raster

    options = dict(model_path=args.model, overlap=args.overlap, batch_size=args.batch_size,
                   window=args.window or None)
    return run_inference(args, translate_raster, options, reporter)
