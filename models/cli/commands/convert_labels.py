"""convert-labels: colour-coded labels <-> class indices (lrm:convert_labels)."""

HELP = "convert colour-coded label rasters to class indices and back"


def add_arguments(parser):
    parser.add_argument("--input", required=True, metavar="PATH", help="label raster")
    parser.add_argument("--direction", default="to-index",
                        help="to-index (colours -> class indices, 0) or to-color (indices -> "
                             "colours, 1)")
    parser.add_argument("--classes", default=None,
                        help="class table (text, CSV or QML; default for to-color: the table embedded "
                             "in the index raster, else the six ISPRS classes)")
    parser.add_argument("--ignore-value", type=int, default=255,
                        help="index of ignored / nodata pixels (default 255)")
    parser.add_argument("--output", required=True, metavar="PATH", help="output raster (.tif)")


def run(args, reporter):
    from ...labels.conversion import convert_labels, parse_direction
    from ...labels.rasters import resolve_class_table

    direction = parse_direction(args.direction)
    embedded_in = args.input if direction == "to-color" else None
    classes = resolve_class_table(args.classes, embedded_in, reporter)
    return convert_labels(args.input, args.output, direction, classes, args.ignore_value, reporter)
