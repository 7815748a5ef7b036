"""train-segmenter: train a U-Net on image/label raster pairs (lrm:train_segmenter)."""

from ... import contract

HELP = "train a U-Net land-cover segmenter on image/label raster pairs"


def add_arguments(parser):
    parser.add_argument("--images", action="append", required=True, metavar="PATH",
                        help="training image raster (repeat for several)")
    parser.add_argument("--labels", action="append", required=True, metavar="PATH",
                        help="label raster of the image at the same position (repeat)")
    parser.add_argument("--label-format", default="index",
                        help="index (0: class indices in one band) or color (1: RGB colours)")
    parser.add_argument("--classes", default=None,
                        help="class table: text 'index name r,g,b; ...' or a CSV/QML file "
                             "(default: the six ISPRS classes)")
    parser.add_argument("--ignore-value", type=int, default=255,
                        help="label value left out of the loss and metrics (default 255)")
    parser.add_argument("--bands", default="1,2,3", help="image bands to use (default 1,2,3)")
    parser.add_argument("--encoder", default=contract.ENCODER, help=f"smp encoder (default {contract.ENCODER})")
    parser.add_argument("--encoder-weights", default=None, metavar="PATH",
                        help="ImageNet weights file of the encoder (.safetensors or .pth)")
    parser.add_argument("--patch-size", type=int, default=contract.PATCH_SIZE)
    parser.add_argument("--batch-size", type=int, default=contract.BATCH_SIZE)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--max-iterations", type=int, default=0, help="0 = no cap")
    parser.add_argument("--learning-rate", type=float, default=contract.LEARNING_RATE)
    parser.add_argument("--weight-decay", type=float, default=contract.WEIGHT_DECAY)
    parser.add_argument("--patience", type=int, default=10,
                        help="early stopping after this many epochs without a better "
                             "validation loss (0 = never)")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-workers", type=int, default=-1,
                        help="data-loading processes (-1: 0 on CPU, up to 4 on CUDA)")
    parser.add_argument("--output", required=True, metavar="PATH",
                        help="model file to write (.safetensors)")
    parser.add_argument("--output-html", default=None, metavar="PATH",
                        help="optional training report (.html): curves, per-class IoU, confusion matrix")


def run(args, reporter):
    from ...labels.classes import load_class_table
    from ...segmentation.train import TrainConfig, train_segmenter
    from ...training.report import check_report_path, report_or_warn, write_segmenter_report

    check_report_path(args.output_html)

    cfg = TrainConfig(
        images=args.images, labels=args.labels, output=args.output,
        classes=load_class_table(args.classes), label_format=args.label_format,
        ignore_value=args.ignore_value, bands=args.bands, encoder=args.encoder,
        encoder_weights=args.encoder_weights or None, patch_size=args.patch_size,
        batch_size=args.batch_size, epochs=args.epochs, max_iterations=args.max_iterations,
        learning_rate=args.learning_rate, weight_decay=args.weight_decay,
        patience=args.patience, validation_fraction=args.validation_fraction,
        device=args.device, seed=args.seed, num_workers=args.num_workers)
    result = train_segmenter(cfg, reporter)
    if args.output_html:
        result["output_html"] = report_or_warn(reporter, write_segmenter_report, args.output_html,
                                               result["output"], result)
    return result
