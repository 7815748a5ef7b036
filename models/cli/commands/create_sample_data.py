"""create-sample-data: the embedded synthetic source/target data set (numpy/scipy/GDAL only)."""

from ...sample_data import SHIFTS, create_sample_data
from ...sample_data.render import SOURCE, TARGET

HELP = "write a synthetic source and target domain of IR-R-G tiles with ISPRS labels"


def add_arguments(parser):
    parser.add_argument("--output-folder", required=True,
                        help="folder to write source/ and target/ into (created if missing)")
    parser.add_argument("--tiles", type=int, default=6,
                        help="tiles per domain (default 6)")
    parser.add_argument("--size", type=int, default=256,
                        help="pixels per tile side, 64-1024 (default 256)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed; the same seed and arguments give the same files (default 0)")
    parser.add_argument("--source-pixel-size", type=float, default=SOURCE.pixel_size,
                        help=f"source pixel size in metres (default {SOURCE.pixel_size})")
    parser.add_argument("--target-pixel-size", type=float, default=None,
                        help=f"target pixel size in metres (default {TARGET.pixel_size}; "
                             f"0.05 with --shift sensor_season)")
    parser.add_argument("--skip-shift-check", action="store_true",
                        help="do not measure the domain shift with a pixel classifier")
    parser.add_argument("--shift", choices=SHIFTS, default=SHIFTS[0],
                        help="the target domain: radiometric (default; colours per class, mostly "
                             "undone by per-band histogram matching) or sensor_season (season "
                             "change per class, band mixing, 5 cm; histogram matching recovers "
                             "little of it)")


def run(args, reporter):
    return create_sample_data(args.output_folder, tiles=args.tiles, size=args.size, seed=args.seed,
                              reporter=reporter, source_pixel_size=args.source_pixel_size,
                              target_pixel_size=args.target_pixel_size,
                              measure_shift=not args.skip_shift_check, shift=args.shift)
