"""train-segmenter: train a U-Net on image/label raster pairs (lrm:train_segmenter)."""

from ..flags import add_contract_flags

HELP = "train a U-Net land-cover segmenter on image/label raster pairs"


def add_arguments(parser):
    add_contract_flags(parser, "train-segmenter")
    parser.add_argument("--num-workers", type=int, default=-1,
                        help="data-loading processes (-1: 0 on CPU, up to 4 on CUDA)")


def run(args, reporter):
    from ...labels.classes import load_class_table
    from ...runtime.rank_launcher import launched_rank
    from ...segmentation.config import TrainConfig
    from ...segmentation.train import train_segmenter
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
    if args.output_html and not launched_rank():  # rank 0 (or a single run) writes it
        result["output_html"] = report_or_warn(reporter, write_segmenter_report, args.output_html,
                                               result["output"], result)
    return result
