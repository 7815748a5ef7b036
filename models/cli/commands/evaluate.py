"""evaluate: score a class raster against reference labels (lrm:evaluate)."""

from ..flags import add_contract_flags

HELP = "score a class raster against reference labels (IoU, F1, accuracy; CSV and HTML)"


def add_arguments(parser):
    add_contract_flags(parser, "evaluate")


def _check_extension(path, extensions, what):
    from ...errors import LrmError

    if path and not path.lower().endswith(extensions):
        raise LrmError(f"{what} {path} must end with {' or '.join(extensions)}.")


def run(args, reporter):
    from ...evaluation.scoring import evaluate_rasters, scores_summary, write_table
    from ...labels.rasters import parse_label_format, resolve_class_table

    _check_extension(args.output_table, (".csv",), "OUTPUT_TABLE")
    _check_extension(args.output_html, (".html", ".htm"), "OUTPUT_HTML")
    classes = resolve_class_table(args.classes, args.prediction, reporter)
    scores = evaluate_rasters(args.prediction, args.reference, classes,
                              parse_label_format(args.label_format), args.ignore_value, reporter)
    reporter.info(scores_summary(scores))
    for c in scores["per_class"]:
        if c["present"]:
            reporter.info(f"  {c['name']}: IoU {c['iou']:.2f}%, F1 {c['f1']:.2f}%")
    if args.output_table:
        write_table(args.output_table, scores)
    if args.output_html:
        from ...evaluation.report_html import write_html

        write_html(args.output_html, scores, args.prediction, args.reference, classes)
    for name in ("miou", "mean_f1", "overall_accuracy"):
        reporter.metric(name, scores[name])
    scores["output_table"] = args.output_table or None
    scores["output_html"] = args.output_html or None
    return scores
