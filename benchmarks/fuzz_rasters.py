"""The raster fuzz of tests/backend/test_raster_fuzz.py, longer: N cases of every kind.

    .venv/bin/python benchmarks/fuzz_rasters.py --cases 300 [--seed S] [--kinds translate,classify]
        [--gans] [--out DIR] [--keep] [--threads 1]

Each case writes random rasters with GDAL (every data type, nodata none / a value / NaN /
one the type cannot hold / NaN pixels without nodata, 1-8 bands, 1x1 pixels and up,
north-up, south-up, rotated or no geotransform, UTM 32N / UTM 33N / WGS 84 / no CRS;
training and label rasters on the same grid or another) and runs one command of
``python -m models`` on them in this process. Printed: the cases per kind and what they
drew, the outcomes (worked / refused with a clear error / failed), the most frequent
refusal messages and every failure.
``--gans`` also trains and uses CycleGAN, ColorMapGAN, DualGAN and Benjdira et al.
Exit status 1 when a case failed.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "backend")]
os.environ.setdefault("LRM_OFFLINE", "1")  # no network probes for pretrained weights

from raster_fuzz_checks import FAILED, REFUSED, WORKED  # noqa: E402
from raster_fuzz_kinds import GANS, build_models  # noqa: E402
from raster_fuzz_suite import (KINDS, coverage_lines, describe_failures,  # noqa: E402
                               refusal_reasons, run_cases, tally)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="cases of every kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated, of {', '.join(KINDS)}")
    parser.add_argument("--gans", action="store_true", help="also the four GAN translators")
    parser.add_argument("--out", default=None, help="folder for the rasters (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep the rasters")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kind(s) {unknown}")

    import torch

    torch.set_num_threads(args.threads)
    folder = args.out or tempfile.mkdtemp(prefix="fuzz_rasters_")
    os.makedirs(folder, exist_ok=True)
    started = time.monotonic()
    models = build_models(os.path.join(folder, "models"), gans=GANS if args.gans else ())
    print(f"models: {', '.join(sorted(models))} ({time.monotonic() - started:.1f} s)", flush=True)
    outcomes, seconds = [], {}
    for kind in kinds:
        t0 = time.monotonic()
        kind_folder = os.path.join(folder, kind)
        os.makedirs(kind_folder, exist_ok=True)
        found, cover = run_cases(kind, args.cases, kind_folder, models, seed=args.seed,
                                 on_outcome=lambda o: o.outcome == FAILED and print(
                                     f"FAILED [{o.kind}] {o.case}", flush=True))
        outcomes += found
        seconds[kind] = time.monotonic() - t0
        counts = tally(found)[kind]
        print(f"\n{kind}: {len(found)} cases in {seconds[kind]:.1f} s -- worked "
              f"{counts[WORKED]}, refused with a clear error {counts[REFUSED]}, failed "
              f"{counts[FAILED]}")
        print("\n".join(coverage_lines(cover)))
        print("  most frequent refusals:")
        print("\n".join(f"    {n:>4} {text}" for n, text in refusal_reasons(found)), flush=True)
        if not args.keep:
            shutil.rmtree(kind_folder, ignore_errors=True)

    total = tally(outcomes)
    print(f"\n{'kind':<18}{'cases':>7}{'worked':>8}{'refused':>9}{'failed':>8}{'seconds':>9}")
    for kind in kinds:
        c = total[kind]
        print(f"{kind:<18}{sum(c.values()):>7}{c[WORKED]:>8}{c[REFUSED]:>9}{c[FAILED]:>8}"
              f"{seconds[kind]:>9.1f}")
    n_failed = sum(c[FAILED] for c in total.values())
    print(f"\n{len(outcomes)} cases, {n_failed} failed, {time.monotonic() - started:.0f} s in all "
          f"(seed {args.seed}, {args.threads} torch thread(s))")
    if n_failed:
        print("\nFailures:\n\n" + describe_failures(outcomes))
    if not args.keep and not args.out:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
