"""train-translator: train a one-shot translator (LRM by default) and save its model file."""

HELP = "train a one-shot image-to-image translator (SOURCE -> style of one TARGET patch)"


def add_arguments(parser):
    from ... import contract
    from ...translation.config import TranslatorConfig

    d = TranslatorConfig()
    a = parser.add_argument
    a("--source", action="append", required=True, metavar="PATH",
      help="source raster (repeat for several)")
    a("--target", required=True, metavar="PATH", help="target raster holding the one-shot sample")
    a("--target-extent", default=None, metavar="XMIN,YMIN,XMAX,YMAX",
      help="area of TARGET (in its CRS) to take the one-shot patch from; default: automatic")
    a("--bands", default=None, help="1-based bands, e.g. 1,2,3 (default: the first three)")
    a("--patch-size", type=int, default=d.patch_size)
    a("--batch-size", type=int, default=d.batch_size)
    a("--epochs", type=int, default=d.epochs)
    a("--max-iterations", type=int, default=d.max_iterations, help="0 = no cap")
    a("--learning-rate", type=float, default=d.learning_rate)
    a("--weight-decay", type=float, default=d.weight_decay)
    a("--lambda-rec", type=float, default=d.lambda_rec)
    a("--lambda-adv", type=float, default=d.lambda_adv)
    a("--lambda-content", type=float, default=d.lambda_content)
    a("--lambda-style", type=float, default=d.lambda_style)
    a("--patience", type=int, default=d.patience, help="early-stopping patience in epochs; 0 = off")
    a("--vgg-weights", default=None, metavar="PATH", help="VGG19 ImageNet weights file")
    a("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    a("--seed", type=int, default=d.seed)
    a("--method", default=d.method, choices=contract.METHODS, help="translation method")
    a("--fda-beta", type=float, default=d.fda_beta, help="FDA low-frequency band size")
    a("--perceptual-loss", default=d.perceptual_loss, choices=contract.PERCEPTUAL_LOSSES,
      help="LRM loss family: auto (VGG19 losses when ImageNet weights load, else weight_free), "
           "vgg19_imagenet, weight_free, vgg19_random")
    a("--style-mixing", default=None, choices=contract.STYLE_MIXINGS,
      help="LRM style half: spatial (published) or global (averaged over space); "
           "default: global for weight_free, spatial for the VGG19 losses")
    a("--one-shot-size", type=int, default=d.one_shot_size,
      help="side of the one-shot target sample in pixels (largest square that fits when "
           "smaller; 0 = patch size)")
    a("--output", required=True, metavar="PATH", help="model file to write (.safetensors)")
    a("--output-html", default=None, metavar="PATH",
      help="optional training report (.html): loss curves, before/after pictures")


def run(args, reporter):
    from ...translation.config import TranslatorConfig
    from ...translation.registry import get_method

    from ...training.report import check_report_path, report_or_warn, write_translator_report

    check_report_path(args.output_html)
    config = TranslatorConfig.from_args(args).validate()
    method = get_method(config.method)
    result = method.train(config, reporter)
    if args.output_html:
        result["output_html"] = report_or_warn(
            reporter, write_translator_report, args.output_html, result["output"],
            list(config.sources), result)
    return result
