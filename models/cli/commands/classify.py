"""classify: land-cover map of a raster with a trained segmenter (lrm:classify)."""

from ..flags import add_contract_flags

HELP = "classify a raster with a trained U-Net segmenter (sliding windows, blended)"


def add_arguments(parser):
    add_contract_flags(parser, "classify")
    parser.add_argument("--window", type=int, default=0,
                        help="window side in pixels (default 0: 512, smaller only for very wide "
                             "rasters, never below the model's patch size)")


def run(args, reporter):
    from ...segmentation.predict import classify_raster

    return classify_raster(args.input, args.model, args.output, args.output_confidence or None,
                           overlap=args.overlap, batch_size=args.batch_size, device=args.device,
                           reporter=reporter, window=args.window or None)
