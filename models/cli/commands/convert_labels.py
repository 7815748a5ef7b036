"""convert-labels: colour-coded labels <-> class indices (lrm:convert_labels)."""

from ..flags import add_contract_flags

HELP = "convert colour-coded label rasters to class indices and back"


def add_arguments(parser):
    add_contract_flags(parser, "convert-labels")


def run(args, reporter):
    from ...labels.conversion import convert_labels, parse_direction
    from ...labels.rasters import resolve_class_table

    direction = parse_direction(args.direction)
    embedded_in = args.input if direction == "to-color" else None
    classes = resolve_class_table(args.classes, embedded_in, reporter)
    return convert_labels(args.input, args.output, direction, classes, args.ignore_value, reporter)
