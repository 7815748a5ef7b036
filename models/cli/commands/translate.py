"""translate: apply a trained translator to a raster of any size."""

HELP = "translate a raster with a trained translator model (windowed, any size)"


def add_arguments(parser):
    a = parser.add_argument
    a("--input", required=True, metavar="PATH", help="raster to translate")
    a("--model", required=True, metavar="PATH", help="translator model file")
    a("--overlap", type=int, default=64,
      help="overlap of neighbouring windows in pixels (halved, with a warning, when not "
           "smaller than the window)")
    a("--batch-size", type=int, default=4, help="windows translated together")
    a("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    a("--window", type=int, default=0,
      help="window size in pixels (0 = the model's patch size)")
    a("--output", required=True, metavar="PATH", help="translated GeoTIFF (.tif)")


def run(args, reporter):
    from ...translation.apply import translate_raster

    return translate_raster(args.input, args.model, args.output, overlap=args.overlap,
                            batch_size=args.batch_size, device=args.device,
                            window=args.window or None, reporter=reporter)
