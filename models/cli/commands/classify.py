"""classify: land-cover map of a raster with a trained segmenter (lrm:classify)."""

HELP = "classify a raster with a trained U-Net segmenter (sliding windows, blended)"


def add_arguments(parser):
    parser.add_argument("--input", required=True, metavar="PATH", help="raster to classify")
    parser.add_argument("--model", required=True, metavar="PATH",
                        help="segmenter model file (.safetensors) from train-segmenter")
    parser.add_argument("--overlap", type=int, default=64,
                        help="overlap of neighbouring windows in pixels (default 64)")
    parser.add_argument("--window", type=int, default=0,
                        help="window side in pixels (default 0: 512, smaller only for very wide "
                             "rasters, never below the model's patch size)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--output", required=True, metavar="PATH",
                        help="class raster to write (.tif); a .qml style is written next to it")
    parser.add_argument("--output-confidence", default=None, metavar="PATH",
                        help="optional float32 raster of the chosen class's probability (.tif)")


def run(args, reporter):
    from ...segmentation.predict import classify_raster

    return classify_raster(args.input, args.model, args.output, args.output_confidence or None,
                           overlap=args.overlap, batch_size=args.batch_size, device=args.device,
                           reporter=reporter, window=args.window or None)
