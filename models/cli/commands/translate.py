"""translate: apply a trained translator to a raster of any size."""

from ..flags import add_contract_flags

HELP = "translate a raster with a trained translator model (windowed, any size)"


def add_arguments(parser):
    add_contract_flags(parser, "translate")
    parser.add_argument("--window", type=int, default=0,
                        help="window size in pixels (0 = the model's patch size)")


def run(args, reporter):
    from ...translation.apply import translate_raster

    return translate_raster(args.input, args.model, args.output, overlap=args.overlap,
                            batch_size=args.batch_size, device=args.device,
                            window=args.window or None, reporter=reporter)
