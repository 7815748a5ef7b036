"""How much of the sample data's domain gap does per-band histogram matching recover?

    .venv/bin/python benchmarks/sample_shift_hm.py [--seeds 0,1,2] [--tiles 6] [--size 256]
                                                   [--shifts radiometric,sensor_season]

For each shift (``--shift`` of create-sample-data) and seed, the tiles of the sample data
are generated in memory (the same pixels the command writes) and the Gaussian pixel
classifier of ``models/sample_data/shift.py`` is trained on

  (a) the source tiles (no adaptation, the lower bound),
  (b) the source tiles histogram-matched per band to ONE target tile (tile 0), with the
      project's own method (``models/translation/methods/histogram_matching.py``: the lookup table
      from the histogram of every source pixel to the one-shot target values, applied
      like ``lrm:translate`` does, rounded and clipped to uint8),
  (c) the target tiles (the upper bound: the target is learnable),

always on the even-numbered tiles, and scored on the held-out odd-numbered target tiles
(``measure_domain_shift``). "recovered" is the share of the gap that matching closes:
(b - a) / (c - a), on overall accuracy and on mIoU. numpy/scipy/GDAL only, no torch;
about 10 s per shift and seed on one core.
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from models.translation.methods.histogram_matching import HistogramTranslator, matching_table  # noqa: E402
from models.sample_data import SHIFTS, domains, generate_tile  # noqa: E402
from models.sample_data.shift import measure_domain_shift  # noqa: E402

METRICS = (("overall_accuracy", "OA"), ("miou", "mIoU"))


def histogram_match(source_images, one_shot):
    """The project's histogram matching, fitted on ``source_images``, applied to each."""
    bands = list(range(1, one_shot.shape[0] + 1))
    tables = []
    for c in range(len(bands)):
        values, counts = np.unique(np.concatenate([img[c].ravel() for img in source_images]),
                                   return_counts=True)
        tables.append(matching_table((values.astype(np.float64), counts),
                                     one_shot[c].ravel().astype(np.float64)))
    length = max(len(v) for v, _ in tables)
    source_values = np.stack([np.pad(v, (0, length - len(v)), mode="edge") for v, _ in tables])
    mapped_values = np.stack([np.pad(m, (0, length - len(m)), mode="edge") for _, m in tables])
    translator = HistogramTranslator(bands, source_values, mapped_values, [len(v) for v, _ in tables])
    out = translator.translate(np.stack(source_images))
    return list(np.clip(np.rint(out), 0, 255).astype(np.uint8))


def measure(shift, seed, tiles=6, size=256):
    """{'a': scores, 'b': scores, 'c': scores} of one shift and seed."""
    pairs = {}
    for d, style in enumerate(domains(shift)):
        pairs[style.name] = [generate_tile(style, style.pixel_size, size, seed, d, i)[:2]
                             for i in range(tiles)]
    source, target = pairs["source"], pairs["target"]
    matched = histogram_match([img for img, _ in source], target[0][0])
    plain = measure_domain_shift(source, target, seed=seed)
    hm = measure_domain_shift(list(zip(matched, [lab for _, lab in source])), target, seed=seed)
    return {"a": plain["source_on_target"], "b": hm["source_on_target"],
            "c": plain["target_on_target"]}


def recovered(scores, metric):
    a, b, c = (scores[k][metric] for k in "abc")
    return 100.0 * (b - a) / (c - a)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tiles", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--shifts", default=",".join(SHIFTS))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    print("OA / mIoU in percent on held-out target tiles; recovered = (b - a) / (c - a)")
    print("shift          seed  (a) source     (b) hist-matched  (c) target     recovered OA / mIoU")
    summary = []
    for shift in args.shifts.split(","):
        runs = []
        for seed in seeds:
            s = measure(shift, seed, args.tiles, args.size)
            runs.append(s)
            cells = ["%5.1f / %4.1f" % tuple(s[k][m] for m, _ in METRICS) for k in "abc"]
            print("%-14s %4d  %s   %s      %s   %5.1f / %5.1f" % (
                shift, seed, *cells, *(recovered(s, m) for m, _ in METRICS)))
        mean = {k: {m: float(np.mean([r[k][m] for r in runs])) for m, _ in METRICS} for k in "abc"}
        summary.append((shift, mean))
    print("\nmean over seeds %s:" % args.seeds)
    print("| shift | (a) source | (b) hist-matched | (c) target | recovered OA | recovered mIoU |")
    print("|---|---|---|---|---|---|")
    for shift, mean in summary:
        cells = ["%.1f / %.1f" % tuple(mean[k][m] for m, _ in METRICS) for k in "abc"]
        print("| %s | %s | %s | %s | %.0f %% | %.0f %% |" % (
            shift, *cells, *(recovered(mean, m) for m, _ in METRICS)))


if __name__ == "__main__":
    main()
