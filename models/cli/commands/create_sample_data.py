"""create-sample-data: the embedded synthetic source/target data set (numpy/scipy/GDAL only)."""

from ...sample_data import create_sample_data
from ...sample_data.render import SOURCE, TARGET
from ..flags import add_contract_flags

HELP = "write a synthetic source and target domain of IR-R-G tiles with ISPRS labels"


def add_arguments(parser):
    add_contract_flags(parser, "create-sample-data")
    parser.add_argument("--source-pixel-size", type=float, default=SOURCE.pixel_size,
                        help=f"source pixel size in metres (default {SOURCE.pixel_size})")
    parser.add_argument("--target-pixel-size", type=float, default=None,
                        help=f"target pixel size in metres (default {TARGET.pixel_size}; "
                             f"0.05 with --shift sensor_season)")
    parser.add_argument("--skip-shift-check", action="store_true",
                        help="do not measure the domain shift with a pixel classifier")


def run(args, reporter):
    return create_sample_data(args.output_folder, tiles=args.tiles, size=args.size, seed=args.seed,
                              reporter=reporter, source_pixel_size=args.source_pixel_size,
                              target_pixel_size=args.target_pixel_size,
                              measure_shift=not args.skip_shift_check, shift=args.shift)
